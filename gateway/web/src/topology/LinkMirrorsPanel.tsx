/** Drill-down of one topology link: its mirrors, worst first, with links to the Mirrors tab. */
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api';
import { href } from '../app/router';
import { formatZulu, plural } from '../util/format';
import { getLinkMirrors, type HealthSettings, type LinkMirrors, type TopologyLink, type TopologyNode } from './api';
import { HEALTH_LABELS, normalizeHealth, sortWorstFirst, stalenessText } from './health';

interface Props {
  link: TopologyLink;
  nodes: TopologyNode[];
  settings: HealthSettings;
  onClose: () => void;
}

export function LinkMirrorsPanel({ link, nodes, settings, onClose }: Props) {
  const [data, setData] = useState<LinkMirrors | null>(null);
  const [error, setError] = useState<string | null>(null);
  const name = (id: number) => nodes.find((n) => n.id === id)?.name ?? `#${id}`;

  useEffect(() => {
    const controller = new AbortController();
    setData(null);
    setError(null);
    getLinkMirrors(link, settings, controller.signal)
      .then((result) => setData({ ...result, mirrors: sortWorstFirst(result.mirrors) }))
      .catch((e: unknown) => {
        if (!controller.signal.aborted) setError(describeError(e));
      });
    return () => controller.abort();
  }, [link.source, link.target, link.mirror_direction, settings.staleWarningSeconds, settings.staleErrorSeconds, settings.neverSucceededLevel]);

  useEffect(() => {
    document.getElementById('link-mirrors-heading')?.focus();
  }, [link.source, link.target, link.mirror_direction]);

  const pairs = data ? [...new Map(data.mirrors.map((m) => [m.instance_pair_id, m.instance_pair_name])).entries()] : [];
  return (
    <section class="card" aria-labelledby="link-mirrors-heading" data-testid="link-mirrors">
      <div class="card-header">
        <h2 id="link-mirrors-heading" class="card-title" tabIndex={-1}>
          {name(link.source)} → {name(link.target)} <span class="count">{link.mirror_direction}</span>
        </h2>
        <button type="button" class="button button-small" onClick={onClose}>
          Close
        </button>
      </div>
      <p class="small">
        {plural(link.mirror_count, 'mirror')} ({link.enabled_count} enabled) in {plural(link.pair_count, 'pair')} ·{' '}
        <span class={`health-badge health-${normalizeHealth(link.health)}`}>{HEALTH_LABELS[normalizeHealth(link.health)]}</span> · {stalenessText(link)}
      </p>
      {pairs.length ? (
        <p class="small">
          Open in Mirrors:{' '}
          {pairs.map(([id, pairName], index) => (
            <span key={id}>
              {index ? ', ' : ''}
              <a href={href('/mirrors', { pair: id })} data-testid="link-mirrors-pair">
                {pairName}
              </a>
            </span>
          ))}
        </p>
      ) : null}
      {error ? (
        <p class="form-errors" role="alert">
          {error}
        </p>
      ) : !data ? (
        <p class="muted" aria-busy="true">
          Loading mirrors…
        </p>
      ) : data.mirrors.length === 0 ? (
        <p class="muted">No mirrors on this link.</p>
      ) : (
        <div class="table-wrap">
          <table class="table responsive-table" data-testid="link-mirrors-table">
            <caption class="visually-hidden">Mirrors of this link, worst health first</caption>
            <thead>
              <tr>
                <th scope="col">Source → target</th>
                <th scope="col">Pair</th>
                <th scope="col">Health</th>
                <th scope="col">Last status</th>
                <th scope="col">Last success</th>
              </tr>
            </thead>
            <tbody>
              {data.mirrors.map((m) => (
                <tr key={m.id} data-testid="link-mirror-row">
                  <th scope="row" data-label="Source → target" class="cell-path">
                    <a href={href('/mirrors', { pair: m.instance_pair_id, focus: m.id })}>
                      {m.source_project_path} → {m.target_project_path}
                    </a>
                    {m.enabled ? null : <span class="badge">disabled</span>}
                  </th>
                  <td data-label="Pair">{m.instance_pair_name}</td>
                  <td data-label="Health">
                    <span class={`health-badge health-${normalizeHealth(m.health)}`}>{HEALTH_LABELS[normalizeHealth(m.health)]}</span>
                  </td>
                  <td data-label="Last status">{m.last_update_status ?? 'unknown'}</td>
                  <td data-label="Last success" title={formatZulu(m.last_successful_update)}>
                    {stalenessText(m)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {data.total > data.mirrors.length ? <p class="muted small">Showing the worst {data.mirrors.length} of {data.total}.</p> : null}
        </div>
      )}
    </section>
  );
}
