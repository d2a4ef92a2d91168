import { describe, expect, it } from 'vitest';
import { activityLabel, formatPercent, freshnessText, healthLevel, healthSegments, shortAge } from './metrics';

describe('healthSegments', () => {
  it('computes shares that follow the counts', () => {
    const segments = healthSegments({ success: 6, failed: 2, pending: 1, unknown: 1 });
    expect(segments.map((s) => [s.key, s.count, s.percent])).toEqual([
      ['success', 6, 60],
      ['failed', 2, 20],
      ['pending', 1, 10],
      ['unknown', 1, 10],
    ]);
  });

  it('is all zero without mirrors and ignores bad counts', () => {
    expect(healthSegments({ success: 0, failed: 0, pending: 0, unknown: 0 }).every((s) => s.percent === 0)).toBe(true);
    expect(healthSegments({ success: 1, failed: -3, pending: Number.NaN, unknown: 2 }).map((s) => s.percent)).toEqual([33.3, 0, 0, 66.7]);
  });
});

describe('formatPercent and healthLevel', () => {
  it('formats one decimal without a trailing zero', () => {
    expect(formatPercent(100)).toBe('100 %');
    expect(formatPercent(66.66)).toBe('66.7 %');
    expect(formatPercent(Number.NaN)).toBe('—');
  });

  it('grades health', () => {
    expect(healthLevel(95, 10)).toBe('ok');
    expect(healthLevel(70, 10)).toBe('warning');
    expect(healthLevel(10, 10)).toBe('error');
    expect(healthLevel(100, 0)).toBe('unknown');
  });
});

describe('freshnessText', () => {
  const base = { fresh_count: 4, stale_count: 2, oldest_update: null, newest_update: null };
  it('describes counts and each auto-refresh state', () => {
    expect(freshnessText(base).counts).toBe('4 fresh · 2 stale (status older than 1 h)');
    expect(freshnessText({ ...base, never_checked_count: 1, fresh_window_seconds: 1800 }).counts).toBe('4 fresh · 2 stale (status older than 30 min, 1 never checked)');
    expect(freshnessText({ ...base, fresh_window_seconds: 172800 }).counts).toContain('older than 2 d');
    expect(freshnessText(base).refresh).toContain('not reported');
    const auto = { enabled: true, running: true, refreshing: false, interval_minutes: 15, last_refresh_started_at: null, last_refresh_completed_at: null, last_refresh_total: 10, last_refresh_success: 9, last_refresh_errors: 1 };
    expect(freshnessText({ ...base, auto_refresh: auto }).refresh).toBe('Automatic status refresh every 15 min; last run checked 10 mirrors (9 ok, 1 errors).');
    expect(freshnessText({ ...base, auto_refresh: { ...auto, refreshing: true } }).refresh).toContain('running now');
    expect(freshnessText({ ...base, auto_refresh: { ...auto, interval_minutes: null, interval_seconds: 90, last_refresh_total: null } }).refresh).toBe('Automatic status refresh every 1.5 min.');
    expect(freshnessText({ ...base, auto_refresh: { ...auto, enabled: false } }).refresh).toContain('off');
  });
});

describe('activity', () => {
  it('labels known and unknown types', () => {
    expect(activityLabel('created')).toBe('Created');
    expect(activityLabel('failed')).toBe('Failed');
    expect(activityLabel('deleted')).toBe('Deleted');
    expect(activityLabel('something')).toBe('Updated');
  });

  it('gives compact ages', () => {
    const now = Date.parse('2026-01-10T12:00:00Z');
    expect(shortAge('2026-01-10T11:59:15Z', now)).toBe('45s');
    expect(shortAge('2026-01-10T11:48:00Z', now)).toBe('12m');
    expect(shortAge('2026-01-10T09:00:00Z', now)).toBe('3h');
    expect(shortAge('2026-01-08T12:00:00Z', now)).toBe('2d');
    expect(shortAge(null, now)).toBeNull();
    expect(shortAge('garbage', now)).toBeNull();
  });
});
