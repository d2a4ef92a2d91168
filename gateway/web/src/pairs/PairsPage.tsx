/** Pairs of instances: create, list, edit in place and delete. */
import { Fragment } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { describeError } from '../api';
import type { Instance, Pair, PairInput, PairWritten } from '../api/types';
import { useData } from '../app/data';
import { useFocusParam } from '../app/focus';
import { PageHeader } from '../app/PageHeader';
import { href } from '../app/router';
import { ConfirmDialog } from '../ui/Dialog';
import { EmptyState } from '../ui/EmptyState';
import { ListCard } from '../ui/ListCard';
import { useToast } from '../ui/toast';
import { plural } from '../util/format';
import { createPair, deletePair, updatePair } from './api';
import { PairForm } from './PairForm';
import { SyncAllDialog, SyncAllPanel, type RunningSync } from './SyncAll';

export function DirectionBadge({ direction }: { direction: Pair['mirror_direction'] }) {
  return <span class={`badge badge-${direction}`}>{direction === 'push' ? 'Push →' : '← Pull'}</span>;
}

function settingsSummary(pair: Pair): string[] {
  const parts: string[] = [];
  if (pair.mirror_overwrite_diverged) parts.push('overwrite diverged');
  if (pair.only_mirror_protected_branches) parts.push('protected only');
  if (pair.mirror_direction === 'pull' && pair.mirror_trigger_builds) parts.push('trigger pipelines');
  if (pair.mirror_branch_regex) parts.push(`branches /${pair.mirror_branch_regex}/`);
  return parts.length ? parts : ['defaults'];
}

function instanceName(instances: Instance[], id: number): string {
  return instances.find((i) => i.id === id)?.name ?? `#${id}`;
}

export function PairsPage({ params }: { params: URLSearchParams }) {
  const { instances, pairs, reloadPairs, reloadInstances } = useData();
  const notify = useToast();
  const [search, setSearch] = useState('');
  const [editing, setEditing] = useState<number | null>(null);
  const [deleting, setDeleting] = useState<Pair | null>(null);
  const [deleteBusy, setDeleteBusy] = useState(false);
  const focusId = useFocusParam(params, 'pair');
  const [syncAsk, setSyncAsk] = useState<Pair | null>(null);
  const [syncing, setSyncing] = useState<RunningSync | null>(null);

  // Mirror counts change on other pages (mirrors are created there): refresh on arrival.
  useEffect(() => {
    void reloadPairs();
  }, [reloadPairs]);

  useEffect(() => {
    if (params.get('new')) document.getElementById('pair-create-name')?.focus();
  }, [params]);

  const rows = useMemo(() => {
    const t = search.trim().toLowerCase();
    if (!t) return pairs.items;
    return pairs.items.filter((p) =>
      [p.name, p.description, instanceName(instances.items, p.source_instance_id), instanceName(instances.items, p.target_instance_id)].some((s) => s.toLowerCase().includes(t)),
    );
  }, [pairs.items, instances.items, search]);

  const reportWarnings = (written: PairWritten) => {
    for (const warning of written.warnings ?? []) notify('warning', warning);
  };

  const create = async (input: PairInput) => {
    const created = await createPair(input);
    notify('success', `Pair “${created.name}” created.`);
    reportWarnings(created);
    await Promise.all([reloadPairs(), reloadInstances()]);
  };

  const save = (pair: Pair) => async (_input: PairInput, changes: Partial<PairInput>) => {
    if (Object.keys(changes).length === 0) {
      setEditing(null);
      notify('info', 'Nothing changed.');
      return;
    }
    const updated = await updatePair(pair.id, changes);
    setEditing(null);
    notify('success', `Pair “${updated.name}” saved.`);
    reportWarnings(updated);
    await Promise.all([reloadPairs(), reloadInstances()]);
    document.getElementById(`pair-edit-${pair.id}`)?.focus();
  };

  const remove = async () => {
    if (!deleting) return;
    setDeleteBusy(true);
    try {
      const result = await deletePair(deleting.id);
      const warnings = result?.warnings ?? [];
      notify('success', `Pair “${deleting.name}” deleted.${warnings.length ? ` Warnings: ${warnings.join('; ')}` : ''}`);
      setDeleting(null);
      await Promise.all([reloadPairs(), reloadInstances()]);
    } catch (error) {
      notify('error', describeError(error));
    } finally {
      setDeleteBusy(false);
    }
  };

  const enoughInstances = instances.items.length >= 2;

  return (
    <>
      <PageHeader title="Instance pairs" description="A pair connects a source and a target instance and holds the default settings of its mirrors." />

      <section class="card" aria-labelledby="pair-create-heading">
        <h2 id="pair-create-heading" class="card-title">
          Create pair
        </h2>
        {instances.loaded && !enoughInstances ? (
          <p class="notice">
            A pair needs two instances. <a href={href('/instances', { new: 1 })}>Add an instance</a> first.
          </p>
        ) : null}
        <PairForm idPrefix="pair-create" instances={instances.items} onSubmit={create} />
      </section>

      {syncing ? (
        <SyncAllPanel
          key={syncing.started.job.id}
          sync={syncing}
          onFinished={() => void reloadPairs()}
          onDismiss={() => setSyncing(null)}
        />
      ) : null}

      <ListCard
        id="pair"
        title="Pairs"
        list={pairs}
        shown={rows.length}
        onRetry={() => void reloadPairs()}
        search={search}
        onSearch={setSearch}
        searchLabel="Filter pairs"
        searchPlaceholder="Filter by name or instance"
        empty={
          <EmptyState title="No pairs yet" icon="pairs">
            <p>Create a pair to say which instance mirrors to which, and how.</p>
          </EmptyState>
        }
        noMatch={`No pair matches “${search}”.`}
      >
        <div class="table-wrap">
          <table class="table responsive-table" data-testid="pairs-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Source → Target</th>
                <th scope="col">Direction</th>
                <th scope="col">Default settings</th>
                <th scope="col">Mirrors</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((pair) => (
                <Fragment key={pair.id}>
                  <tr id={`pair-row-${pair.id}`} class={focusId === pair.id ? 'row-highlight' : ''} data-testid="pair-row">
                    <th scope="row" data-label="Name">
                      {pair.name}
                      {pair.description ? <div class="muted small">{pair.description}</div> : null}
                    </th>
                    <td data-label="Source → Target">
                      {instanceName(instances.items, pair.source_instance_id)} <span aria-label="to">→</span> {instanceName(instances.items, pair.target_instance_id)}
                    </td>
                    <td data-label="Direction">
                      <DirectionBadge direction={pair.mirror_direction} />
                    </td>
                    <td data-label="Default settings" class="small">
                      {settingsSummary(pair).join(' · ')}
                    </td>
                    <td data-label="Mirrors">{pair.mirror_count}</td>
                    <td data-label="Actions" class="cell-actions">
                      <div class="row-actions">
                        <button
                          type="button"
                          class="button button-small"
                          id={`pair-sync-${pair.id}`}
                          disabled={pair.mirror_count <= 0}
                          title={pair.mirror_count <= 0 ? 'This pair has no mirrors yet' : `Sync all ${pair.mirror_count} mirrors now`}
                          onClick={() => setSyncAsk(pair)}
                        >
                          Sync all<span class="visually-hidden"> mirrors of {pair.name}</span>
                        </button>
                        <button
                          type="button"
                          class="button button-small"
                          id={`pair-edit-${pair.id}`}
                          aria-expanded={editing === pair.id}
                          aria-controls={`pair-editor-${pair.id}`}
                          onClick={() => setEditing(editing === pair.id ? null : pair.id)}
                        >
                          Edit<span class="visually-hidden"> {pair.name}</span>
                        </button>
                        <button type="button" class="button button-small button-danger-outline" onClick={() => setDeleting(pair)}>
                          Delete<span class="visually-hidden"> {pair.name}</span>
                        </button>
                      </div>
                    </td>
                  </tr>
                  {editing === pair.id ? (
                    <tr class="editor-row" id={`pair-editor-${pair.id}`}>
                      <td colSpan={6}>
                        <h3 class="editor-title">Edit {pair.name}</h3>
                        <PairForm idPrefix={`pair-${pair.id}`} pair={pair} instances={instances.items} onSubmit={save(pair)} onCancel={() => setEditing(null)} />
                      </td>
                    </tr>
                  ) : null}
                </Fragment>
              ))}
            </tbody>
          </table>
        </div>
      </ListCard>

      <SyncAllDialog
        pair={syncAsk}
        onCancel={() => setSyncAsk(null)}
        onStarted={(sync) => {
          setSyncAsk(null);
          setSyncing(sync);
          notify('info', `Sync of ${plural(sync.started.mirror_count, 'mirror')} of “${sync.pair.name}” started.`);
          requestAnimationFrame(() => document.getElementById('sync-all-heading')?.scrollIntoView({ block: 'nearest' }));
        }}
      />

      <ConfirmDialog
        open={deleting !== null}
        title={deleting ? `Delete pair “${deleting.name}”?` : 'Delete pair'}
        confirmLabel={deleting?.mirror_count ? `Delete pair and ${plural(deleting.mirror_count, 'mirror')}` : 'Delete pair'}
        danger
        busy={deleteBusy}
        onConfirm={() => void remove()}
        onCancel={() => setDeleting(null)}
      >
        {deleting?.mirror_count ? (
          <div class="warning-box" data-testid="cascade-warning">
            <p>
              <strong>This also deletes its {plural(deleting.mirror_count, 'mirror')}</strong>, including their configuration on GitLab. This cannot be undone.
            </p>
          </div>
        ) : (
          <p>The pair has no mirrors. This cannot be undone.</p>
        )}
      </ConfirmDialog>
    </>
  );
}
