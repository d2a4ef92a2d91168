/** Pure helpers of the dashboard: health segments, freshness wording, activity labels. */
import type { ActivityType, HealthCounts, StatusFreshness } from './api';

export interface HealthSegment {
  key: keyof HealthCounts;
  label: string;
  count: number;
  /** Share of all mirrors, 0–100, one decimal. */
  percent: number;
  /** CSS custom property of the colour. */
  color: string;
}

const SEGMENTS: { key: keyof HealthCounts; label: string; color: string }[] = [
  { key: 'success', label: 'Succeeded', color: '--health-ok' },
  { key: 'failed', label: 'Failed', color: '--health-error' },
  { key: 'pending', label: 'In progress', color: '--health-warning' },
  { key: 'unknown', label: 'Never checked', color: '--health-unknown' },
];

export function healthSegments(health: HealthCounts): HealthSegment[] {
  const counts = SEGMENTS.map((s) => Math.max(0, Number(health[s.key]) || 0));
  const total = counts.reduce((a, b) => a + b, 0);
  return SEGMENTS.map((s, i) => ({
    ...s,
    count: counts[i] ?? 0,
    percent: total ? Math.round(((counts[i] ?? 0) * 1000) / total) / 10 : 0,
  }));
}

/** Health % as shown on the card: one decimal, no trailing `.0`. */
export function formatPercent(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const rounded = Math.round(value * 10) / 10;
  return `${Number.isInteger(rounded) ? rounded.toFixed(0) : rounded.toFixed(1)} %`;
}

/** Severity of the health %: what colour the card gets. */
export function healthLevel(percent: number, totalMirrors: number): 'ok' | 'warning' | 'error' | 'unknown' {
  if (totalMirrors <= 0 || !Number.isFinite(percent)) return 'unknown';
  if (percent >= 90) return 'ok';
  if (percent >= 50) return 'warning';
  return 'error';
}

/** `90 min`, `2 h`, `1 d`: a window length in the freshness sentence. */
function windowText(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} d`;
  if (seconds % 3_600 === 0) return `${seconds / 3_600} h`;
  return `${Math.round(seconds / 60)} min`;
}

/** `12 fresh · 3 stale (…)` and the auto-refresh sentence. */
export function freshnessText(freshness: StatusFreshness): { counts: string; refresh: string } {
  const window = freshness.fresh_window_seconds && freshness.fresh_window_seconds > 0 ? freshness.fresh_window_seconds : 3_600;
  const never = freshness.never_checked_count ? `, ${freshness.never_checked_count} never checked` : '';
  const counts = `${freshness.fresh_count} fresh · ${freshness.stale_count} stale (status older than ${windowText(window)}${never})`;
  const auto = freshness.auto_refresh;
  let refresh: string;
  if (!auto) refresh = 'Automatic status refresh: not reported by the server.';
  else if (!auto.enabled) refresh = 'Automatic status refresh is off.';
  else if (auto.refreshing) refresh = 'Automatic status refresh is running now.';
  else {
    const minutes = auto.interval_minutes ?? (auto.interval_seconds ? auto.interval_seconds / 60 : null);
    const every = minutes ? ` every ${Number.isInteger(minutes) ? minutes : minutes.toFixed(1)} min` : '';
    const last =
      auto.last_refresh_total !== null && auto.last_refresh_total !== undefined
        ? `; last run checked ${auto.last_refresh_total} mirrors (${auto.last_refresh_success ?? 0} ok, ${auto.last_refresh_errors ?? 0} errors)`
        : '';
    refresh = `Automatic status refresh${every}${last}.`;
  }
  return { counts, refresh };
}

const ACTIVITY_LABELS: Record<ActivityType, string> = {
  created: 'Created',
  synced: 'Synced',
  deleted: 'Deleted',
  failed: 'Failed',
  updated: 'Updated',
};

export function activityLabel(type: string): string {
  return ACTIVITY_LABELS[type as ActivityType] ?? 'Updated';
}

/** `45s`, `12m`, `3h`, `2d` between two instants (the reference's compact form). */
export function shortAge(from: string | null | undefined, now = Date.now()): string | null {
  if (!from) return null;
  const then = new Date(from).getTime();
  if (Number.isNaN(then)) return null;
  const seconds = Math.max(0, Math.floor((now - then) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

/** How often the dashboard polls quick stats while it is visible (the server needs no more). */
export const QUICK_STATS_INTERVAL_MS = 30_000;
