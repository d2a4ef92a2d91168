/** The Mirrors tab: pick a pair, create mirrors, browse them as a list or a tree, import and export. */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { describeError, type ListResult } from '../api';
import { useData } from '../app/data';
import { useFocusParam } from '../app/focus';
import { PageHeader } from '../app/PageHeader';
import { href, navigate } from '../app/router';
import type { Job } from '../jobs/types';
import { ConfirmDialog } from '../ui/Dialog';
import { EmptyState, LoadError } from '../ui/EmptyState';
import { useToast } from '../ui/toast';
import { deleteMirror, exportPair, listMirrors, refreshPairStatus, startMirrorAction, updateMirror } from './api';
import { CreateMirrorForm } from './CreateMirrorForm';
import { downloadJson, exportFileName } from './download';
import { ImportDialog } from './ImportDialog';
import { MirrorFilters } from './MirrorFilters';
import './mirrors.css';
import { MirrorTable, type RowAction } from './MirrorTable';
import { MirrorTree } from './MirrorTree';
import { Pager } from './Pager';
import { markListReceived } from './renderTiming';
import { hasFilters, stateFromParams, type MirrorListState } from './query';
import { isBusy } from './status';
import type { Mirror, MirrorChanges } from './types';

/** While a visible mirror is busy the page reloads this often (and never more often). */
export const LIVE_REFRESH_MS = 5000;
/** After an action, keep refreshing this long even if no row looks busy yet. */
const AFTER_ACTION_MS = 30_000;
const VIEW_KEY = 'mm.mirrors.view';

type View = 'list' | 'tree';

function storedView(): View {
  try {
    return localStorage.getItem(VIEW_KEY) === 'tree' ? 'tree' : 'list';
  } catch {
    return 'list';
  }
}

function parsePairId(params: URLSearchParams): number | null {
  const raw = params.get('pair');
  return raw && /^\d+$/.test(raw) && Number(raw) > 0 ? Number(raw) : null;
}

const ACTION_TEXT: Record<RowAction, { started: string; confirm?: string }> = {
  sync: { started: 'Sync started' },
  verify: { started: 'Verification started' },
  'rotate-token': { started: 'Token rotation started', confirm: 'Rotate token' },
  delete: { started: 'Deletion started', confirm: 'Delete mirror' },
};

export function MirrorsPage({ params }: { params: URLSearchParams }) {
  const { pairs, reloadPairs } = useData();
  const notify = useToast();
  const pairId = parsePairId(params);
  const pair = pairs.items.find((p) => p.id === pairId);
  const [state, setState] = useState<MirrorListState>(() => stateFromParams(params));
  const focusId = useFocusParam(params, 'mirror');
  // A link to one mirror (`focus`) needs the table.
  const [view, setViewState] = useState<View>(() => (params.get('focus') ? 'list' : storedView()));
  const [result, setResult] = useState<ListResult<Mirror> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<number | null>(null);
  const [confirming, setConfirming] = useState<{ mirror: Mirror; action: RowAction } | null>(null);
  const [busy, setBusy] = useState(false);
  const [importOpen, setImportOpen] = useState(false);
  const [version, setVersion] = useState(0);
  const watchUntil = useRef(0);

  // A new URL (another pair, or a link with filters) starts from its filters.
  const paramKey = params.toString();
  const firstParams = useRef(paramKey);
  useEffect(() => {
    if (paramKey === firstParams.current) return;
    firstParams.current = paramKey;
    setState((s) => ({ ...stateFromParams(params), orderBy: s.orderBy, orderDir: s.orderDir, pageSize: s.pageSize }));
    setEditing(null);
    if (params.get('focus')) setViewState('list');
  }, [paramKey]);

  // A pair created since the lists were loaded (elsewhere, or in another tab): look again once.
  const reloadedFor = useRef<number | null>(null);
  useEffect(() => {
    if (pairId !== null && pairs.loaded && !pair && reloadedFor.current !== pairId) {
      reloadedFor.current = pairId;
      void reloadPairs();
    }
  }, [pairId, pairs.loaded, pair, reloadPairs]);

  const setView = (next: View) => {
    setViewState(next);
    try {
      localStorage.setItem(VIEW_KEY, next);
    } catch {
      // Private mode: the choice lasts for this visit.
    }
  };

  const load = useCallback(
    async (signal?: AbortSignal) => {
      try {
        const page = await listMirrors(state, signal);
        markListReceived(page.items.length);
        setResult(page);
        setError(null);
      } catch (e) {
        if (e instanceof DOMException && e.name === 'AbortError') return;
        setError(describeError(e));
      }
    },
    [state],
  );

  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [load, version]);

  // Live status: reload the visible page while a row is busy (or just after an action).
  // Leaving the tab unmounts the page, which clears the timer.
  const anyBusy = result?.items.some(isBusy) ?? false;
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.hidden) return;
      if (anyBusy || Date.now() < watchUntil.current) void load();
    }, LIVE_REFRESH_MS);
    return () => clearInterval(timer);
  }, [anyBusy, load]);

  const changed = useCallback(() => {
    watchUntil.current = Date.now() + AFTER_ACTION_MS;
    setVersion((v) => v + 1);
    void reloadPairs();
  }, [reloadPairs]);

  const jobToast = (text: string, job: Job | null | undefined) =>
    notify('success', text, job ? { href: href('/jobs', { id: job.id }), label: `Follow job #${job.id}` } : undefined);

  const runAction = async (mirror: Mirror, action: RowAction) => {
    setBusy(true);
    try {
      const job = action === 'delete' ? await deleteMirror(mirror.id) : await startMirrorAction(mirror.id, action);
      jobToast(`${ACTION_TEXT[action].started} for ${mirror.source_project_path}.`, job);
      setConfirming(null);
      changed();
    } catch (e) {
      notify('error', describeError(e));
    } finally {
      setBusy(false);
    }
  };

  const onAction = (mirror: Mirror, action: RowAction) => {
    if (ACTION_TEXT[action].confirm) setConfirming({ mirror, action });
    else void runAction(mirror, action);
  };

  const onSave = async (mirror: Mirror, changes: MirrorChanges) => {
    if (Object.keys(changes).length === 0) {
      notify('info', 'Nothing changed.');
      setEditing(null);
      return;
    }
    const updated = await updateMirror(mirror.id, changes);
    setEditing(null);
    jobToast(updated.job ? 'Mirror saved; the change is being applied in GitLab.' : 'Mirror saved.', updated.job);
    changed();
    requestAnimationFrame(() => document.getElementById(`mirror-edit-${mirror.id}`)?.focus());
  };

  const runExport = async () => {
    if (!pair) return;
    try {
      downloadJson(await exportPair(pair.id), exportFileName(pair.name));
      notify('success', `Mirrors of “${pair.name}” exported.`);
    } catch (e) {
      notify('error', describeError(e));
    }
  };

  const refreshStatus = async () => {
    if (!pair) return;
    try {
      jobToast(`Checking the status of the mirrors of “${pair.name}” in GitLab.`, await refreshPairStatus(pair.id));
      changed();
    } catch (e) {
      notify('error', describeError(e));
    }
  };

  const update = (patch: Partial<MirrorListState>) => setState((s) => ({ ...s, page: 1, ...patch }));

  const actions = pair ? (
    <>
      <button type="button" class="button" id="mirrors-import" onClick={() => setImportOpen(true)}>
        Import…
      </button>
      <button type="button" class="button" id="mirrors-export" onClick={() => void runExport()}>
        Export
      </button>
    </>
  ) : undefined;

  return (
    <>
      <PageHeader title="Mirrors" description="Project-to-project mirrors inside a pair, with their sync and token status." actions={actions} />

      <section class="card" aria-labelledby="mirror-pair-heading">
        <h2 id="mirror-pair-heading" class="visually-hidden">
          Pair
        </h2>
        <div class="field pair-picker">
          <label for="mirror-pair">Instance pair</label>
          <select id="mirror-pair" value={pairId ?? ''} onChange={(e) => navigate('/mirrors', e.currentTarget.value ? { pair: e.currentTarget.value } : undefined)}>
            <option value="">All pairs</option>
            {pairs.items.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name} ({p.mirror_direction}, {p.mirror_count} mirrors)
              </option>
            ))}
          </select>
        </div>
        {pairs.loaded && pairs.items.length === 0 ? (
          <p class="notice">
            Mirrors live in a pair. <a href={href('/pairs', { new: 1 })}>Create a pair</a> first.
          </p>
        ) : null}
        {pairId !== null && pairs.loaded && !pair ? <p class="notice">Pair #{pairId} does not exist (any more).</p> : null}
        {!pair && pairs.items.length > 0 ? <p class="small muted">Choose a pair to create, import or export mirrors.</p> : null}
        {pair ? (
          <p class="small">
            <a href={href('/jobs', { pair: pair.id })}>Jobs of {pair.name}</a>
          </p>
        ) : null}
      </section>

      {pair ? (
        <section class="card" aria-labelledby="mirror-create-heading">
          <h2 id="mirror-create-heading" class="card-title">
            Create mirror in {pair.name}
          </h2>
          <CreateMirrorForm key={pair.id} pair={pair} onCreated={changed} />
        </section>
      ) : null}

      <section class="card" aria-labelledby="mirror-list-heading">
        <div class="card-header">
          <h2 id="mirror-list-heading" class="card-title">
            Mirrors <span class="count">{result ? result.total : ''}</span>
          </h2>
          <div class="row-actions" role="group" aria-label="View">
            <button type="button" class="button button-small" aria-pressed={view === 'list'} id="mirrors-view-list" onClick={() => setView('list')}>
              List
            </button>
            <button type="button" class="button button-small" aria-pressed={view === 'tree'} id="mirrors-view-tree" onClick={() => setView('tree')}>
              Tree
            </button>
            <button type="button" class="button button-small" onClick={() => setVersion((v) => v + 1)}>
              Reload
            </button>
            {pair ? (
              <button type="button" class="button button-small" id="mirrors-check-status" onClick={() => void refreshStatus()}>
                Check status in GitLab
              </button>
            ) : null}
          </div>
        </div>
        <MirrorFilters state={state} view={view} onChange={update} />
        {view === 'tree' ? (
          <MirrorTree
            state={state}
            version={version}
            onShowGroup={(group) => {
              update({ group });
              setView('list');
            }}
          />
        ) : error ? (
          <LoadError message={error} onRetry={() => void load()} />
        ) : !result ? (
          <p class="muted" aria-busy="true">
            Loading mirrors…
          </p>
        ) : result.items.length === 0 ? (
          hasFilters(state) ? (
            <p class="muted">No mirror matches these filters.</p>
          ) : (
            <EmptyState title="No mirrors yet" icon="mirror">
              <p>{pair ? 'Create a mirror above, or import an export file.' : 'Choose a pair to create its first mirror.'}</p>
            </EmptyState>
          )
        ) : (
          <>
            <MirrorTable mirrors={result.items} pairs={pairs.items} showPair={pairId === null} focusId={focusId} editing={editing} onEdit={setEditing} onSave={onSave} onAction={onAction} />
            <Pager state={state} shown={result.items.length} total={result.total} onChange={(patch) => setState((s) => ({ ...s, ...patch }))} />
          </>
        )}
        {anyBusy && view === 'list' ? (
          <p class="small muted live-note" role="status">
            Some mirrors are syncing; this page refreshes every {LIVE_REFRESH_MS / 1000} seconds.
          </p>
        ) : null}
      </section>

      {pair ? <ImportDialog open={importOpen} pair={pair} onClose={() => setImportOpen(false)} onImported={changed} /> : null}

      <ConfirmDialog
        open={confirming !== null}
        title={confirming?.action === 'delete' ? 'Delete this mirror?' : 'Rotate the mirror’s token?'}
        confirmLabel={confirming ? (ACTION_TEXT[confirming.action].confirm ?? 'Confirm') : 'Confirm'}
        danger={confirming?.action === 'delete'}
        busy={busy}
        onConfirm={() => confirming && void runAction(confirming.mirror, confirming.action)}
        onCancel={() => setConfirming(null)}
      >
        {confirming ? (
          <p>
            <span class="mono">{confirming.mirror.source_project_path}</span> → <span class="mono">{confirming.mirror.target_project_path}</span>
            <br />
            {confirming.action === 'delete'
              ? 'The mirror and its project access token are removed from GitLab; the projects themselves stay. This cannot be undone.'
              : 'A new project access token replaces the current one, which is revoked.'}
          </p>
        ) : null}
      </ConfirmDialog>
    </>
  );
}
