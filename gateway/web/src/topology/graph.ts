/**
 * The topology drawn with D3 (loaded on demand): instances as nodes, aggregated mirror flows
 * as arrows coloured by health, with flow particles, zoom controls and hover highlighting.
 * The layout is computed up front (no jiggling); only the particles move, and not at all when
 * the user prefers reduced motion.
 */
import { forceCenter, forceCollide, forceLink, forceManyBody, forceSimulation, select, zoom, zoomIdentity, type SimulationLinkDatum, type SimulationNodeDatum, type ZoomBehavior } from 'd3';
import type { TopologyLink, TopologyNode } from './api';
import { HEALTH_LABELS, linkWidth, normalizeHealth, particleCount, stalenessText } from './health';

type SimNode = TopologyNode & SimulationNodeDatum;
type SimLink = SimulationLinkDatum<SimNode> & { data: TopologyLink; offset: number; siblings: number; key: string };

export interface RenderOptions {
  width: number;
  height: number;
  reducedMotion: boolean;
  onSelectNode?: (node: TopologyNode) => void;
  onSelectLink?: (link: TopologyLink) => void;
}

export interface GraphHandle {
  zoomIn(): void;
  zoomOut(): void;
  reset(): void;
  destroy(): void;
}

const RADIUS = 22;

export function linkKey(link: Pick<TopologyLink, 'source' | 'target' | 'mirror_direction'>): string {
  return `${link.source}-${link.target}-${link.mirror_direction}`;
}

/** Draws into `svgElement`; the handle drives the zoom buttons and cleans up. */
export function renderGraph(svgElement: SVGSVGElement, nodes: TopologyNode[], links: TopologyLink[], options: RenderOptions): GraphHandle {
  const { width, height } = options;
  const simNodes: SimNode[] = nodes.map((n) => ({ ...n }));
  const byId = new Map(simNodes.map((n) => [n.id, n]));
  // Several links between the same two instances (both directions, push and pull) get
  // separate curves.
  const seen = new Map<string, number>();
  const between = (l: TopologyLink) => [Math.min(l.source, l.target), Math.max(l.source, l.target)].join('-');
  const drawable = links.filter((l) => byId.has(l.source) && byId.has(l.target));
  const totals = new Map<string, number>();
  for (const l of drawable) totals.set(between(l), (totals.get(between(l)) ?? 0) + 1);
  const simLinks: SimLink[] = drawable.map((l) => {
    const index = seen.get(between(l)) ?? 0;
    seen.set(between(l), index + 1);
    return { source: l.source, target: l.target, data: l, offset: index, siblings: totals.get(between(l)) ?? 1, key: linkKey(l) };
  });

  const simulation = forceSimulation<SimNode>(simNodes)
    .force('link', forceLink<SimNode, SimLink>(simLinks).id((d) => d.id).distance(240))
    .force('charge', forceManyBody().strength(-600))
    .force('center', forceCenter(width / 2, height / 2))
    .force('collide', forceCollide(90))
    .stop();
  for (let i = 0; i < 300; i++) simulation.tick();
  for (const n of simNodes) {
    n.x = Math.max(70, Math.min(width - 70, n.x ?? width / 2));
    n.y = Math.max(50, Math.min(height - 60, n.y ?? height / 2));
  }

  const svg = select(svgElement);
  svg.selectAll('*').remove();
  svg.attr('viewBox', `0 0 ${width} ${height}`);
  const defs = svg.append('defs');
  for (const health of ['ok', 'warning', 'error', 'unknown']) {
    defs
      .append('marker')
      .attr('id', `arrow-${health}`)
      .attr('viewBox', '0 -5 10 10')
      .attr('refX', 8)
      .attr('refY', 0)
      .attr('markerWidth', 12)
      .attr('markerHeight', 12)
      .attr('markerUnits', 'userSpaceOnUse')
      .attr('orient', 'auto')
      .append('path')
      .attr('d', 'M0,-5L10,0L0,5')
      .attr('class', `arrow health-${health}`);
  }
  const root = svg.append('g');
  const zoomer: ZoomBehavior<SVGSVGElement, unknown> = zoom<SVGSVGElement, unknown>()
    .scaleExtent([0.3, 3])
    .on('zoom', (event: { transform: { toString(): string } }) => root.attr('transform', event.transform.toString()));
  svg.call(zoomer);

  const geometry = (l: SimLink) => {
    const s = l.source as SimNode;
    const t = l.target as SimNode;
    const sx = s.x ?? 0;
    const sy = s.y ?? 0;
    const tx = t.x ?? 0;
    const ty = t.y ?? 0;
    const dx = tx - sx;
    const dy = ty - sy;
    const dist = Math.hypot(dx, dy) || 1;
    const x1 = sx + (dx / dist) * RADIUS;
    const y1 = sy + (dy / dist) * RADIUS;
    const x2 = tx - (dx / dist) * (RADIUS + 6);
    const y2 = ty - (dy / dist) * (RADIUS + 6);
    // A lone link curves slightly; links sharing two instances fan out to alternate sides
    // (measured in the lower-id → higher-id orientation, so opposite directions separate).
    const spread = l.siblings > 1 ? 48 + 36 * Math.floor(l.offset / 2) : 20;
    const bend = (l.offset % 2 === 0 ? 1 : -1) * spread * (s.id < t.id ? 1 : -1);
    const mx = (x1 + x2) / 2 - (dy / dist) * bend;
    const my = (y1 + y2) / 2 + (dx / dist) * bend;
    return { d: `M${x1},${y1} Q${mx},${my} ${x2},${y2}`, lx: (x1 + 2 * mx + x2) / 4, ly: (y1 + 2 * my + y2) / 4 - 8 };
  };

  const describeLink = (l: SimLink) => {
    const d = l.data;
    return `${(l.source as SimNode).name} to ${(l.target as SimNode).name}, ${d.mirror_direction}: ${d.mirror_count} mirrors (${d.enabled_count} enabled) in ${d.pair_count} pairs, ${HEALTH_LABELS[normalizeHealth(d.health)]}, ${stalenessText(d)}`;
  };

  const nodeDetails = (n: SimNode) => `${n.url}: ${n.mirrors_in + n.mirrors_out} mirrors, ${n.mirrors_out} out and ${n.mirrors_in} in, ${HEALTH_LABELS[normalizeHealth(n.health)]}`;

  const linkGroup = root
    .append('g')
    .attr('class', 'links')
    .selectAll('g')
    .data(simLinks)
    .join('g')
    .attr('class', (l) => `link health-${normalizeHealth(l.data.health)}`)
    .attr('data-link', (l) => l.key)
    .attr('data-testid', 'topology-link')
    .attr('tabindex', 0)
    .attr('role', 'button')
    // The name starts with the visible label ("3 pull"), as WCAG 2.5.3 asks.
    .attr('aria-label', (l) => `${l.data.mirror_count} ${l.data.mirror_direction}: ${describeLink(l)}. Shows these mirrors.`);
  // A wide transparent path makes thin links easy to hover and click.
  linkGroup
    .append('path')
    .attr('class', 'link-hit')
    .attr('d', (l) => geometry(l).d);
  const paths = linkGroup
    .append('path')
    .attr('class', 'link-line')
    .attr('d', (l) => geometry(l).d)
    .style('stroke-width', (l) => `${linkWidth(l.data.mirror_count)}px`)
    .attr('marker-end', (l) => `url(#arrow-${normalizeHealth(l.data.health)})`);
  linkGroup
    .append('text')
    .attr('class', 'link-label')
    .attr('x', (l) => geometry(l).lx)
    .attr('y', (l) => geometry(l).ly)
    .attr('text-anchor', 'middle')
    .text((l) => `${l.data.mirror_count} ${l.data.mirror_direction}`);
  linkGroup.append('title').text(describeLink);

  const nodeGroup = root
    .append('g')
    .attr('class', 'nodes')
    .selectAll('g')
    .data(simNodes)
    .join('g')
    .attr('class', (n) => `node health-${normalizeHealth(n.health)}`)
    .attr('data-node', (n) => n.id)
    .attr('data-testid', 'topology-node')
    .attr('transform', (n) => `translate(${n.x ?? 0},${n.y ?? 0})`)
    .attr('tabindex', 0)
    .attr('role', 'button')
    .attr('aria-label', (n) => `${n.name} ${nodeDetails(n)}`);
  nodeGroup.append('circle').attr('r', RADIUS);
  nodeGroup
    .append('text')
    .attr('class', 'node-label')
    .attr('text-anchor', 'middle')
    .attr('dy', RADIUS + 17)
    .text((n) => n.name);
  // The tooltip is the accessible name after the visible name: a title counts as visible text,
  // and the name must contain what is visible (WCAG 2.5.3).
  nodeGroup.append('title').text(nodeDetails);
  // Each node's mirror count sits in a layer of its own, hidden from assistive technology (the
  // name says it): inside the node it would run into the visible name ("gitlab-a12").
  const counts = root
    .append('g')
    .attr('class', 'node-counts')
    .attr('aria-hidden', 'true')
    .selectAll('text')
    .data(simNodes)
    .join('text')
    .attr('class', 'node-count')
    .attr('transform', (n) => `translate(${n.x ?? 0},${n.y ?? 0})`)
    .attr('text-anchor', 'middle')
    .attr('dy', 4)
    .text((n) => String(n.mirrors_in + n.mirrors_out));

  // Hover/focus highlighting: the hovered element, its links and their ends; the rest fades.
  const highlight = (nodeIds: Set<number>, linkKeys: Set<string>) => {
    svg.classed('has-highlight', true);
    nodeGroup.classed('highlighted', (n) => nodeIds.has(n.id));
    counts.classed('highlighted', (n) => nodeIds.has(n.id));
    linkGroup.classed('highlighted', (l) => linkKeys.has(l.key));
  };
  const clear = () => {
    svg.classed('has-highlight', false);
    nodeGroup.classed('highlighted', false);
    counts.classed('highlighted', false);
    linkGroup.classed('highlighted', false);
  };
  const highlightNode = (n: SimNode) => {
    const touching = simLinks.filter((l) => (l.source as SimNode).id === n.id || (l.target as SimNode).id === n.id);
    highlight(new Set([n.id, ...touching.flatMap((l) => [(l.source as SimNode).id, (l.target as SimNode).id])]), new Set(touching.map((l) => l.key)));
  };
  const highlightLink = (l: SimLink) => highlight(new Set([(l.source as SimNode).id, (l.target as SimNode).id]), new Set([l.key]));

  const activate = <T>(handler: ((value: T) => void) | undefined, value: T) => (e: KeyboardEvent) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      handler?.(value);
    }
  };
  nodeGroup
    .on('mouseenter focus', (_e, n) => highlightNode(n))
    .on('mouseleave blur', clear)
    .on('click', (_e, n) => options.onSelectNode?.(n))
    .on('keydown', (e: KeyboardEvent, n) => activate(options.onSelectNode, n as TopologyNode)(e));
  linkGroup
    .on('mouseenter focus', (_e, l) => highlightLink(l))
    .on('mouseleave blur', clear)
    .on('click', (_e, l) => options.onSelectLink?.(l.data))
    .on('keydown', (e: KeyboardEvent, l) => activate(options.onSelectLink, l.data)(e));

  // Flow particles: small dots travelling source → target along each enabled link.
  let frame = 0;
  if (!options.reducedMotion) {
    const particles = root.append('g').attr('class', 'particles').attr('aria-hidden', 'true');
    const moving: { path: SVGPathElement; length: number; phase: number; speed: number; dot: SVGCircleElement }[] = [];
    paths.each(function (l) {
      const count = particleCount(l.data.enabled_count);
      const length = this.getTotalLength();
      for (let i = 0; i < count; i++) {
        const dot = particles
          .append('circle')
          .attr('class', `particle health-${normalizeHealth(l.data.health)}`)
          .attr('r', 3)
          .node();
        if (dot) moving.push({ path: this, length, phase: i / count, speed: 0.00012 + Math.min(0.00012, l.data.enabled_count * 0.000004), dot });
      }
    });
    const step = (time: number) => {
      for (const p of moving) {
        const at = p.path.getPointAtLength((((time * p.speed + p.phase) % 1) + 1) % 1 * p.length);
        p.dot.setAttribute('cx', String(at.x));
        p.dot.setAttribute('cy', String(at.y));
      }
      frame = requestAnimationFrame(step);
    };
    if (moving.length) frame = requestAnimationFrame(step);
  }

  return {
    zoomIn: () => zoomer.scaleBy(svg, 1.3),
    zoomOut: () => zoomer.scaleBy(svg, 1 / 1.3),
    reset: () => zoomer.transform(svg, zoomIdentity),
    destroy: () => {
      cancelAnimationFrame(frame);
      simulation.stop();
      svg.on('.zoom', null);
      svg.selectAll('*').remove();
    },
  };
}
