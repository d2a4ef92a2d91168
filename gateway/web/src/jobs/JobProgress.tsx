/**
 * A job's live progress: bar (100 % once finished), state and counts. Reusable wherever an
 * operation starts a job: `<JobProgress jobId={job.id} initial={job} onFinished={reload} />`.
 */
import { useEffect, useRef } from 'preact/hooks';
import { href } from '../app/router';
import './jobs.css';
import { countsSummary, jobKindLabel, progressWidth, stateLabel, stateTone } from './format';
import type { Job } from './types';
import { useLiveJob, type LiveJob } from './useJob';
import { isFinishedState } from './watch';

interface Props {
  jobId: number;
  /** The job as returned by the call that started it, shown until the first update. */
  initial?: Job | null;
  /** Called once when the job reaches a final state. */
  onFinished?: (job: Job) => void;
  /** Show a link to the job's page (default true). */
  link?: boolean;
  /** Optional heading text; defaults to the job kind. */
  label?: string;
}

export function JobProgress({ jobId, initial, onFinished, link = true, label }: Props) {
  const live = useLiveJob(jobId, initial);
  const { job } = live;
  const reported = useRef<number | null>(null);
  const finished = job ? isFinishedState(job.state) : false;

  useEffect(() => {
    if (job && finished && reported.current !== job.id) {
      reported.current = job.id;
      onFinished?.(job);
    }
  }, [job, finished, onFinished]);

  return <JobProgressView jobId={jobId} live={live} link={link} label={label} />;
}

interface ViewProps {
  jobId: number;
  live: LiveJob;
  link?: boolean;
  label?: string | undefined;
}

/** The progress display of a job someone else watches (the job page). */
export function JobProgressView({ jobId, live, link = true, label }: ViewProps) {
  const { job, error, mode } = live;
  const finished = job ? isFinishedState(job.state) : false;
  const width = job ? progressWidth(job) : 0;
  const tone = job ? stateTone(job.state) : 'neutral';
  const title = label ?? (job ? jobKindLabel(job.kind) : `Job ${jobId}`);
  return (
    <div class="job-progress" data-testid="job-progress" data-job-id={jobId} data-state={job?.state ?? 'loading'} data-mode={mode ?? ''}>
      <div class="job-progress-head">
        <span class="job-progress-title">
          {title}
          {link ? (
            <>
              {' '}
              <a href={href('/jobs', { id: jobId })} class="small">
                job #{jobId}
              </a>
            </>
          ) : null}
        </span>
        {job ? <span class={`badge badge-tone-${tone}`}>{stateLabel(job.state)}</span> : <span class="muted small">connecting…</span>}
      </div>
      <div
        class={`progress progress-${tone}`}
        role="progressbar"
        aria-label={`${title} progress`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(width)}
        aria-valuetext={job ? `${Math.round(width)} %, ${stateLabel(job.state)}` : 'waiting'}
      >
        <div class="progress-bar" style={{ width: `${width}%` }} />
      </div>
      <div class="job-progress-foot small muted">
        <span data-testid="job-progress-percent">{Math.round(width)} %</span>
        {job ? <span>{countsSummary(job)}</span> : null}
        {mode === 'polling' && !finished ? <span title="The live stream is unavailable; the job is checked every 2 seconds.">checking periodically</span> : null}
      </div>
      {error ? (
        <p class="field-error" role="status">
          {error}
        </p>
      ) : null}
    </div>
  );
}
