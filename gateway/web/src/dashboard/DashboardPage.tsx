/** Overview: real counts, server health, quick actions and the pairs-per-instance chart. */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import type { QuickHealth } from '../api/types';
import { useData } from '../app/data';
import { PageHeader } from '../app/PageHeader';
import { href } from '../app/router';
import { EmptyState, LoadError } from '../ui/EmptyState';
import { plural } from '../util/format';
import { dashboardStats, instanceUsage } from './stats';
import { UsageChart } from './UsageChart';

function StatCard({ label, value, detail, link, testId }: { label: string; value: string | number; detail?: string; link?: string; testId: string }) {
  const body = (
    <>
      <span class="stat-label">{label}</span>
      <span class="stat-value" data-testid={testId}>
        {value}
      </span>
      {detail ? <span class="stat-detail">{detail}</span> : null}
    </>
  );
  return link ? (
    <a class="stat-card" href={link}>
      {body}
    </a>
  ) : (
    <div class="stat-card">{body}</div>
  );
}

function useQuickHealth(): 'ok' | 'down' | 'checking' {
  const [state, setState] = useState<'ok' | 'down' | 'checking'>('checking');
  useEffect(() => {
    let alive = true;
    const check = () =>
      api
        .get<QuickHealth>('/health/quick', { anonymous: true })
        .then((h) => alive && setState(h?.status === 'ok' || h?.status === 'healthy' ? 'ok' : 'down'))
        .catch(() => alive && setState('down'));
    void check();
    const timer = setInterval(check, 30_000);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, []);
  return state;
}

export function DashboardPage() {
  const { instances, pairs, reloadAll } = useData();
  const health = useQuickHealth();
  const loaded = instances.loaded && pairs.loaded;
  const stats = dashboardStats(instances.items, pairs.items);
  const usage = instanceUsage(instances.items, pairs.items);
  const error = instances.error ?? pairs.error;
  const dash = (n: number) => (loaded ? n : '…');

  return (
    <>
      <PageHeader
        title="Dashboard"
        actions={
          <button type="button" class="button" onClick={() => void reloadAll()}>
            Refresh
          </button>
        }
      />
      {error ? <LoadError message={error} onRetry={() => void reloadAll()} /> : null}
      <div class="stat-grid">
        <StatCard testId="stat-instances" label="Instances" value={dash(stats.instances)} detail={loaded && stats.unverifiedInstances ? `${stats.unverifiedInstances} not verified yet` : 'GitLab servers'} link={href('/instances')} />
        <StatCard testId="stat-pairs" label="Pairs" value={dash(stats.pairs)} detail={loaded ? `${stats.pushPairs} push · ${stats.pullPairs} pull` : undefined} link={href('/pairs')} />
        <StatCard testId="stat-mirrors" label="Mirrors" value={dash(stats.mirrors)} detail={loaded && stats.mirrors === 0 ? 'Mirror management is coming' : 'Across all pairs'} link={href('/mirrors')} />
        <div class="stat-card">
          <span class="stat-label">Server</span>
          <span class={`stat-value health-${health}`} data-testid="stat-health">
            <span class="dot" aria-hidden="true" />
            {health === 'ok' ? 'Up' : health === 'down' ? 'Unreachable' : 'Checking…'}
          </span>
          <span class="stat-detail">Quick health check, every 30 s</span>
        </div>
      </div>

      <div class="dashboard-grid">
        <section class="card" aria-labelledby="quick-actions-h">
          <h2 id="quick-actions-h" class="card-title">
            Quick actions
          </h2>
          <div class="quick-actions">
            <a class="button" href={href('/instances', { new: 1 })}>
              + Add instance
            </a>
            <a class="button" href={href('/pairs', { new: 1 })}>
              + Create pair
            </a>
            <a class="button" href={href('/topology')}>
              View topology
            </a>
            <a class="button" href={href('/help')}>
              Setup guide
            </a>
          </div>
          {loaded && stats.instances < 2 ? (
            <p class="notice">
              {stats.instances === 0 ? 'Start by adding the GitLab instances you want to mirror between.' : 'Add a second instance to create your first pair.'}
            </p>
          ) : null}
          {loaded && stats.idleInstances > 0 && stats.instances >= 2 ? <p class="muted">{plural(stats.idleInstances, 'instance')} not used by any pair yet.</p> : null}
        </section>

        <section class="card" aria-labelledby="usage-h">
          <h2 id="usage-h" class="card-title">
            Pairs per instance
          </h2>
          {!loaded ? (
            <p class="muted">Loading…</p>
          ) : pairs.items.length === 0 ? (
            <EmptyState title="No pairs yet">
              <p>
                Once you <a href={href('/pairs', { new: 1 })}>create a pair</a>, this chart shows how each instance is used.
              </p>
            </EmptyState>
          ) : (
            <UsageChart usage={usage} />
          )}
        </section>
      </div>
    </>
  );
}
