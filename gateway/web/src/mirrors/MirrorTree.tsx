/**
 * Tree view by group of the source paths (`/api/mirrors/tree`). Expanding a group shows its
 * subgroups and the mirrors directly in it (loaded on demand); "List" filters the table to it.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { describeError } from '../api';
import { LoadError } from '../ui/EmptyState';
import { listMirrors, mirrorTree } from './api';
import { PathText } from './PathCell';
import { DEFAULT_LIST_STATE, type MirrorListState } from './query';
import { syncStatus } from './status';
import { allPaths, foldGroups, parentGroup, visibleNodes, type GroupNode } from './tree';
import type { Mirror, MirrorGroup } from './types';

interface Props {
  state: MirrorListState;
  /** Changes when the data may have changed (after an action). */
  version: number;
  onShowGroup: (path: string) => void;
}

type Leaves = Record<string, Mirror[] | 'loading' | { error: string }>;

export function MirrorTree({ state, version, onShowGroup }: Props) {
  const [groups, setGroups] = useState<MirrorGroup[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [expanded, setExpanded] = useState<Set<string>>(new Set());
  const [leaves, setLeaves] = useState<Leaves>({});
  const [reload, setReload] = useState(0);

  const treeKey = JSON.stringify([state.pairId, state.status, state.search, state.group]);
  useEffect(() => {
    const controller = new AbortController();
    mirrorTree(state, controller.signal)
      .then((g) => {
        setGroups(g);
        setError(null);
        setLeaves({});
      })
      .catch((e: unknown) => {
        if (e instanceof DOMException && e.name === 'AbortError') return;
        setError(describeError(e));
      });
    return () => controller.abort();
    // `treeKey` stands for the filters the tree uses.
  }, [treeKey, version, reload]);

  const roots = useMemo(() => foldGroups(groups ?? []), [groups]);
  const rows = useMemo(() => visibleNodes(roots, expanded), [roots, expanded]);

  // The first level starts open, so the tree shows more than one line.
  useEffect(() => {
    if (roots.length && expanded.size === 0) setExpanded(new Set(roots.map((r) => r.path)));
  }, [roots]);

  const loadLeaves = (node: GroupNode) => {
    if (node.direct === 0 || leaves[node.path]) return;
    setLeaves((l) => ({ ...l, [node.path]: 'loading' }));
    // Only the filters the tree's counts use, so the leaves match the counts.
    listMirrors({ ...DEFAULT_LIST_STATE, pairId: state.pairId, status: state.status, search: state.search, group: node.path, orderBy: 'source_project_path', orderDir: 'asc', pageSize: 200 })
      .then((result) => setLeaves((l) => ({ ...l, [node.path]: result.items.filter((m) => parentGroup(m.source_project_path) === node.path) })))
      .catch((e: unknown) => setLeaves((l) => ({ ...l, [node.path]: { error: describeError(e) } })));
  };

  useEffect(() => {
    for (const node of rows) if (expanded.has(node.path)) loadLeaves(node);
  }, [rows]);

  const toggle = (node: GroupNode) => {
    setExpanded((set) => {
      const next = new Set(set);
      if (next.has(node.path)) next.delete(node.path);
      else next.add(node.path);
      return next;
    });
  };

  if (error) return <LoadError message={error} onRetry={() => setReload((n) => n + 1)} />;
  if (!groups) {
    return (
      <p class="muted" aria-busy="true">
        Loading groups…
      </p>
    );
  }
  if (roots.length === 0) return <p class="muted">No group has mirrors matching these filters.</p>;
  return (
    <div data-testid="mirror-tree">
      <div class="tree-tools">
        <button type="button" class="button button-small" onClick={() => setExpanded(new Set(allPaths(roots)))}>
          Expand all
        </button>
        <button type="button" class="button button-small" onClick={() => setExpanded(new Set())}>
          Collapse all
        </button>
      </div>
      <ul class="tree" aria-label="Mirrors by group">
        {rows.map((node) => {
          const open = expanded.has(node.path);
          const hasContent = node.children.length > 0 || node.direct > 0;
          const leaf = leaves[node.path];
          return (
            <li key={node.path} class="tree-node" style={{ '--depth': node.depth }} data-testid="tree-group" data-path={node.path}>
              <div class="tree-row">
                <button type="button" class="tree-toggle" aria-expanded={hasContent ? open : undefined} disabled={!hasContent} onClick={() => toggle(node)} title={node.path}>
                  <span class="tree-caret" aria-hidden="true">
                    {hasContent ? (open ? '▾' : '▸') : '·'}
                  </span>
                  <span class="tree-name">{node.name}</span>
                  <span class="visually-hidden">, group {node.path}</span>
                </button>
                <span class="badge">{node.count}</span>
                {node.failed ? <span class="badge badge-tone-danger">{node.failed} failed</span> : null}
                <button type="button" class="link-button small" onClick={() => onShowGroup(node.path)}>
                  List<span class="visually-hidden"> the mirrors under {node.path}</span>
                </button>
              </div>
              {open && node.direct > 0 ? (
                <ul class="tree-leaves">
                  {leaf === 'loading' || leaf === undefined ? (
                    <li class="muted small">Loading mirrors…</li>
                  ) : 'error' in leaf ? (
                    <li class="item-error small">{leaf.error}</li>
                  ) : (
                    leaf.map((m) => {
                      const s = syncStatus(m);
                      return (
                        <li key={m.id} class="tree-leaf" data-testid="tree-mirror">
                          <span class="mono tree-leaf-name" title={m.source_project_path}>
                            {m.source_project_path.split('/').pop()}
                          </span>
                          <span aria-label="to"> → </span>
                          <PathText path={m.target_project_path} />
                          <span class={`badge badge-tone-${s.tone}`}>{s.label}</span>
                        </li>
                      );
                    })
                  )}
                </ul>
              ) : null}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
