/** Display names and badge tones of jobs and their items. */
import type { Job, JobItemState, JobState } from './types';

export type Tone = 'neutral' | 'info' | 'success' | 'warning' | 'danger';

const KIND_LABELS: Record<string, string> = {
  'mirror.create': 'Create mirror',
  'mirror.update': 'Update mirror',
  'mirror.delete': 'Delete mirror',
  'mirror.sync': 'Sync mirror',
  'mirror.rotate_token': 'Rotate mirror token',
  'mirror.refresh_status': 'Refresh mirror status',
  'mirror.verify': 'Verify mirror',
  'pair.sync': 'Sync pair',
  'pair.import': 'Import mirrors',
  'pair.refresh_status': 'Refresh pair status',
  'pair.delete': 'Delete pair',
  'instance.delete': 'Delete instance',
  'instance.verify': 'Verify instance',
  'scheduled.refresh_status': 'Scheduled status refresh',
};

/** Every kind the API documents, for the filter. */
export const JOB_KINDS = Object.keys(KIND_LABELS);

export const JOB_STATES: JobState[] = ['queued', 'running', 'succeeded', 'failed', 'partially_failed', 'cancelled'];

/** `Sync mirror`; unknown kinds are shown as sent (`mirror.frobnicate`). */
export function jobKindLabel(kind: string): string {
  return KIND_LABELS[kind] ?? kind;
}

export function stateLabel(state: JobState | JobItemState): string {
  const text = state.replace(/_/g, ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function stateTone(state: JobState | JobItemState): Tone {
  switch (state) {
    case 'succeeded':
      return 'success';
    case 'failed':
      return 'danger';
    case 'partially_failed':
      return 'warning';
    case 'running':
      return 'info';
    default:
      return 'neutral';
  }
}

/** `3 of 10 done · 1 failed · 2 skipped`. */
export function countsSummary(job: Pick<Job, 'total' | 'done' | 'failed' | 'skipped' | 'cancelled' | 'warning_count'>): string {
  const parts = [`${job.done} of ${job.total} done`];
  if (job.failed) parts.push(`${job.failed} failed`);
  if (job.skipped) parts.push(`${job.skipped} skipped`);
  if (job.cancelled) parts.push(`${job.cancelled} cancelled`);
  if (job.warning_count) parts.push(`${job.warning_count} warning${job.warning_count === 1 ? '' : 's'}`);
  return parts.join(' · ');
}

/** The bar's width: the server's percentage, clamped, and 100 once the job has finished. */
export function progressWidth(job: Pick<Job, 'progress_percent' | 'state'>): number {
  if (job.state !== 'queued' && job.state !== 'running') return 100;
  const value = Number.isFinite(job.progress_percent) ? job.progress_percent : 0;
  return Math.min(100, Math.max(0, value));
}

/** `1.2 s`, `340 ms`, `2 min 5 s`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}

/** One entry of a result list: text as is, a verify difference as `field: expected X, got Y`. */
function describeListEntry(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    if ('field' in record && ('expected' in record || 'actual' in record || 'got' in record)) {
      return `${String(record.field)}: expected ${JSON.stringify(record.expected)}, got ${JSON.stringify(record.actual ?? record.got)}`;
    }
  }
  return JSON.stringify(value);
}

/**
 * The readable part of an item's result: scalar values (`verdict: healthy`) and non-empty
 * lists (`differences: …`); nested objects are left to the API.
 */
export function resultEntries(result: Record<string, unknown> | null | undefined): [string, string][] {
  const out: [string, string][] = [];
  for (const [key, value] of Object.entries(result ?? {})) {
    const label = key.replace(/_/g, ' ');
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out.push([label, String(value)]);
    else if (Array.isArray(value) && value.length) out.push([label, value.map(describeListEntry).join('; ')]);
  }
  return out;
}
