/** Data hooks of the dashboard: the metrics, and quick stats polled only while visible. */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { describeError } from '../api';
import { getMetrics, getQuickStats, type DashboardMetrics, type QuickStats } from './api';
import { QUICK_STATS_INTERVAL_MS } from './metrics';

export interface MetricsState {
  metrics: DashboardMetrics | null;
  error: string | null;
  loading: boolean;
  loadedAt: number | null;
  reload: () => Promise<void>;
}

export function useMetrics(): MetricsState {
  const [metrics, setMetrics] = useState<DashboardMetrics | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [loadedAt, setLoadedAt] = useState<number | null>(null);
  const alive = useRef(true);

  const reload = useCallback(async () => {
    setLoading(true);
    try {
      const next = await getMetrics();
      if (!alive.current) return;
      setMetrics(next);
      setError(null);
      setLoadedAt(Date.now());
    } catch (e) {
      if (alive.current) setError(describeError(e));
    } finally {
      if (alive.current) setLoading(false);
    }
  }, []);

  useEffect(() => {
    alive.current = true;
    void reload();
    return () => {
      alive.current = false;
    };
  }, [reload]);

  return { metrics, error, loading, loadedAt, reload };
}

/**
 * Polls `/api/dashboard/quick-stats` every 30 s while the dashboard is mounted *and* the
 * browser tab is visible; a hidden tab stops the timer and showing it again polls at once.
 * `onChange` runs when the syncing or failure counts move, so the caller can reload metrics.
 */
export function useQuickStats(onChange: () => void): QuickStats | null {
  const [stats, setStats] = useState<QuickStats | null>(null);
  const previous = useRef<string | null>(null);
  const changed = useRef(onChange);
  changed.current = onChange;

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let controller: AbortController | null = null;
    let stopped = false;

    const schedule = () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (!stopped && document.visibilityState === 'visible') timer = setTimeout(poll, QUICK_STATS_INTERVAL_MS);
    };
    const poll = () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
      controller?.abort();
      controller = new AbortController();
      getQuickStats(controller.signal)
        .then((next) => {
          if (stopped) return;
          setStats(next);
          const key = `${next.syncing_count}/${next.recent_failures}`;
          if (previous.current !== null && previous.current !== key) changed.current();
          previous.current = key;
        })
        .catch(() => undefined) // the metrics card shows errors; the indicator just stays
        .finally(schedule);
    };
    const onVisibility = () => {
      if (document.visibilityState === 'visible') poll();
      else if (timer) {
        clearTimeout(timer);
        timer = undefined;
      }
    };

    poll();
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      controller?.abort();
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, []);

  return stats;
}
