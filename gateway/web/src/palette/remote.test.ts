import { describe, expect, it } from 'vitest';
import { hitsToItems, hitTarget } from './remote';

describe('hitTarget', () => {
  it('opens instances and pairs focused, and mirrors filtered by source path', () => {
    expect(hitTarget({ type: 'instance', id: 3, title: 'east', subtitle: 'https://e' })).toEqual({ path: '/instances', params: { focus: 3 } });
    expect(hitTarget({ type: 'pair', id: 4, title: 'e2w', subtitle: 'push mirror' })).toEqual({ path: '/pairs', params: { focus: 4 } });
    expect(hitTarget({ type: 'mirror', id: 9, title: 'acme/api → acme/api-copy', subtitle: 'Status: failed' })).toEqual({ path: '/mirrors', params: { search: 'acme/api', focus: 9 } });
    expect(hitTarget({ type: 'mirror', id: 9, title: 'acme/api → acme/api', subtitle: 'Status: failed', instance_pair_id: 4 })).toEqual({ path: '/mirrors', params: { pair: 4, search: 'acme/api', focus: 9 } });
  });
});

describe('hitsToItems', () => {
  it('lists mirrors first and keeps subtitles as details', () => {
    const items = hitsToItems(
      {
        query: 'api',
        total_count: 3,
        instances: [{ type: 'instance', id: 1, title: 'api-gitlab', subtitle: 'https://api' }],
        pairs: [{ type: 'pair', id: 2, title: 'api-pair', subtitle: 'push mirror' }],
        mirrors: [{ type: 'mirror', id: 5, title: 'g/api → g/api', subtitle: 'Status: unknown' }],
      },
      () => undefined,
    );
    expect(items.map((i) => [i.group, i.label, i.detail])).toEqual([
      ['Mirror', 'g/api → g/api', 'Status: unknown'],
      ['Pair', 'api-pair', 'push mirror'],
      ['Instance', 'api-gitlab', 'https://api'],
    ]);
    expect(new Set(items.map((i) => i.id)).size).toBe(3);
  });
});
