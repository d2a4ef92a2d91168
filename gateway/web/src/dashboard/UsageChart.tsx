/** Horizontal stacked bars: how many pairs use each instance as source and as target. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { useTheme } from '../theme/ThemeToggle';
import type { InstanceUsage } from './stats';

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

export function UsageChart({ usage }: { usage: InstanceUsage[] }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const theme = useTheme();
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    let destroyed = false;
    let chart: { destroy(): void } | null = null;
    import('./chart-setup')
      .then(({ Chart }) => {
        if (destroyed || !canvas.current) return;
        const text = cssVar('--text-muted');
        const grid = cssVar('--border');
        chart = new Chart(canvas.current, {
          type: 'bar',
          data: {
            labels: usage.map((u) => u.name),
            datasets: [
              { label: 'As source', data: usage.map((u) => u.asSource), backgroundColor: cssVar('--chart-1'), borderRadius: 3 },
              { label: 'As target', data: usage.map((u) => u.asTarget), backgroundColor: cssVar('--chart-2'), borderRadius: 3 },
            ],
          },
          options: {
            indexAxis: 'y',
            responsive: true,
            maintainAspectRatio: false,
            animation: false,
            scales: {
              x: { stacked: true, beginAtZero: true, ticks: { precision: 0, color: text }, grid: { color: grid } },
              y: { stacked: true, ticks: { color: text }, grid: { display: false } },
            },
            plugins: { legend: { labels: { color: text } } },
          },
        });
      })
      .catch(() => setFailed(true));
    return () => {
      destroyed = true;
      chart?.destroy();
    };
  }, [usage, theme]);

  const summary = usage.map((u) => `${u.name}: source of ${u.asSource}, target of ${u.asTarget}`).join('; ');
  if (failed) return <p class="muted">The chart could not be loaded. {summary}</p>;
  return (
    <div class="chart-box" style={{ height: `${Math.max(140, usage.length * 36 + 60)}px` }}>
      <canvas ref={canvas} role="img" aria-label={`Pairs per instance. ${summary}`} data-testid="usage-chart" />
    </div>
  );
}
