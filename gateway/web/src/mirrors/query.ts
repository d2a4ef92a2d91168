/** Filters, sorting and paging of the mirror list, and their query strings. */
import type { Query } from '../api/client';
import type { TokenStatus } from './types';

export const PAGE_SIZES = [25, 50, 100, 200] as const;
export type PageSize = (typeof PAGE_SIZES)[number];

export const SORT_FIELDS = [
  { value: 'created_at', label: 'Created' },
  { value: 'updated_at', label: 'Updated' },
  { value: 'source_project_path', label: 'Source path' },
  { value: 'target_project_path', label: 'Target path' },
  { value: 'last_update_status', label: 'Sync status' },
] as const;
export type SortField = (typeof SORT_FIELDS)[number]['value'];

/** GitLab update statuses a mirror can report, plus `unknown` (never checked). */
export const STATUS_FILTERS = [
  { value: 'finished', label: 'Success' },
  { value: 'failed', label: 'Failed' },
  { value: 'started', label: 'Syncing' },
  { value: 'scheduled', label: 'Scheduled' },
  { value: 'none', label: 'Pending' },
  { value: 'unknown', label: 'Never checked' },
] as const;

export const TOKEN_FILTERS: { value: TokenStatus; label: string }[] = [
  { value: 'active', label: 'Active' },
  { value: 'expiring_soon', label: 'Expiring soon' },
  { value: 'expired', label: 'Expired' },
  { value: 'none', label: 'No token' },
];

export interface MirrorListState {
  pairId: number | null;
  status: string;
  /** `''` any, `'true'`, `'false'`. */
  enabled: '' | 'true' | 'false';
  tokenStatus: TokenStatus | '';
  search: string;
  /** Group path prefix, e.g. `acme/platform`. */
  group: string;
  orderBy: SortField;
  orderDir: 'asc' | 'desc';
  page: number;
  pageSize: PageSize;
}

export const DEFAULT_LIST_STATE: MirrorListState = {
  pairId: null,
  status: '',
  enabled: '',
  tokenStatus: '',
  search: '',
  group: '',
  orderBy: 'created_at',
  orderDir: 'desc',
  page: 1,
  pageSize: 50,
};

/** A group path as the API wants it: trimmed, no leading/trailing or doubled slashes. */
export function normalizeGroup(value: string): string {
  return value
    .split('/')
    .map((s) => s.trim())
    .filter(Boolean)
    .join('/');
}

/** Query of `GET /api/mirrors`; empty filters and defaults are left out. */
export function mirrorListQuery(state: MirrorListState): Query {
  return {
    instance_pair_id: state.pairId ?? undefined,
    status: state.status || undefined,
    enabled: state.enabled || undefined,
    token_status: state.tokenStatus || undefined,
    search: state.search.trim() || undefined,
    group_path: normalizeGroup(state.group) || undefined,
    order_by: state.orderBy,
    order_dir: state.orderDir,
    page: state.page > 1 ? state.page : undefined,
    page_size: state.pageSize,
  };
}

/** Query of `GET /api/mirrors/tree`: the tree takes pair, search, status and group only. */
export function treeQuery(state: MirrorListState): Query {
  return {
    instance_pair_id: state.pairId ?? undefined,
    status: state.status || undefined,
    search: state.search.trim() || undefined,
    group_path: normalizeGroup(state.group) || undefined,
  };
}

/** Whether a filter narrows the list (for the "clear filters" button and empty states). */
export function hasFilters(state: MirrorListState): boolean {
  return Boolean(state.status || state.enabled || state.tokenStatus || state.search.trim() || normalizeGroup(state.group));
}

export function pageCount(total: number, pageSize: number): number {
  return Math.max(1, Math.ceil(Math.max(0, total) / pageSize));
}

/** `Showing 51–100 of 234`. */
export function rangeText(page: number, pageSize: number, shown: number, total: number): string {
  if (total === 0 || shown === 0) return `Showing 0 of ${total}`;
  const first = (page - 1) * pageSize + 1;
  return `Showing ${first}–${first + shown - 1} of ${total}`;
}

/**
 * Filters given in the page's URL (`#/mirrors?pair=2&status=failed&search=api`), as other
 * pages link to them; unknown values are ignored.
 */
export function stateFromParams(params: URLSearchParams): MirrorListState {
  const state: MirrorListState = { ...DEFAULT_LIST_STATE };
  const pair = params.get('pair') ?? '';
  if (/^\d+$/.test(pair) && Number(pair) > 0) state.pairId = Number(pair);
  const status = params.get('status') ?? '';
  if (STATUS_FILTERS.some((s) => s.value === status)) state.status = status;
  const enabled = params.get('enabled');
  if (enabled === 'true' || enabled === 'false') state.enabled = enabled;
  const token = params.get('token_status');
  const tokenFilter = TOKEN_FILTERS.find((t) => t.value === token);
  if (tokenFilter) state.tokenStatus = tokenFilter.value;
  state.search = (params.get('search') ?? '').slice(0, 500);
  state.group = normalizeGroup(params.get('group') ?? '');
  return state;
}
