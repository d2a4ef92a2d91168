import { describe, expect, it } from 'vitest';
import { batchSummary, formatEstimate, syncAllSummary, syncPlanSummary } from './estimate';

describe('formatEstimate', () => {
  it('has no estimate for missing, zero or invalid values', () => {
    expect(formatEstimate(null)).toBeNull();
    expect(formatEstimate(undefined)).toBeNull();
    expect(formatEstimate(0)).toBeNull();
    expect(formatEstimate(Number.NaN)).toBeNull();
    expect(formatEstimate(-5)).toBeNull();
  });

  it('rounds to minutes and hours', () => {
    expect(formatEstimate(12)).toBe('under a minute');
    expect(formatEstimate(59.9)).toBe('under a minute');
    expect(formatEstimate(60)).toBe('about 1 min');
    expect(formatEstimate(14 * 60 + 40)).toBe('about 15 min');
    expect(formatEstimate(3600)).toBe('about 1 h');
    expect(formatEstimate(3600 + 20 * 60)).toBe('about 1 h 20 min');
  });
});


describe('syncAllSummary', () => {
  it('names the count and says when there is nothing to do', () => {
    expect(syncAllSummary(0)).toContain('nothing to sync');
    expect(syncAllSummary(1)).toMatch(/^1 mirror in/);
    expect(syncAllSummary(29)).toMatch(/^29 mirrors in/);
  });
});

describe('batchSummary', () => {
  const base = { succeeded: 3, failed: 1, skipped: 2, cancelled: 0, started_at: '2026-01-01T10:00:00Z', finished_at: '2026-01-01T10:00:40Z' };
  it('names every outcome, the duration and the rate', () => {
    expect(batchSummary(base)).toBe('3 succeeded · 1 failed · 2 skipped in 40 s (0.10 mirrors/s)');
    expect(batchSummary({ ...base, failed: 0, skipped: 0, finished_at: '2026-01-01T10:02:05Z' })).toBe('3 succeeded in 2 min 5 s (0.02 mirrors/s)');
  });

  it('leaves the duration out when times are missing or inconsistent', () => {
    expect(batchSummary({ ...base, finished_at: null })).toBe('3 succeeded · 1 failed · 2 skipped');
    expect(batchSummary({ ...base, finished_at: '2026-01-01T09:00:00Z' })).toBe('3 succeeded · 1 failed · 2 skipped');
  });
});

describe('syncPlanSummary', () => {
  it('names what syncs, what is skipped and the estimate', () => {
    expect(syncPlanSummary({ mirror_count: 12, skipped_count: 2, estimated_seconds: 300 })).toBe(
      '12 mirrors will sync, 2 skipped (disabled or not ready); estimated about 5 min at the current GitLab rate budget.',
    );
    expect(syncPlanSummary({ mirror_count: 1, skipped_count: 0, estimated_seconds: 0 })).toBe('1 mirror will sync.');
  });
});
