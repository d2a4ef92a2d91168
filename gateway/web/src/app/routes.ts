/** The console's pages. `planned` pages have a route but no nav entry yet. */
export type RouteId =
  | 'dashboard'
  | 'instances'
  | 'pairs'
  | 'mirrors'
  | 'jobs'
  | 'topology'
  | 'about'
  | 'help'
  | 'backup'
  | 'settings'
  | 'users';

export interface RouteDef {
  id: RouteId;
  path: string;
  label: string;
  /** Shown in the nav; planned pages are reachable by URL only. */
  nav: boolean;
  /** Only for administrators (once user management exists). */
  adminOnly?: boolean;
}

export const ROUTES: readonly RouteDef[] = [
  { id: 'dashboard', path: '/', label: 'Dashboard', nav: true },
  { id: 'instances', path: '/instances', label: 'Instances', nav: true },
  { id: 'pairs', path: '/pairs', label: 'Pairs', nav: true },
  { id: 'mirrors', path: '/mirrors', label: 'Mirrors', nav: true },
  { id: 'jobs', path: '/jobs', label: 'Jobs', nav: true },
  { id: 'topology', path: '/topology', label: 'Topology', nav: true },
  { id: 'about', path: '/about', label: 'About', nav: true },
  { id: 'help', path: '/help', label: 'Help', nav: true },
  { id: 'backup', path: '/backup', label: 'Backup', nav: false, adminOnly: true },
  { id: 'settings', path: '/settings', label: 'Settings', nav: false, adminOnly: true },
  { id: 'users', path: '/users', label: 'Users', nav: false, adminOnly: true },
];

export function routeById(id: RouteId): RouteDef {
  const route = ROUTES.find((r) => r.id === id);
  if (!route) throw new Error(`unknown route ${id}`);
  return route;
}
