/**
 * Pair-level topology drawn with D3 (loaded on demand): instances as nodes, pairs as arrows
 * from source to target. The layout is computed up front, so nothing animates on its own.
 */
import { forceCenter, forceCollide, forceLink, forceManyBody, forceSimulation, select, zoom, type SimulationLinkDatum, type SimulationNodeDatum } from 'd3';

export interface GraphNode {
  id: number;
  name: string;
  url: string;
}

export interface GraphLink {
  id: number;
  name: string;
  source: number;
  target: number;
  direction: 'push' | 'pull';
  mirrors: number;
}

type SimNode = GraphNode & SimulationNodeDatum;
type SimLink = SimulationLinkDatum<SimNode> & { data: GraphLink; offset: number };

export interface RenderOptions {
  width: number;
  height: number;
  onSelectNode?: (node: GraphNode) => void;
  onSelectLink?: (link: GraphLink) => void;
}

/** Draws into `svgElement` and returns a clean-up function. */
export function renderGraph(svgElement: SVGSVGElement, nodes: GraphNode[], links: GraphLink[], options: RenderOptions): () => void {
  const { width, height } = options;
  const simNodes: SimNode[] = nodes.map((n) => ({ ...n }));
  const byId = new Map(simNodes.map((n) => [n.id, n]));
  // Parallel pairs between the same two instances are drawn as separate curves.
  const seen = new Map<string, number>();
  const simLinks: SimLink[] = links
    .filter((l) => byId.has(l.source) && byId.has(l.target))
    .map((l) => {
      const key = [Math.min(l.source, l.target), Math.max(l.source, l.target)].join('-');
      const index = seen.get(key) ?? 0;
      seen.set(key, index + 1);
      return { source: l.source, target: l.target, data: l, offset: index };
    });

  const simulation = forceSimulation<SimNode>(simNodes)
    .force('link', forceLink<SimNode, SimLink>(simLinks).id((d) => d.id).distance(230))
    .force('charge', forceManyBody().strength(-500))
    .force('center', forceCenter(width / 2, height / 2))
    .force('collide', forceCollide(80))
    .stop();
  for (let i = 0; i < 300; i++) simulation.tick();
  // Keep every node inside the viewport.
  for (const n of simNodes) {
    n.x = Math.max(60, Math.min(width - 60, n.x ?? width / 2));
    n.y = Math.max(40, Math.min(height - 40, n.y ?? height / 2));
  }

  const svg = select(svgElement);
  svg.selectAll('*').remove();
  svg.attr('viewBox', `0 0 ${width} ${height}`);
  const defs = svg.append('defs');
  for (const dir of ['push', 'pull']) {
    defs
      .append('marker')
      .attr('id', `arrow-${dir}`)
      .attr('viewBox', '0 -5 10 10')
      .attr('refX', 10)
      .attr('refY', 0)
      .attr('markerWidth', 7)
      .attr('markerHeight', 7)
      .attr('orient', 'auto')
      .append('path')
      .attr('d', 'M0,-5L10,0L0,5')
      .attr('class', `arrow arrow-${dir}`);
  }
  const root = svg.append('g');
  svg.call(
    zoom<SVGSVGElement, unknown>()
      .scaleExtent([0.4, 2.5])
      .on('zoom', (event: { transform: { toString(): string } }) => root.attr('transform', event.transform.toString())),
  );

  const radius = 18;
  const linkPath = (l: SimLink) => {
    const s = l.source as SimNode;
    const t = l.target as SimNode;
    const sx = s.x ?? 0;
    const sy = s.y ?? 0;
    const tx = t.x ?? 0;
    const ty = t.y ?? 0;
    const dx = tx - sx;
    const dy = ty - sy;
    const dist = Math.hypot(dx, dy) || 1;
    // Shorten to the node circles so arrowheads stay visible.
    const x1 = sx + (dx / dist) * radius;
    const y1 = sy + (dy / dist) * radius;
    const x2 = tx - (dx / dist) * (radius + 4);
    const y2 = ty - (dy / dist) * (radius + 4);
    const bend = (l.offset % 2 === 0 ? 1 : -1) * (20 + 25 * Math.floor(l.offset / 2)) * (s.id < t.id ? 1 : -1);
    const mx = (x1 + x2) / 2 - (dy / dist) * bend;
    const my = (y1 + y2) / 2 + (dx / dist) * bend;
    // Label at the middle of the curve (t = 0.5 of the quadratic Bézier).
    return { d: `M${x1},${y1} Q${mx},${my} ${x2},${y2}`, mx: (x1 + 2 * mx + x2) / 4, my: (y1 + 2 * my + y2) / 4 - 6 };
  };

  const linkGroup = root
    .append('g')
    .selectAll('g')
    .data(simLinks)
    .join('g')
    .attr('class', (l) => `link link-${l.data.direction}`)
    .attr('tabindex', 0)
    .attr('role', 'button')
    .attr('aria-label', (l) => `Pair ${l.data.name}: ${(l.source as SimNode).name} to ${(l.target as SimNode).name}, ${l.data.direction}, ${l.data.mirrors} mirrors`)
    .on('click', (_e, l) => options.onSelectLink?.(l.data))
    .on('keydown', (e: KeyboardEvent, l) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        options.onSelectLink?.(l.data);
      }
    });
  linkGroup
    .append('path')
    .attr('d', (l) => linkPath(l).d)
    .attr('marker-end', (l) => `url(#arrow-${l.data.direction})`);
  linkGroup
    .append('text')
    .attr('class', 'link-label')
    .attr('x', (l) => linkPath(l).mx)
    .attr('y', (l) => linkPath(l).my)
    .attr('text-anchor', 'middle')
    .text((l) => l.data.name);
  linkGroup.append('title').text((l) => `${l.data.name} (${l.data.direction}, ${l.data.mirrors} mirrors)`);

  const nodeGroup = root
    .append('g')
    .selectAll('g')
    .data(simNodes)
    .join('g')
    .attr('class', 'node')
    .attr('transform', (n) => `translate(${n.x ?? 0},${n.y ?? 0})`)
    .attr('tabindex', 0)
    .attr('role', 'button')
    .attr('aria-label', (n) => `Instance ${n.name}`)
    .on('click', (_e, n) => options.onSelectNode?.(n))
    .on('keydown', (e: KeyboardEvent, n) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        options.onSelectNode?.(n);
      }
    });
  nodeGroup.append('circle').attr('r', radius);
  nodeGroup
    .append('text')
    .attr('class', 'node-label')
    .attr('text-anchor', 'middle')
    .attr('dy', radius + 16)
    .text((n) => n.name);
  nodeGroup.append('title').text((n) => `${n.name}\n${n.url}`);

  return () => {
    simulation.stop();
    svg.on('.zoom', null);
    svg.selectAll('*').remove();
  };
}
