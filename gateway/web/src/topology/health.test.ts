import { describe, expect, it } from 'vitest';
import type { LinkMirror } from './api';
import { effectiveSettings, formatAge, healthColorVar, linkWidth, normalizeHealth, particleCount, settingsFromParams, sortWorstFirst, stalenessText, worstHealth } from './health';

describe('health colouring', () => {
  it('maps each level to its colour and anything else to unknown', () => {
    expect(healthColorVar('ok')).toBe('--health-ok');
    expect(healthColorVar('error')).toBe('--health-error');
    expect(normalizeHealth('broken')).toBe('unknown');
    expect(healthColorVar(normalizeHealth(undefined))).toBe('--health-unknown');
  });

  it('picks the worst level', () => {
    expect(worstHealth(['ok', 'warning', 'unknown'])).toBe('warning');
    expect(worstHealth(['ok', 'error', 'warning'])).toBe('error');
    expect(worstHealth([])).toBe('unknown');
  });
});

describe('staleness thresholds', () => {
  it('clamps like the server: negative → 0, error below warning → warning', () => {
    expect(effectiveSettings({ staleWarningSeconds: -5, staleErrorSeconds: 100, neverSucceededLevel: 'warning' })).toEqual({ staleWarningSeconds: 0, staleErrorSeconds: 100, neverSucceededLevel: 'warning' });
    expect(effectiveSettings({ staleWarningSeconds: 7200, staleErrorSeconds: 3600, neverSucceededLevel: 'error' }).staleErrorSeconds).toBe(7200);
    expect(effectiveSettings({ staleWarningSeconds: 7200, staleErrorSeconds: 0, neverSucceededLevel: 'error' }).staleErrorSeconds).toBe(0);
  });

  it('reads settings from the URL with defaults', () => {
    expect(settingsFromParams(new URLSearchParams(''))).toEqual({ staleWarningSeconds: 86400, staleErrorSeconds: 604800, neverSucceededLevel: 'warning' });
    expect(settingsFromParams(new URLSearchParams('warn=3600&error=abc&never=error'))).toEqual({ staleWarningSeconds: 3600, staleErrorSeconds: 604800, neverSucceededLevel: 'error' });
  });

  it('describes ages and never-succeeded links', () => {
    expect(formatAge(30)).toBe('30 s');
    expect(formatAge(45 * 60)).toBe('45 min');
    expect(formatAge(5 * 3600 + 12 * 60)).toBe('5 h 12 min');
    expect(formatAge(3 * 86400 + 4 * 3600)).toBe('3 d 4 h');
    expect(formatAge(null)).toBe('—');
    expect(stalenessText({ staleness: 'warning', staleness_age_seconds: null, never_succeeded_count: 3, mirror_count: 3 })).toBe('never succeeded');
    expect(stalenessText({ staleness: 'ok', staleness_age_seconds: 120, never_succeeded_count: 1, mirror_count: 3 })).toBe('last success 2 min ago');
    expect(stalenessText({ staleness: 'warning', staleness_age_seconds: null, never_succeeded: true })).toBe('never succeeded');
  });
});

describe('link drawing', () => {
  it('widens with mirror count within bounds', () => {
    expect(linkWidth(0)).toBe(2);
    expect(linkWidth(1)).toBeGreaterThan(2);
    expect(linkWidth(100)).toBeGreaterThan(linkWidth(10));
    expect(linkWidth(1e9)).toBe(10);
  });

  it('sends particles only along enabled mirrors', () => {
    expect(particleCount(0)).toBe(0);
    expect(particleCount(1)).toBe(1);
    expect(particleCount(1000)).toBe(4);
  });
});

describe('sortWorstFirst', () => {
  const mirror = (id: number, health: LinkMirror['health'], last: string | null, never = false): LinkMirror => ({
    id,
    instance_pair_id: 1,
    instance_pair_name: 'p',
    source_project_path: `g/${id}`,
    target_project_path: `g/${id}`,
    mirror_direction: 'push',
    enabled: true,
    last_update_status: null,
    last_successful_update: last,
    never_succeeded: never,
    staleness: health,
    staleness_age_seconds: null,
    health,
  });

  it('orders by severity, then oldest success, never-succeeded last in a bucket', () => {
    const sorted = sortWorstFirst([mirror(1, 'ok', '2026-01-02'), mirror(2, 'error', '2026-01-03'), mirror(3, 'error', null, true), mirror(4, 'error', '2026-01-01'), mirror(5, 'warning', null)]);
    expect(sorted.map((m) => m.id)).toEqual([4, 2, 3, 5, 1]);
  });
});
