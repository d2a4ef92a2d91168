/**
 * Follows one job until it finishes: Server-Sent Events first, polling as a fallback.
 *
 * `EventSource` reconnects on its own after an error, which would hammer a gateway that
 * refuses the stream (an expired token, a proxy that buffers); so on the first error the
 * stream is closed for good and the job is polled instead, at most every `pollMs`.
 */
import type { Job } from './types';

export const POLL_INTERVAL_MS = 2000;

/** The part of `EventSource` the watcher uses (a fake in tests). */
export interface EventStream {
  addEventListener(type: string, listener: (event: MessageEvent<string>) => void): void;
  onerror: ((event: Event) => void) | null;
  close(): void;
}

export interface WatchDeps {
  /** Opens the event stream of the job, or returns null when SSE is unavailable. */
  openStream: (jobId: number) => EventStream | null;
  fetchJob: (jobId: number) => Promise<Job>;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  pollMs?: number;
}

export interface WatchCallbacks {
  onJob: (job: Job) => void;
  /** A problem that does not stop the watch (polling keeps going). */
  onProblem?: (message: string) => void;
  /** Called when the transport changes, for display ("live" or "polling"). */
  onMode?: (mode: 'live' | 'polling') => void;
}

export function isFinishedState(state: Job['state']): boolean {
  return state !== 'queued' && state !== 'running';
}

function parseJob(data: string): Job | null {
  try {
    const value = JSON.parse(data) as unknown;
    return typeof value === 'object' && value !== null && 'id' in value && 'state' in value ? (value as Job) : null;
  } catch {
    return null;
  }
}

/** Starts watching; returns a function that stops it. */
export function watchJob(jobId: number, callbacks: WatchCallbacks, deps: WatchDeps): () => void {
  const setTimer = deps.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = deps.clearTimer ?? ((handle) => clearTimeout(handle as ReturnType<typeof setTimeout>));
  const pollMs = Math.max(deps.pollMs ?? POLL_INTERVAL_MS, 250);
  let stopped = false;
  let finished = false;
  let stream: EventStream | null = null;
  let timer: unknown = null;

  const deliver = (job: Job) => {
    if (stopped) return;
    callbacks.onJob(job);
    if (isFinishedState(job.state)) finished = true;
  };

  const poll = async () => {
    timer = null;
    if (stopped || finished) return;
    try {
      deliver(await deps.fetchJob(jobId));
    } catch (error) {
      callbacks.onProblem?.(error instanceof Error ? error.message : String(error));
    }
    if (!stopped && !finished) timer = setTimer(() => void poll(), pollMs);
  };

  const fallBackToPolling = () => {
    stream?.close();
    stream = null;
    if (stopped || finished) return;
    callbacks.onMode?.('polling');
    void poll();
  };

  try {
    stream = deps.openStream(jobId);
  } catch {
    stream = null;
  }
  if (stream) {
    callbacks.onMode?.('live');
    const onData = (event: MessageEvent<string>) => {
      const job = parseJob(event.data);
      if (job) deliver(job);
    };
    stream.addEventListener('progress', onData);
    stream.addEventListener('done', (event) => {
      onData(event);
      stream?.close();
      stream = null;
      // `done` without a finished job (the API ended the stream early): poll for the rest.
      if (!finished) fallBackToPolling();
    });
    stream.addEventListener('error', (event) => {
      // A server-sent `error` event carries a body; a transport error has no data.
      if (typeof event.data === 'string' && event.data) callbacks.onProblem?.('The live progress stream failed; checking periodically instead.');
    });
    stream.onerror = () => {
      if (!finished) fallBackToPolling();
      else {
        stream?.close();
        stream = null;
      }
    };
  } else {
    fallBackToPolling();
  }

  return () => {
    stopped = true;
    stream?.close();
    stream = null;
    if (timer !== null) clearTimer(timer);
    timer = null;
  };
}
