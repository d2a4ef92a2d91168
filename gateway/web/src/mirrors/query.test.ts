import { describe, expect, it } from 'vitest';
import { DEFAULT_LIST_STATE, hasFilters, mirrorListQuery, normalizeGroup, pageCount, rangeText, stateFromParams, treeQuery } from './query';

describe('mirror list query', () => {
  it('sends only the filters in use, with sort and page size', () => {
    expect(mirrorListQuery({ ...DEFAULT_LIST_STATE, pairId: 4 })).toEqual({
      instance_pair_id: 4,
      status: undefined,
      enabled: undefined,
      token_status: undefined,
      search: undefined,
      group_path: undefined,
      order_by: 'created_at',
      order_dir: 'desc',
      page: undefined,
      page_size: 50,
    });
  });

  it('maps every filter to the API names', () => {
    const query = mirrorListQuery({
      pairId: 2,
      status: 'failed',
      enabled: 'false',
      tokenStatus: 'expiring_soon',
      search: '  api  ',
      group: '/acme//platform/ ',
      orderBy: 'source_project_path',
      orderDir: 'asc',
      page: 3,
      pageSize: 200,
    });
    expect(query).toMatchObject({
      instance_pair_id: 2,
      status: 'failed',
      enabled: 'false',
      token_status: 'expiring_soon',
      search: 'api',
      group_path: 'acme/platform',
      order_by: 'source_project_path',
      order_dir: 'asc',
      page: 3,
      page_size: 200,
    });
  });

  it('gives the tree only the filters it understands', () => {
    const query = treeQuery({ ...DEFAULT_LIST_STATE, pairId: 1, enabled: 'true', tokenStatus: 'expired', group: 'a/b', status: 'failed' });
    expect(query).toEqual({ instance_pair_id: 1, status: 'failed', search: undefined, group_path: 'a/b' });
  });

  it('normalises group paths', () => {
    expect(normalizeGroup(' / a / b /')).toBe('a/b');
    expect(normalizeGroup('//')).toBe('');
  });

  it('knows when filters are active', () => {
    expect(hasFilters(DEFAULT_LIST_STATE)).toBe(false);
    expect(hasFilters({ ...DEFAULT_LIST_STATE, search: '   ' })).toBe(false);
    expect(hasFilters({ ...DEFAULT_LIST_STATE, group: 'acme' })).toBe(true);
    expect(hasFilters({ ...DEFAULT_LIST_STATE, tokenStatus: 'none' })).toBe(true);
  });

  it('counts pages and describes the range', () => {
    expect(pageCount(0, 25)).toBe(1);
    expect(pageCount(25, 25)).toBe(1);
    expect(pageCount(26, 25)).toBe(2);
    expect(rangeText(2, 50, 50, 234)).toBe('Showing 51–100 of 234');
    expect(rangeText(5, 50, 34, 234)).toBe('Showing 201–234 of 234');
    expect(rangeText(1, 50, 0, 0)).toBe('Showing 0 of 0');
  });
});

describe('filters from the URL', () => {
  it('reads the filters other pages link with', () => {
    expect(stateFromParams(new URLSearchParams('pair=4&status=failed&enabled=true&token_status=expired&search=api&group=/acme/tools/&focus=9'))).toEqual({
      ...DEFAULT_LIST_STATE,
      pairId: 4,
      status: 'failed',
      enabled: 'true',
      tokenStatus: 'expired',
      search: 'api',
      group: 'acme/tools',
    });
  });

  it('ignores values it does not know', () => {
    expect(stateFromParams(new URLSearchParams('pair=0&status=weird&enabled=yes&token_status=x'))).toEqual(DEFAULT_LIST_STATE);
    expect(stateFromParams(new URLSearchParams('pair=abc')).pairId).toBeNull();
  });
});
