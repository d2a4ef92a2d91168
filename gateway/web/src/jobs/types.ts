/** Shapes of `/api/jobs` (see gateway/src/jobs/mod.rs). */

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'partially_failed' | 'cancelled';

export type JobItemState = 'queued' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';

export interface Job {
  id: number;
  kind: string;
  state: JobState;
  pair_id: number | null;
  mirror_id: number | null;
  instance_id: number | null;
  requested_by: string;
  params: Record<string, unknown>;
  total: number;
  done: number;
  succeeded: number;
  failed: number;
  skipped: number;
  cancelled: number;
  warning_count: number;
  progress_percent: number;
  created_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  updated_at: string | null;
}

export interface JobItem {
  id: number;
  job_id: number;
  mirror_id: number | null;
  label: string;
  task_kind: string;
  state: JobItemState;
  attempts: number;
  error: string | null;
  warnings: string[];
  result: Record<string, unknown>;
  duration_ms: number | null;
  started_at: string | null;
  finished_at: string | null;
}
