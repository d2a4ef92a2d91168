/**
 * Topology: instances and the mirror flows between them, coloured by health (status and
 * staleness, with operator-set thresholds). Selecting a link lists its mirrors.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { describeError } from '../api';
import { PageHeader } from '../app/PageHeader';
import { href, navigate } from '../app/router';
import { EmptyState, LoadError } from '../ui/EmptyState';
import { plural } from '../util/format';
import { getTopology, type HealthSettings, type Topology, type TopologyLink } from './api';
import type { GraphHandle } from './graph';
import { effectiveSettings, settingsFromParams, THRESHOLD_CHOICES } from './health';
import { LinkMirrorsPanel } from './LinkMirrorsPanel';
import './health.css';
import './topology.css';

function prefersReducedMotion(): boolean {
  return typeof matchMedia === 'function' && matchMedia('(prefers-reduced-motion: reduce)').matches;
}

function ThresholdSelect({ id, label, value, onChange }: { id: string; label: string; value: number; onChange: (v: number) => void }) {
  const choices = THRESHOLD_CHOICES.some((c) => c.seconds === value) ? THRESHOLD_CHOICES : [...THRESHOLD_CHOICES, { seconds: value, label: `${value} s` }];
  return (
    <label for={id}>
      {label}
      <select id={id} value={String(value)} onChange={(e) => onChange(Number(e.currentTarget.value))}>
        {choices.map((c) => (
          <option key={c.seconds} value={String(c.seconds)}>
            {c.label}
          </option>
        ))}
      </select>
    </label>
  );
}

export function TopologyPage({ params }: { params: URLSearchParams }) {
  const [settings, setSettings] = useState<HealthSettings>(() => settingsFromParams(params));
  const [data, setData] = useState<Topology | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reloadKey, setReloadKey] = useState(0);
  const [selected, setSelected] = useState<TopologyLink | null>(null);
  const [drawFailed, setDrawFailed] = useState(false);
  const svgRef = useRef<SVGSVGElement>(null);
  const graph = useRef<GraphHandle | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    setError(null);
    getTopology(settings, controller.signal)
      .then((next) => {
        setData(next);
        // Keep the drill-down open with the link's fresh figures, or close it if it is gone.
        setSelected((current) => (current ? (next.links.find((l) => l.source === current.source && l.target === current.target && l.mirror_direction === current.mirror_direction) ?? null) : null));
      })
      .catch((e: unknown) => {
        if (!controller.signal.aborted) setError(describeError(e));
      });
    return () => controller.abort();
  }, [settings, reloadKey]);

  useEffect(() => {
    const svg = svgRef.current;
    if (!data || data.nodes.length === 0 || !svg) return;
    let cancelled = false;
    svg.dataset.rendered = 'false';
    import('./graph')
      .then(({ renderGraph }) => {
        if (cancelled) return;
        const width = Math.max(320, svg.clientWidth || 800);
        graph.current?.destroy();
        graph.current = renderGraph(svg, data.nodes, data.links, {
          width,
          height: width < 600 ? 420 : 480,
          reducedMotion: prefersReducedMotion(),
          onSelectNode: (n) => navigate('/instances', { focus: n.id }),
          onSelectLink: setSelected,
        });
        svg.dataset.rendered = 'true';
      })
      .catch(() => setDrawFailed(true));
    return () => {
      cancelled = true;
      graph.current?.destroy();
      graph.current = null;
    };
  }, [data]);

  const update = (change: Partial<HealthSettings>) => setSettings((s) => effectiveSettings({ ...s, ...change }));
  const mirrorTotal = data?.links.reduce((sum, l) => sum + l.mirror_count, 0) ?? 0;

  return (
    <>
      <PageHeader
        title="Topology"
        description="Instances and the mirrors flowing between them. Arrows go from source to target; colour is the worse of the last status and how long ago mirrors last succeeded."
        actions={
          <button type="button" class="button" onClick={() => setReloadKey((k) => k + 1)}>
            Refresh
          </button>
        }
      />
      {error ? <LoadError message={error} onRetry={() => setReloadKey((k) => k + 1)} /> : null}
      {!data && !error ? (
        <p class="muted" aria-busy="true">
          Loading the topology…
        </p>
      ) : null}
      {data && data.nodes.length === 0 ? (
        <section class="card">
          <EmptyState title="No instances yet" icon="network">
            <p>
              The map shows GitLab instances and the mirrors between them. <a href={href('/instances', { new: 1 })}>Add an instance</a> to start.
            </p>
          </EmptyState>
        </section>
      ) : null}
      {data && data.nodes.length > 0 ? (
        <section class="card" aria-labelledby="topology-map-h">
          <h2 id="topology-map-h" class="visually-hidden">
            Map
          </h2>
          <div class="topology-toolbar" role="group" aria-label="Health settings and zoom">
            <ThresholdSelect id="topology-warn" label="Warning after" value={settings.staleWarningSeconds} onChange={(v) => update({ staleWarningSeconds: v })} />
            <ThresholdSelect id="topology-error" label="Error after" value={settings.staleErrorSeconds} onChange={(v) => update({ staleErrorSeconds: v })} />
            <label for="topology-never">
              Never succeeded counts as
              <select id="topology-never" value={settings.neverSucceededLevel} onChange={(e) => update({ neverSucceededLevel: e.currentTarget.value === 'error' ? 'error' : 'warning' })}>
                <option value="warning">Warning</option>
                <option value="error">Error</option>
              </select>
            </label>
            <div class="zoom-controls">
              <button type="button" class="button button-small" onClick={() => graph.current?.zoomIn()} aria-label="Zoom in">
                +
              </button>
              <button type="button" class="button button-small" onClick={() => graph.current?.zoomOut()} aria-label="Zoom out">
                −
              </button>
              <button type="button" class="button button-small" onClick={() => graph.current?.reset()}>
                Reset view
              </button>
            </div>
          </div>
          {drawFailed ? (
            <p class="muted">The map could not be loaded.</p>
          ) : (
            <svg ref={svgRef} class="topology" role="group" aria-label={`Map of ${data.nodes.length} instances and ${data.links.length} mirror flows`} data-testid="topology-svg" />
          )}
          <ul class="health-legend" aria-label="Legend">
            <li class="legend-ok">Healthy</li>
            <li class="legend-warning">Warning (stale or in progress)</li>
            <li class="legend-error">Error (failed or very stale)</li>
            <li class="legend-unknown">Unknown (no status yet)</li>
          </ul>
          <p class="muted small">
            {data.links.length === 0 ? (
              <>
                No mirrors yet: <a href={href('/mirrors')}>create mirrors</a> to see flows.{' '}
              </>
            ) : (
              `${plural(mirrorTotal, 'mirror')} in ${plural(data.links.length, 'flow')}. `
            )}
            Select a flow to list its mirrors, an instance to open it. Scroll or pinch to zoom; drag to pan.
          </p>
        </section>
      ) : null}
      {selected && data ? <LinkMirrorsPanel link={selected} nodes={data.nodes} settings={settings} onClose={() => setSelected(null)} /> : null}
    </>
  );
}
