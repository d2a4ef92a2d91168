/**
 * A job started from another page (Sync all, an instance's deletion): the live progress bar
 * (reaches 100 % when the job ends) and, once it has finished, the result of each item.
 */
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api';
import { listJobItems } from './api';
import { formatDuration, stateLabel, stateTone } from './format';
import { JobProgress } from './JobProgress';
import type { Job, JobItem } from './types';
import './progress.css';

/** At most this many items are listed (the job page has them all, paged). */
const MAX_ITEM_PAGES = 10;

async function allItems(jobId: number, signal: AbortSignal): Promise<{ items: JobItem[]; total: number }> {
  const items: JobItem[] = [];
  let total = 0;
  for (let page = 1; page <= MAX_ITEM_PAGES; page++) {
    const result = await listJobItems(jobId, '', page, signal);
    items.push(...result.items);
    total = result.total;
    if (result.items.length === 0 || items.length >= total) break;
  }
  return { items, total };
}

interface Props {
  job: Job;
  label: string;
  onFinished?: (job: Job) => void;
}

export function JobProgressPanel({ job, label, onFinished }: Props) {
  const [finished, setFinished] = useState<Job | null>(null);
  const [results, setResults] = useState<{ items: JobItem[]; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!finished) return;
    const controller = new AbortController();
    allItems(finished.id, controller.signal)
      .then(setResults)
      .catch((e: unknown) => {
        if (!controller.signal.aborted) setError(describeError(e));
      });
    return () => controller.abort();
  }, [finished?.id]);

  return (
    <div class="job-run">
      <JobProgress
        jobId={job.id}
        initial={job}
        label={label}
        onFinished={(done) => {
          setFinished(done);
          onFinished?.(done);
        }}
      />
      {error ? (
        <p class="form-errors" role="alert">
          {error}
        </p>
      ) : null}
      {finished && !results && !error ? <p class="muted small">Loading the results…</p> : null}
      {results && results.items.length === 0 ? <p class="muted small">The job had nothing to do.</p> : null}
      {results && results.items.length > 0 ? (
        <div class="table-wrap job-results">
          <table class="table responsive-table" data-testid="job-items">
            <caption class="visually-hidden">Result per item</caption>
            <thead>
              <tr>
                <th scope="col">Item</th>
                <th scope="col">Result</th>
                <th scope="col">Took</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {results.items.map((item) => (
                <tr key={item.id} data-testid="job-item" data-state={item.state}>
                  <th scope="row" data-label="Item" class="cell-path">
                    {item.label || (item.mirror_id ? `Mirror #${item.mirror_id}` : `Item #${item.id}`)}
                  </th>
                  <td data-label="Result">
                    <span class={`badge badge-tone-${stateTone(item.state)}`}>{stateLabel(item.state)}</span>
                  </td>
                  <td data-label="Took">{formatDuration(item.duration_ms)}</td>
                  <td data-label="Details" class="small">
                    {item.error ?? (item.warnings.length ? item.warnings.join('; ') : '—')}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {results.total > results.items.length ? <p class="muted small">Showing {results.items.length} of {results.total} items; the job page lists them all.</p> : null}
        </div>
      ) : null}
    </div>
  );
}
