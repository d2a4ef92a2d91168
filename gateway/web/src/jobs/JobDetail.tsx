/** One job: live progress, its parameters, cancel/retry, and per-item results. */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { describeError, type ListResult } from '../api';
import { useData } from '../app/data';
import { href } from '../app/router';
import { LoadError } from '../ui/EmptyState';
import { useToast } from '../ui/toast';
import { formatZulu } from '../util/format';
import { cancelJob, listJobItems, retryJob } from './api';
import { formatDuration, jobKindLabel, resultEntries, stateLabel, stateTone } from './format';
import { JobProgressView } from './JobProgress';
import type { JobItem, JobItemState } from './types';
import { useLiveJob } from './useJob';
import { isFinishedState } from './watch';

const ITEM_STATES: JobItemState[] = ['queued', 'running', 'succeeded', 'failed', 'skipped', 'cancelled'];

export function JobDetail({ jobId }: { jobId: number }) {
  const notify = useToast();
  const { pairs } = useData();
  // Retrying starts a new run of the same job: watch it again from scratch.
  const [run, setRun] = useState(0);
  const live = useLiveJob(jobId, null, run);
  const { job, error } = live;
  const [items, setItems] = useState<ListResult<JobItem> | null>(null);
  const [itemsError, setItemsError] = useState<string | null>(null);
  const [itemState, setItemState] = useState<JobItemState | ''>('');
  const [page, setPage] = useState(1);
  const [busy, setBusy] = useState(false);

  const loadItems = useCallback(async () => {
    try {
      setItems(await listJobItems(jobId, itemState, page));
      setItemsError(null);
    } catch (e) {
      setItemsError(describeError(e));
    }
  }, [jobId, itemState, page]);

  // Items are reloaded whenever the job's counts move.
  const progressKey = job ? `${job.state}:${job.done}:${job.warning_count}:${job.updated_at ?? ''}:${run}` : '';
  useEffect(() => {
    void loadItems();
  }, [loadItems, progressKey]);

  const cancel = async () => {
    setBusy(true);
    try {
      await cancelJob(jobId);
      notify('info', `Job #${jobId} is being cancelled; running items finish first.`);
    } catch (e) {
      notify('error', describeError(e));
    } finally {
      setBusy(false);
    }
  };

  const retry = async () => {
    setBusy(true);
    try {
      await retryJob(jobId);
      notify('success', `Failed items of job #${jobId} queued again.`);
      setRun((n) => n + 1);
    } catch (e) {
      notify('error', describeError(e));
    } finally {
      setBusy(false);
    }
  };

  if (!job && error) return <LoadError message={error} onRetry={() => setRun((n) => n + 1)} />;
  const finished = job ? isFinishedState(job.state) : false;
  const pages = items ? Math.max(1, Math.ceil(items.total / 100)) : 1;
  return (
    <>
      <section class="card" aria-labelledby="job-heading" data-testid="job-detail">
        <div class="card-header">
          <h2 id="job-heading" class="card-title">
            {job ? jobKindLabel(job.kind) : 'Loading…'}
          </h2>
          <div class="row-actions">
            {job && !finished ? (
              <button type="button" class="button button-small button-danger-outline" disabled={busy} onClick={() => void cancel()}>
                Cancel job
              </button>
            ) : null}
            {job && finished && job.failed > 0 ? (
              <button type="button" class="button button-small button-primary" disabled={busy} onClick={() => void retry()}>
                Retry {job.failed} failed
              </button>
            ) : null}
          </div>
        </div>
        <JobProgressView jobId={jobId} live={live} link={false} label="Progress" />
        {job ? (
          <dl class="job-detail-grid">
            <div>
              <dt>Kind</dt>
              <dd>
                <code>{job.kind}</code>
              </dd>
            </div>
            <div>
              <dt>Requested by</dt>
              <dd>{job.requested_by || '—'}</dd>
            </div>
            {job.pair_id ? (
              <div>
                <dt>Pair</dt>
                <dd>
                  <a href={href('/mirrors', { pair: job.pair_id })}>{pairs.items.find((p) => p.id === job.pair_id)?.name ?? `Pair #${job.pair_id}`}</a>
                </dd>
              </div>
            ) : null}
            {job.mirror_id ? (
              <div>
                <dt>Mirror</dt>
                <dd>{job.pair_id ? <a href={href('/mirrors', { pair: job.pair_id, focus: job.mirror_id })}>Mirror #{job.mirror_id}</a> : `#${job.mirror_id}`}</dd>
              </div>
            ) : null}
            <div>
              <dt>Created</dt>
              <dd>{formatZulu(job.created_at)}</dd>
            </div>
            <div>
              <dt>Started</dt>
              <dd>{formatZulu(job.started_at)}</dd>
            </div>
            <div>
              <dt>Finished</dt>
              <dd>{formatZulu(job.finished_at)}</dd>
            </div>
          </dl>
        ) : null}
      </section>

      <section class="card" aria-labelledby="job-items-heading">
        <div class="card-header">
          <h2 id="job-items-heading" class="card-title">
            Items <span class="count">{items ? items.total : ''}</span>
          </h2>
          <div class="field" style={{ margin: 0 }}>
            <label for="job-item-state" class="visually-hidden">
              Show items in state
            </label>
            <select id="job-item-state" value={itemState} onChange={(e) => { setItemState(e.currentTarget.value as JobItemState | ''); setPage(1); }}>
              <option value="">All items</option>
              {ITEM_STATES.map((s) => (
                <option key={s} value={s}>
                  {stateLabel(s)}
                </option>
              ))}
            </select>
          </div>
        </div>
        {itemsError ? (
          <LoadError message={itemsError} onRetry={() => void loadItems()} />
        ) : !items ? (
          <p class="muted" aria-busy="true">
            Loading items…
          </p>
        ) : items.items.length === 0 ? (
          <p class="muted">{itemState ? 'No item in this state.' : 'This job has no items.'}</p>
        ) : (
          <div class="table-wrap">
            <table class="table responsive-table" data-testid="job-items-table">
              <thead>
                <tr>
                  <th scope="col">Item</th>
                  <th scope="col">State</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Duration</th>
                  <th scope="col">Result</th>
                </tr>
              </thead>
              <tbody>
                {items.items.map((item) => (
                  <tr key={item.id} data-testid="job-item-row" data-state={item.state}>
                    <th scope="row" data-label="Item" class="cell-wrap">
                      {item.label || `Item ${item.id}`}
                      <div class="small muted">{item.task_kind}</div>
                    </th>
                    <td data-label="State">
                      <span class={`badge badge-tone-${stateTone(item.state)}`}>{stateLabel(item.state)}</span>
                    </td>
                    <td data-label="Attempts">{item.attempts}</td>
                    <td data-label="Duration">{formatDuration(item.duration_ms)}</td>
                    <td data-label="Result" class="cell-wrap">
                      <ItemResult item={item} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {items && pages > 1 ? (
          <div class="pager">
            <span class="small muted">
              Page {page} of {pages}
            </span>
            <div class="pager-buttons">
              <button type="button" class="button button-small" disabled={page <= 1} onClick={() => setPage(page - 1)}>
                Previous
              </button>
              <button type="button" class="button button-small" disabled={page >= pages || page >= 100} onClick={() => setPage(page + 1)}>
                Next
              </button>
            </div>
          </div>
        ) : null}
      </section>
    </>
  );
}

/** An item's error (a reason when skipped), warnings and result values. */
function ItemResult({ item }: { item: JobItem }) {
  const entries = resultEntries(item.result);
  if (!item.error && !item.warnings.length && !entries.length) return <span class="muted">—</span>;
  return (
    <>
      {item.error || item.warnings.length ? (
        <ul class="item-messages">
          {item.error ? <li class={item.state === 'skipped' ? 'muted' : 'item-error'}>{item.state === 'skipped' ? `Skipped: ${item.error}` : item.error}</li> : null}
          {item.warnings.map((w) => (
            <li key={w} class="item-warning">
              {w}
            </li>
          ))}
        </ul>
      ) : null}
      {entries.length ? (
        <dl class="item-result small">
          {entries.map(([key, value]) => (
            <div key={key}>
              <dt>{key}</dt>
              <dd>{value}</dd>
            </div>
          ))}
        </dl>
      ) : null}
    </>
  );
}
