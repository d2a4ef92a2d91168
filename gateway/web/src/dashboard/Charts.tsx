/**
 * The dashboard's charts (Chart.js, loaded on demand): health distribution as a doughnut and
 * mirrors per pair as bars. Each canvas carries a text summary for screen readers, and the
 * same summary is shown if the chart library cannot be loaded.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ChartConfiguration } from 'chart.js';
import { useTheme } from '../theme/ThemeToggle';
import type { HealthSegment } from './metrics';

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

interface ChartProps {
  /** Builds the configuration; called again when the theme changes (colours come from CSS). */
  build: () => ChartConfiguration;
  summary: string;
  height: number;
  testId: string;
  deps: unknown[];
}

function ChartCanvas({ build, summary, height, testId, deps }: ChartProps) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const theme = useTheme();
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    let destroyed = false;
    let chart: { destroy(): void } | null = null;
    import('./chart-setup')
      .then(({ Chart }) => {
        if (destroyed || !canvas.current) return;
        chart = new Chart(canvas.current, build());
        canvas.current.dataset.rendered = 'true';
      })
      .catch(() => setFailed(true));
    return () => {
      destroyed = true;
      chart?.destroy();
    };
  }, [...deps, theme]);

  if (failed) return <p class="muted">The chart could not be loaded. {summary}</p>;
  return (
    <div class="chart-box" style={{ height: `${height}px` }}>
      <canvas ref={canvas} role="img" aria-label={summary} data-testid={testId} />
    </div>
  );
}

export function HealthChart({ segments }: { segments: HealthSegment[] }) {
  const summary = `Mirror health: ${segments.map((s) => `${s.label} ${s.count}`).join(', ')}`;
  return (
    <ChartCanvas
      testId="health-chart"
      summary={summary}
      height={220}
      deps={[segments.map((s) => s.count).join(',')]}
      build={() => ({
        type: 'doughnut',
        data: {
          labels: segments.map((s) => s.label),
          datasets: [{ data: segments.map((s) => s.count), backgroundColor: segments.map((s) => cssVar(s.color)), borderColor: cssVar('--surface'), borderWidth: 2 }],
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          cutout: '62%',
          plugins: { legend: { position: 'right', labels: { color: cssVar('--text-muted'), boxWidth: 12 } } },
        },
      })}
    />
  );
}

export function PairsChart({ rows }: { rows: { pair_name: string; count: number }[] }) {
  const summary = `Mirrors per pair: ${rows.map((r) => `${r.pair_name} ${r.count}`).join(', ')}`;
  return (
    <ChartCanvas
      testId="pairs-chart"
      summary={summary}
      height={Math.max(140, rows.length * 34 + 50)}
      deps={[rows.map((r) => `${r.pair_name}:${r.count}`).join(',')]}
      build={() => ({
        type: 'bar',
        data: {
          labels: rows.map((r) => r.pair_name),
          datasets: [{ label: 'Mirrors', data: rows.map((r) => r.count), backgroundColor: cssVar('--chart-1'), borderRadius: 3 }],
        },
        options: {
          indexAxis: 'y',
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          scales: {
            x: { beginAtZero: true, ticks: { precision: 0, color: cssVar('--text-muted') }, grid: { color: cssVar('--border') } },
            y: { ticks: { color: cssVar('--text-muted') }, grid: { display: false } },
          },
          plugins: { legend: { display: false } },
        },
      })}
    />
  );
}
