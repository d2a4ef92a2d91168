/** The Jobs tab: the list of jobs, or one job's detail (`#/jobs?id=7`). */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { describeError, type ListResult } from '../api';
import { useData } from '../app/data';
import { PageHeader } from '../app/PageHeader';
import { href } from '../app/router';
import { EmptyState, LoadError } from '../ui/EmptyState';
import { formatZulu, timeAgo } from '../util/format';
import { listJobs } from './api';
import { JobDetail } from './JobDetail';
import './jobs.css';
import { JOB_KINDS, JOB_STATES, jobKindLabel, progressWidth, stateLabel, stateTone } from './format';
import type { Job, JobState } from './types';
import { isFinishedState } from './watch';

const PAGE_SIZE = 25;
/** The list refreshes itself this often while a job on it is still running. */
const LIST_REFRESH_MS = 5000;

function parseId(raw: string | null): number | null {
  return raw && /^\d+$/.test(raw) && Number(raw) > 0 ? Number(raw) : null;
}

export function JobsPage({ params }: { params: URLSearchParams }) {
  const id = parseId(params.get('id'));
  if (id !== null) {
    return (
      <>
        <PageHeader title={`Job #${id}`} actions={<a class="button" href={href('/jobs')}>All jobs</a>} />
        <JobDetail key={id} jobId={id} />
      </>
    );
  }
  return <JobList pairId={parseId(params.get('pair'))} />;
}

function JobList({ pairId }: { pairId: number | null }) {
  const { pairs } = useData();
  const [state, setState] = useState<JobState | ''>('');
  const [kind, setKind] = useState('');
  const [page, setPage] = useState(1);
  const [result, setResult] = useState<ListResult<Job> | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async (signal?: AbortSignal) => {
    try {
      setResult(await listJobs({ state, kind, pairId, page, pageSize: PAGE_SIZE }, signal));
      setError(null);
    } catch (e) {
      if (e instanceof DOMException && e.name === 'AbortError') return;
      setError(describeError(e));
    }
  }, [state, kind, pairId, page]);

  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [load]);

  const active = result?.items.some((job) => !isFinishedState(job.state)) ?? false;
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => void load(), LIST_REFRESH_MS);
    return () => clearInterval(timer);
  }, [active, load]);

  const pages = result ? Math.max(1, Math.ceil(result.total / PAGE_SIZE)) : 1;
  return (
    <>
      <PageHeader title="Jobs" description="Work that touches GitLab runs as a job: follow its progress, see each item's result, retry what failed." />
      <section class="card" aria-labelledby="job-list-heading">
        <div class="card-header">
          <h2 id="job-list-heading" class="card-title">
            Jobs <span class="count">{result ? result.total : ''}</span>
          </h2>
          <button type="button" class="button button-small" onClick={() => void load()}>
            Refresh
          </button>
        </div>
        <div class="filters" role="group" aria-label="Filter jobs">
          <div class="field">
            <label for="job-filter-state">State</label>
            <select id="job-filter-state" value={state} onChange={(e) => { setState(e.currentTarget.value as JobState | ''); setPage(1); }}>
              <option value="">Any state</option>
              {JOB_STATES.map((s) => (
                <option key={s} value={s}>
                  {stateLabel(s)}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="job-filter-kind">Kind</label>
            <select id="job-filter-kind" value={kind} onChange={(e) => { setKind(e.currentTarget.value); setPage(1); }}>
              <option value="">Any kind</option>
              {JOB_KINDS.map((k) => (
                <option key={k} value={k}>
                  {jobKindLabel(k)}
                </option>
              ))}
            </select>
          </div>
          {pairId ? (
            <p class="small muted">
              Only jobs of {pairs.items.find((p) => p.id === pairId)?.name ?? `pair #${pairId}`}. <a href={href('/jobs')}>Show all</a>
            </p>
          ) : null}
        </div>
        {error ? (
          <LoadError message={error} onRetry={() => void load()} />
        ) : !result ? (
          <p class="muted" aria-busy="true">
            Loading jobs…
          </p>
        ) : result.items.length === 0 ? (
          <EmptyState title={state || kind ? 'No job matches these filters' : 'No jobs yet'} icon="clock">
            <p>Syncing, importing, rotating tokens and deleting mirrors start jobs; they show up here.</p>
          </EmptyState>
        ) : (
          <>
            <div class="table-wrap">
              <table class="table responsive-table" data-testid="jobs-table">
                <thead>
                  <tr>
                    <th scope="col">Job</th>
                    <th scope="col">State</th>
                    <th scope="col">Progress</th>
                    <th scope="col">Requested by</th>
                    <th scope="col">Created</th>
                    <th scope="col">Finished</th>
                  </tr>
                </thead>
                <tbody>
                  {result.items.map((job) => (
                    <tr key={job.id} id={`job-row-${job.id}`} data-testid="job-row" data-kind={job.kind} data-state={job.state}>
                      <th scope="row" data-label="Job">
                        <a href={href('/jobs', { id: job.id })}>
                          #{job.id} {jobKindLabel(job.kind)}
                        </a>
                        {job.pair_id ? <div class="small muted">{pairs.items.find((p) => p.id === job.pair_id)?.name ?? `pair #${job.pair_id}`}</div> : null}
                      </th>
                      <td data-label="State">
                        <span class={`badge badge-tone-${stateTone(job.state)}`}>{stateLabel(job.state)}</span>
                      </td>
                      <td data-label="Progress">
                        <div class={`progress progress-${stateTone(job.state)}`} aria-hidden="true">
                          <div class="progress-bar" style={{ width: `${progressWidth(job)}%` }} />
                        </div>
                        <span class="small muted">
                          {job.done}/{job.total}
                          {job.failed ? `, ${job.failed} failed` : ''}
                        </span>
                      </td>
                      <td data-label="Requested by">{job.requested_by || '—'}</td>
                      <td data-label="Created" title={formatZulu(job.created_at)}>
                        {timeAgo(job.created_at)}
                      </td>
                      <td data-label="Finished" title={formatZulu(job.finished_at)}>
                        {job.finished_at ? timeAgo(job.finished_at) : '—'}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div class="pager">
              <span class="small muted">
                Page {page} of {pages} · {result.total} jobs
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
          </>
        )}
      </section>
    </>
  );
}
