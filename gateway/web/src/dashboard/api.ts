/** REST read models of the dashboard: `/api/dashboard/metrics` and `/api/dashboard/quick-stats`. */
import { api } from '../api';

export interface AutoRefresh {
  enabled: boolean;
  running: boolean;
  refreshing: boolean;
  interval_minutes: number | null;
  interval_seconds?: number | null;
  last_refresh_started_at: string | null;
  last_refresh_completed_at: string | null;
  last_refresh_total: number | null;
  last_refresh_success: number | null;
  last_refresh_errors: number | null;
  next_refresh_due_at?: string | null;
}

export interface StatusFreshness {
  fresh_count: number;
  /** Checked before the fresh window, or never. */
  stale_count: number;
  /** Of `stale_count`, never checked. */
  never_checked_count?: number;
  /** A status older than this is stale (server-defined; one hour when not given). */
  fresh_window_seconds?: number;
  oldest_update: string | null;
  newest_update: string | null;
  auto_refresh?: AutoRefresh | null;
}

export type ActivityType = 'created' | 'synced' | 'deleted' | 'failed' | 'updated';

/** A job of the last 24 hours (the gateway reports jobs rather than mirror rows). */
export interface Activity {
  /** The job's id. */
  id: number;
  /** Source path of the job's mirror, else the pair's or instance's name. */
  project: string;
  activity_type: ActivityType | string;
  time_ago?: string | null;
  /** The job's state. */
  status: string | null;
  timestamp: string | null;
  job_kind?: string;
  mirror_id?: number | null;
  instance_pair_id?: number | null;
}

export interface HealthCounts {
  success: number;
  failed: number;
  pending: number;
  unknown: number;
}

export interface DashboardMetrics {
  summary: {
    total_mirrors: number;
    total_pairs: number;
    total_instances: number;
    enabled_mirrors: number;
    health_percentage: number;
  };
  health: HealthCounts;
  status_freshness: StatusFreshness;
  recent_activity: Activity[];
  mirrors_by_pair: { pair_id: number; pair_name: string; count: number }[];
}

export interface QuickStats {
  syncing_count: number;
  recent_failures: number;
  syncing_mirror_ids: number[];
  timestamp: string | null;
}

export function getMetrics(signal?: AbortSignal): Promise<DashboardMetrics> {
  return api.get<DashboardMetrics>('/dashboard/metrics', { signal });
}

export function getQuickStats(signal?: AbortSignal): Promise<QuickStats> {
  return api.get<QuickStats>('/dashboard/quick-stats', { signal });
}
