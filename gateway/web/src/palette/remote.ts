/**
 * Server-side search shared by the command palette and the header search box: debounced
 * (200 ms), cancelling the previous request, and turned into palette entries.
 */
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api';
import { navigate } from '../app/router';
import { searchEverything, type SearchHit, type SearchResponse } from './api';
import type { PaletteItem } from './search';

export const SEARCH_DEBOUNCE_MS = 200;

/** Where a hit leads in the console. */
export function hitTarget(hit: SearchHit): { path: string; params: Record<string, string | number> } {
  switch (hit.type) {
    case 'instance':
      return { path: '/instances', params: { focus: hit.id } };
    case 'pair':
      return { path: '/pairs', params: { focus: hit.id } };
    default: {
      // A mirror's title is `source → target`; the Mirrors tab filters by pair and source path.
      const source = hit.title.split(' → ')[0]?.trim() ?? '';
      const params: Record<string, string | number> = {};
      if (hit.instance_pair_id) params.pair = hit.instance_pair_id;
      if (source) params.search = source;
      params.focus = hit.id;
      return { path: '/mirrors', params };
    }
  }
}

const GROUPS: Record<string, string> = { instance: 'Instance', pair: 'Pair', mirror: 'Mirror' };

/** Palette entries of a search response: mirrors, then pairs, then instances. */
export function hitsToItems(response: SearchResponse, onRun: () => void): PaletteItem[] {
  const hits = [...(response.mirrors ?? []), ...(response.pairs ?? []), ...(response.instances ?? [])];
  return hits.map((hit) => ({
    id: `${hit.type}-${hit.id}`,
    group: GROUPS[hit.type] ?? hit.type,
    label: hit.title,
    detail: hit.subtitle ?? undefined,
    run: () => {
      onRun();
      const target = hitTarget(hit);
      navigate(target.path, target.params);
    },
  }));
}

export interface RemoteSearch {
  response: SearchResponse | null;
  /** The query the response answers (the box may have moved on). */
  answered: string;
  loading: boolean;
  error: string | null;
}

/** Searches `query` on the server after it has been stable for 200 ms (nothing when blank). */
export function useRemoteSearch(query: string, limit = 10): RemoteSearch {
  const [state, setState] = useState<RemoteSearch>({ response: null, answered: '', loading: false, error: null });
  useEffect(() => {
    const q = query.trim();
    if (!q) {
      setState({ response: null, answered: '', loading: false, error: null });
      return;
    }
    setState((s) => ({ ...s, loading: true }));
    const controller = new AbortController();
    const timer = setTimeout(() => {
      searchEverything(q, limit, controller.signal)
        .then((response) => setState({ response, answered: q, loading: false, error: null }))
        .catch((e: unknown) => {
          if (!controller.signal.aborted) setState({ response: null, answered: q, loading: false, error: describeError(e) });
        });
    }, SEARCH_DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [query, limit]);
  return state;
}
