/** Folds the API's flat group list (every ancestor group with counts) into a tree. */
import type { MirrorGroup } from './types';

export interface GroupNode {
  path: string;
  /** Last segment, or the segments since the nearest listed ancestor (`platform/backend`). */
  name: string;
  depth: number;
  /** Mirrors under the group, subgroups included. */
  count: number;
  failed: number;
  /** Mirrors whose project sits directly in this group. */
  direct: number;
  children: GroupNode[];
}

/** Builds the tree; a group's parent is its longest listed ancestor. Input order does not matter. */
export function foldGroups(groups: readonly MirrorGroup[]): GroupNode[] {
  const sorted = [...groups]
    .map((g) => ({ ...g, group_path: g.group_path.replace(/^\/+|\/+$/g, '') }))
    .filter((g) => g.group_path !== '')
    .sort((a, b) => (a.group_path < b.group_path ? -1 : a.group_path > b.group_path ? 1 : 0));
  const byPath = new Map<string, GroupNode>();
  const roots: GroupNode[] = [];
  for (const group of sorted) {
    if (byPath.has(group.group_path)) continue;
    const segments = group.group_path.split('/');
    let parent: GroupNode | undefined;
    let parentLength = 0;
    for (let n = segments.length - 1; n > 0 && !parent; n--) {
      parent = byPath.get(segments.slice(0, n).join('/'));
      parentLength = n;
    }
    const node: GroupNode = {
      path: group.group_path,
      name: segments.slice(parent ? parentLength : 0).join('/'),
      depth: parent ? parent.depth + 1 : 0,
      count: Math.max(0, group.mirror_count),
      failed: Math.max(0, group.failed_count),
      direct: 0,
      children: [],
    };
    byPath.set(node.path, node);
    (parent ? parent.children : roots).push(node);
  }
  const settle = (node: GroupNode) => {
    node.children.forEach(settle);
    node.direct = Math.max(0, node.count - node.children.reduce((sum, c) => sum + c.count, 0));
  };
  roots.forEach(settle);
  return roots;
}

/** The nodes to draw, depth first, descending only into expanded groups. */
export function visibleNodes(roots: readonly GroupNode[], expanded: ReadonlySet<string>): GroupNode[] {
  const out: GroupNode[] = [];
  const walk = (nodes: readonly GroupNode[]) => {
    for (const node of nodes) {
      out.push(node);
      if (expanded.has(node.path)) walk(node.children);
    }
  };
  walk(roots);
  return out;
}

/** The group a project path sits in (`a/b/app` → `a/b`). */
export function parentGroup(projectPath: string): string {
  const trimmed = projectPath.replace(/^\/+|\/+$/g, '');
  const cut = trimmed.lastIndexOf('/');
  return cut < 0 ? '' : trimmed.slice(0, cut);
}

/** Every group path of the tree, for "expand all". */
export function allPaths(roots: readonly GroupNode[]): string[] {
  const out: string[] = [];
  const walk = (nodes: readonly GroupNode[]) => {
    for (const node of nodes) {
      out.push(node.path);
      walk(node.children);
    }
  };
  walk(roots);
  return out;
}
