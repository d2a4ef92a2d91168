/** Health wording, colours, thresholds and flow sizes of the topology (pure, unit-tested). */
import type { Health, HealthSettings, LinkMirror } from './api';

export const HEALTH_LABELS: Record<Health, string> = {
  ok: 'Healthy',
  warning: 'Warning',
  error: 'Error',
  unknown: 'Unknown',
};

const SEVERITY: Record<Health, number> = { unknown: 0, ok: 1, warning: 2, error: 3 };

/** A health value from the server, or `unknown` for anything unexpected. */
export function normalizeHealth(value: unknown): Health {
  return value === 'ok' || value === 'warning' || value === 'error' ? value : 'unknown';
}

/** CSS custom property that colours a health level (defined in health.css). */
export function healthColorVar(health: Health): string {
  return `--health-${normalizeHealth(health)}`;
}

export function worstHealth(values: Health[]): Health {
  return values.reduce<Health>((worst, h) => (SEVERITY[normalizeHealth(h)] > SEVERITY[worst] ? normalizeHealth(h) : worst), 'unknown');
}

export const DEFAULT_SETTINGS: HealthSettings = {
  staleWarningSeconds: 86_400,
  staleErrorSeconds: 604_800,
  neverSucceededLevel: 'warning',
};

/** Threshold choices offered in the controls (0 disables that level, as the server defines). */
export const THRESHOLD_CHOICES: { seconds: number; label: string }[] = [
  { seconds: 0, label: 'Off' },
  { seconds: 3_600, label: '1 hour' },
  { seconds: 6 * 3_600, label: '6 hours' },
  { seconds: 86_400, label: '1 day' },
  { seconds: 3 * 86_400, label: '3 days' },
  { seconds: 604_800, label: '7 days' },
  { seconds: 30 * 86_400, label: '30 days' },
];

/**
 * The settings the server will actually apply: negative → 0; an error threshold below the
 * warning threshold is raised to it (both only when enabled).
 */
export function effectiveSettings(settings: HealthSettings): HealthSettings {
  const warn = Math.max(0, Math.trunc(settings.staleWarningSeconds) || 0);
  let error = Math.max(0, Math.trunc(settings.staleErrorSeconds) || 0);
  if (error > 0 && warn > 0 && error < warn) error = warn;
  return { staleWarningSeconds: warn, staleErrorSeconds: error, neverSucceededLevel: settings.neverSucceededLevel === 'error' ? 'error' : 'warning' };
}

/** Reads settings from `?warn=&error=&never=`, falling back to the defaults. */
export function settingsFromParams(params: URLSearchParams): HealthSettings {
  const num = (key: string, fallback: number) => {
    const raw = params.get(key);
    return raw !== null && /^\d+$/.test(raw) ? Number(raw) : fallback;
  };
  return effectiveSettings({
    staleWarningSeconds: num('warn', DEFAULT_SETTINGS.staleWarningSeconds),
    staleErrorSeconds: num('error', DEFAULT_SETTINGS.staleErrorSeconds),
    neverSucceededLevel: params.get('never') === 'error' ? 'error' : 'warning',
  });
}

/** `3 d 4 h`, `5 h 12 min`, `45 min`, `30 s`: the age of the newest success. */
export function formatAge(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.floor(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3_600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) {
    const m = Math.floor((s % 3_600) / 60);
    return `${Math.floor(s / 3_600)} h${m ? ` ${m} min` : ''}`;
  }
  const h = Math.floor((s % 86_400) / 3_600);
  return `${Math.floor(s / 86_400)} d${h ? ` ${h} h` : ''}`;
}

/** What the staleness of a link or mirror means, in words. */
export function stalenessText(item: { staleness: Health; staleness_age_seconds: number | null; never_succeeded?: boolean; never_succeeded_count?: number; mirror_count?: number }): string {
  if (item.never_succeeded || (item.mirror_count !== undefined && item.mirror_count > 0 && item.never_succeeded_count === item.mirror_count)) return 'never succeeded';
  if (item.staleness_age_seconds === null || item.staleness_age_seconds === undefined) return 'no success recorded';
  return `last success ${formatAge(item.staleness_age_seconds)} ago`;
}

/** Stroke width of a link: grows with the number of mirrors, logarithmically, 2–10 px. */
export function linkWidth(mirrorCount: number): number {
  if (!Number.isFinite(mirrorCount) || mirrorCount <= 0) return 2;
  return Math.min(10, 2 + Math.log2(mirrorCount + 1) * 1.4);
}

/** Flow particles per link: none for an empty or all-disabled link, then 1–4. */
export function particleCount(enabledCount: number): number {
  if (!Number.isFinite(enabledCount) || enabledCount <= 0) return 0;
  return Math.min(4, 1 + Math.floor(Math.log10(enabledCount + 1) * 2));
}

/** Worst first, as the server sorts; used again after client-side filtering. */
export function sortWorstFirst(mirrors: LinkMirror[]): LinkMirror[] {
  return [...mirrors].sort(
    (a, b) =>
      SEVERITY[normalizeHealth(b.health)] - SEVERITY[normalizeHealth(a.health)] ||
      Number(a.never_succeeded) - Number(b.never_succeeded) ||
      (a.last_successful_update ?? '').localeCompare(b.last_successful_update ?? '') ||
      a.instance_pair_id - b.instance_pair_id ||
      a.id - b.id,
  );
}
