/**
 * Hash routing (`#/pairs?focus=3`): works behind any static server, with or without an SPA
 * fallback, and keeps every page bookmarkable.
 */
import { useEffect, useState } from 'preact/hooks';
import { ROUTES, type RouteDef } from './routes';

export interface Location {
  route: RouteDef | null;
  path: string;
  params: URLSearchParams;
}

export function parseHash(hash: string): Location {
  const raw = hash.replace(/^#/, '') || '/';
  const [pathPart = '/', query = ''] = raw.split('?', 2);
  const path = `/${pathPart.replace(/^\/+|\/+$/g, '')}`;
  const route = ROUTES.find((r) => r.path === path) ?? null;
  return { route, path, params: new URLSearchParams(query) };
}

export function href(path: string, params?: Record<string, string | number>): string {
  const qs = params ? new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString() : '';
  return `#${path}${qs ? `?${qs}` : ''}`;
}

export function navigate(path: string, params?: Record<string, string | number>): void {
  const target = href(path, params);
  if (location.hash === target) {
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    location.hash = target;
  }
}

export function useLocation(): Location {
  const [loc, setLoc] = useState<Location>(() => parseHash(location.hash));
  useEffect(() => {
    const onChange = () => setLoc(parseHash(location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return loc;
}
