import { describe, expect, it } from 'vitest';
import { allPaths, foldGroups, parentGroup, visibleNodes } from './tree';

/** The element at `index`, failing the test when it is missing. */
function at<T>(list: readonly T[], index: number): T {
  const value = list[index];
  if (value === undefined) throw new Error(`no element ${index}`);
  return value;
}

const group = (group_path: string, mirror_count: number, failed_count = 0) => ({ group_path, mirror_count, failed_count, level: group_path.split('/').length - 1 });

describe('tree folding', () => {
  const groups = [
    group('acme/platform/backend', 4, 1),
    group('acme', 9, 1),
    group('acme/platform', 7, 1),
    group('acme/platform/frontend', 3),
    group('acme/tools', 2),
    group('globex/apps/web', 3),
  ];

  it('nests groups under their nearest listed ancestor, sorted by path', () => {
    const roots = foldGroups(groups);
    expect(roots.map((r) => r.path)).toEqual(['acme', 'globex/apps/web']);
    const acme = at(roots, 0);
    expect(acme.children.map((c) => c.name)).toEqual(['platform', 'tools']);
    expect(at(acme.children, 0).children.map((c) => [c.name, c.depth])).toEqual([
      ['backend', 2],
      ['frontend', 2],
    ]);
    // A group without a listed parent keeps its whole path as the name.
    expect(at(roots, 1).name).toBe('globex/apps/web');
  });

  it('works out the mirrors directly in each group', () => {
    const acme = at(foldGroups(groups), 0);
    expect(acme.direct).toBe(0);
    expect(at(acme.children, 0).direct).toBe(0);
    expect(at(at(acme.children, 0).children, 0).direct).toBe(4);
    expect(at(foldGroups([group('a', 5), group('a/b', 2)]), 0).direct).toBe(3);
  });

  it('ignores duplicates, blank paths and never goes below zero', () => {
    const roots = foldGroups([group('a', 1), group('a', 7), group('/', 3), group('a/b', 4)]);
    expect(roots).toHaveLength(1);
    expect(at(roots, 0).count).toBe(1);
    expect(at(roots, 0).direct).toBe(0);
  });

  it('shows only the expanded branches, depth first', () => {
    const roots = foldGroups(groups);
    expect(visibleNodes(roots, new Set()).map((n) => n.path)).toEqual(['acme', 'globex/apps/web']);
    expect(visibleNodes(roots, new Set(['acme', 'acme/platform'])).map((n) => n.path)).toEqual([
      'acme',
      'acme/platform',
      'acme/platform/backend',
      'acme/platform/frontend',
      'acme/tools',
      'globex/apps/web',
    ]);
    // A collapsed parent hides expanded descendants.
    expect(visibleNodes(roots, new Set(['acme/platform'])).map((n) => n.path)).toEqual(['acme', 'globex/apps/web']);
    expect(allPaths(roots)).toHaveLength(6);
  });

  it('finds the group of a project', () => {
    expect(parentGroup('a/b/app')).toBe('a/b');
    expect(parentGroup('/a/app/')).toBe('a');
    expect(parentGroup('app')).toBe('');
  });
});
