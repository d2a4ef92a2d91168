/**
 * Topology. Mirror flows and their health arrive with mirror management; until then the page
 * draws the pairs that exist (instances and the direction of each pair), from real data only.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { useData } from '../app/data';
import { PageHeader } from '../app/PageHeader';
import { href, navigate } from '../app/router';
import { EmptyState } from '../ui/EmptyState';

export function TopologyPage() {
  const { instances, pairs } = useData();
  const svgRef = useRef<SVGSVGElement>(null);
  const [failed, setFailed] = useState(false);
  const used = new Set(pairs.items.flatMap((p) => [p.source_instance_id, p.target_instance_id]));
  const hasPairs = pairs.items.length > 0;

  useEffect(() => {
    if (!hasPairs || !svgRef.current) return;
    let cleanup: (() => void) | undefined;
    let cancelled = false;
    const svg = svgRef.current;
    import('./graph')
      .then(({ renderGraph }) => {
        if (cancelled) return;
        const width = Math.max(320, svg.clientWidth || 800);
        const height = width < 600 ? 420 : 460;
        cleanup = renderGraph(
          svg,
          instances.items.filter((i) => used.has(i.id)).map((i) => ({ id: i.id, name: i.name, url: i.url })),
          pairs.items.map((p) => ({ id: p.id, name: p.name, source: p.source_instance_id, target: p.target_instance_id, direction: p.mirror_direction, mirrors: p.mirror_count })),
          {
            width,
            height,
            onSelectNode: (n) => navigate('/instances', { focus: n.id }),
            onSelectLink: (l) => navigate('/pairs', { focus: l.id }),
          },
        );
        svg.dataset.rendered = 'true';
      })
      .catch(() => setFailed(true));
    return () => {
      cancelled = true;
      cleanup?.();
    };
  }, [instances.items, pairs.items, hasPairs]);

  return (
    <>
      <PageHeader title="Topology" />
      <section class="card">
        <EmptyState title="Mirror flows are coming with mirror management" icon="network">
          <p>Once mirrors exist, this map will show how many mirrors flow between instances, their health and staleness, and let you drill down to each mirror.</p>
        </EmptyState>
      </section>
      {hasPairs ? (
        <section class="card" aria-labelledby="pair-map-h">
          <h2 id="pair-map-h" class="card-title">
            Pairs today
          </h2>
          <p class="muted small">
            Arrows go from source to target. <span class="legend legend-push">push</span> <span class="legend legend-pull">pull</span> Select an instance or a pair to open it. Scroll or pinch to zoom.
          </p>
          {failed ? (
            <p class="muted">The map could not be loaded.</p>
          ) : (
            <svg ref={svgRef} class="topology" role="group" aria-label="Map of instances and pairs" data-testid="topology-svg" />
          )}
        </section>
      ) : pairs.loaded ? (
        <p class="muted">
          No pairs yet. <a href={href('/pairs', { new: 1 })}>Create a pair</a> to see it here.
        </p>
      ) : null}
    </>
  );
}
