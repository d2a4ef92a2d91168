/** A job kept up to date over its event stream (or by polling when the stream fails). */
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api';
import { session } from '../auth/session';
import { getJob, jobEventsUrl } from './api';
import type { Job } from './types';
import { watchJob, type EventStream } from './watch';

function openStream(jobId: number): EventStream | null {
  const token = session.token();
  if (typeof EventSource === 'undefined' || !token) return null;
  return new EventSource(jobEventsUrl(jobId, token)) as unknown as EventStream;
}

export interface LiveJob {
  job: Job | null;
  error: string | null;
  mode: 'live' | 'polling' | null;
}

/**
 * Watches `jobId` (nothing when null); `initial` shows at once while the stream connects.
 * Changing `restart` watches again (after a retry the finished job runs once more).
 */
export function useLiveJob(jobId: number | null, initial?: Job | null, restart = 0): LiveJob {
  const [state, setState] = useState<LiveJob>({ job: initial ?? null, error: null, mode: null });
  useEffect(() => {
    if (jobId === null) return;
    setState((s) => ({ job: initial && initial.id === jobId ? initial : s.job?.id === jobId ? s.job : null, error: null, mode: null }));
    return watchJob(
      jobId,
      {
        onJob: (job) => setState((s) => ({ ...s, job, error: null })),
        onProblem: (message) => setState((s) => ({ ...s, error: message })),
        onMode: (mode) => setState((s) => ({ ...s, mode })),
      },
      {
        openStream,
        fetchJob: (id) =>
          getJob(id).catch((error: unknown) => {
            throw new Error(describeError(error));
          }),
      },
    );
    // `initial` only seeds the first render of a job id.
  }, [jobId, restart]);
  return state;
}
