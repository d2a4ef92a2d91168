import { describe, expect, it, vi } from 'vitest';
import { jobListQuery } from './api';
import { countsSummary, formatDuration, resultEntries, jobKindLabel, progressWidth, stateLabel, stateTone } from './format';
import type { Job } from './types';
import { watchJob, type EventStream } from './watch';

const job = (over: Partial<Job> = {}): Job => ({
  id: 9,
  kind: 'pair.import',
  state: 'running',
  pair_id: 1,
  mirror_id: null,
  instance_id: null,
  requested_by: 'admin',
  params: {},
  total: 4,
  done: 1,
  succeeded: 1,
  failed: 0,
  skipped: 0,
  cancelled: 0,
  warning_count: 0,
  progress_percent: 25,
  created_at: null,
  started_at: null,
  finished_at: null,
  updated_at: null,
  ...over,
});

class FakeStream implements EventStream {
  listeners = new Map<string, ((event: MessageEvent<string>) => void)[]>();
  onerror: ((event: Event) => void) | null = null;
  closed = false;
  addEventListener(type: string, listener: (event: MessageEvent<string>) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  emit(type: string, data: unknown) {
    for (const l of this.listeners.get(type) ?? []) l({ data: JSON.stringify(data) } as MessageEvent<string>);
  }
  fail() {
    this.onerror?.(new Event('error'));
  }
  close() {
    this.closed = true;
  }
}

/** Timers run by hand: `tick()` fires the pending one. */
function manualTimers() {
  const pending: (() => void)[] = [];
  return {
    setTimer: (fn: () => void) => pending.push(fn),
    clearTimer: () => pending.splice(0),
    pending,
    async tick() {
      const fn = pending.shift();
      fn?.();
      await new Promise((r) => setTimeout(r, 0));
    },
  };
}

describe('watching a job', () => {
  it('follows progress events and closes on done', () => {
    const stream = new FakeStream();
    const seen: Job[] = [];
    const modes: string[] = [];
    const fetchJob = vi.fn();
    watchJob(9, { onJob: (j) => seen.push(j), onMode: (m) => modes.push(m) }, { openStream: () => stream, fetchJob });
    stream.emit('progress', job());
    stream.emit('progress', job({ done: 4, state: 'succeeded', progress_percent: 100 }));
    stream.emit('done', job({ done: 4, state: 'succeeded', progress_percent: 100 }));
    expect(seen.map((j) => j.done)).toEqual([1, 4, 4]);
    expect(stream.closed).toBe(true);
    expect(modes).toEqual(['live']);
    expect(fetchJob).not.toHaveBeenCalled();
  });

  it('falls back to polling when the stream fails, and stops once finished', async () => {
    const stream = new FakeStream();
    const timers = manualTimers();
    const answers = [job({ done: 2 }), job({ done: 4, state: 'partially_failed', failed: 1 })];
    const fetchJob = vi.fn(() => {
      const next = answers.shift();
      return next ? Promise.resolve(next) : Promise.reject(new Error('no more answers'));
    });
    const seen: number[] = [];
    const modes: string[] = [];
    watchJob(9, { onJob: (j) => seen.push(j.done), onMode: (m) => modes.push(m) }, { openStream: () => stream, fetchJob, ...timers });
    stream.emit('progress', job());
    stream.fail();
    expect(stream.closed).toBe(true);
    expect(modes).toEqual(['live', 'polling']);
    await new Promise((r) => setTimeout(r, 0));
    expect(seen).toEqual([1, 2]);
    expect(timers.pending).toHaveLength(1);
    await timers.tick();
    expect(seen).toEqual([1, 2, 4]);
    expect(fetchJob).toHaveBeenCalledTimes(2);
    expect(timers.pending).toHaveLength(0);
  });

  it('polls when there is no EventSource and keeps polling through errors', async () => {
    const timers = manualTimers();
    const fetchJob = vi.fn().mockRejectedValueOnce(new Error('offline')).mockResolvedValueOnce(job({ state: 'succeeded', done: 4 }));
    const problems: string[] = [];
    const seen: string[] = [];
    watchJob(9, { onJob: (j) => seen.push(j.state), onProblem: (p) => problems.push(p) }, { openStream: () => null, fetchJob, ...timers });
    await new Promise((r) => setTimeout(r, 0));
    expect(problems).toEqual(['offline']);
    await timers.tick();
    expect(seen).toEqual(['succeeded']);
    expect(timers.pending).toHaveLength(0);
  });

  it('stops everything when the caller stops', async () => {
    const timers = manualTimers();
    const fetchJob = vi.fn(() => Promise.resolve(job()));
    const stop = watchJob(9, { onJob: () => undefined }, { openStream: () => null, fetchJob, ...timers });
    await new Promise((r) => setTimeout(r, 0));
    stop();
    expect(timers.pending).toHaveLength(0);
  });
});

describe('job display', () => {
  it('labels kinds and states', () => {
    expect(jobKindLabel('pair.import')).toBe('Import mirrors');
    expect(jobKindLabel('mirror.frobnicate')).toBe('mirror.frobnicate');
    expect(stateLabel('partially_failed')).toBe('Partially failed');
    expect(stateTone('partially_failed')).toBe('warning');
    expect(stateTone('queued')).toBe('neutral');
  });

  it('reaches 100 % when finished and clamps running progress', () => {
    expect(progressWidth({ state: 'running', progress_percent: 33.3 })).toBe(33.3);
    expect(progressWidth({ state: 'running', progress_percent: 140 })).toBe(100);
    expect(progressWidth({ state: 'queued', progress_percent: Number.NaN })).toBe(0);
    expect(progressWidth({ state: 'failed', progress_percent: 50 })).toBe(100);
  });

  it('summarises counts and durations', () => {
    expect(countsSummary(job({ failed: 1, skipped: 2, warning_count: 1 }))).toBe('1 of 4 done · 1 failed · 2 skipped · 1 warning');
    expect(formatDuration(340)).toBe('340 ms');
    expect(formatDuration(1234)).toBe('1.2 s');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
    expect(formatDuration(null)).toBe('—');
  });

  it('lists the scalar values of an item result', () => {
    expect(resultEntries({ gitlab_status: 'started', token_id: 10, reused: false, settings: { a: 1 }, none: null })).toEqual([
      ['gitlab status', 'started'],
      ['token id', '10'],
      ['reused', 'false'],
    ]);
    expect(resultEntries(null)).toEqual([]);
    expect(resultEntries({ verdict: 'drift', differences: [{ field: 'enabled', expected: true, actual: false }, 'url differs'], rolled_back: [] })).toEqual([
      ['verdict', 'drift'],
      ['differences', 'enabled: expected true, got false; url differs'],
    ]);
  });

  it('builds the list query', () => {
    expect(jobListQuery({ state: '', kind: ' ', pairId: null, page: 1, pageSize: 25 })).toEqual({
      state: undefined,
      kind: undefined,
      pair_id: undefined,
      mirror_id: undefined,
      page: undefined,
      page_size: 25,
    });
    expect(jobListQuery({ state: 'failed', kind: 'pair.sync', pairId: 3, page: 2 })).toMatchObject({ state: 'failed', kind: 'pair.sync', pair_id: 3, page: 2 });
  });
});
