/**
 * Overview from `/api/dashboard/metrics`: stat cards, health distribution, mirrors per pair,
 * recent activity, status freshness and quick actions; a live indicator from quick stats.
 */
import { useData } from '../app/data';
import { PageHeader } from '../app/PageHeader';
import { href } from '../app/router';
import { EmptyState, LoadError } from '../ui/EmptyState';
import { formatZulu, plural } from '../util/format';
import type { DashboardMetrics, QuickStats } from './api';
import { HealthChart, PairsChart } from './Charts';
import { useMetrics, useQuickStats } from './live';
import { activityLabel, formatPercent, freshnessText, healthLevel, healthSegments, shortAge } from './metrics';
import '../topology/health.css';
import './dashboard.css';

function StatCard({ label, value, detail, link, testId, valueClass }: { label: string; value: string | number; detail?: string; link?: string; testId: string; valueClass?: string }) {
  const body = (
    <>
      <span class="stat-label">{label}</span>
      <span class={`stat-value ${valueClass ?? ''}`} data-testid={testId}>
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

function LiveIndicator({ stats }: { stats: QuickStats | null }) {
  const syncing = stats?.syncing_count ?? 0;
  return (
    <span class="live-indicator" data-syncing={syncing > 0} data-testid="live-indicator" role="status">
      <span class="live-dot" aria-hidden="true" />
      {stats === null
        ? 'Live updates starting…'
        : `${syncing ? `${plural(syncing, 'mirror')} syncing` : 'Nothing syncing'}${stats.recent_failures ? ` · ${plural(stats.recent_failures, 'failure')} in the last hour` : ''}`}
    </span>
  );
}

function Activity({ metrics }: { metrics: DashboardMetrics }) {
  const items = metrics.recent_activity ?? [];
  if (items.length === 0) return <p class="muted">No jobs in the last 24 hours.</p>;
  return (
    <ol class="timeline" data-testid="activity">
      {items.map((a) => {
        const age = shortAge(a.timestamp) ?? a.time_ago ?? '';
        return (
          <li key={`${a.id}-${a.timestamp ?? ''}`}>
            <span class={`timeline-kind kind-${a.activity_type}`}>{activityLabel(a.activity_type)}</span>
            <a class="timeline-project" href={href('/jobs', { id: a.id })} title={a.job_kind ? `Job #${a.id} (${a.job_kind})` : `Job #${a.id}`}>
              {a.project || `Job #${a.id}`}
            </a>
            <time class="timeline-age" dateTime={a.timestamp ?? undefined} title={formatZulu(a.timestamp)}>
              {age ? `${age} ago` : ''}
            </time>
          </li>
        );
      })}
    </ol>
  );
}

function Freshness({ metrics }: { metrics: DashboardMetrics }) {
  const f = metrics.status_freshness;
  const { counts, refresh } = freshnessText(f);
  const total = f.fresh_count + f.stale_count;
  return (
    <div data-testid="freshness">
      <p>{counts}</p>
      {total > 0 ? (
        <div class="freshness-bar" aria-hidden="true">
          <span class="freshness-fresh" style={{ width: `${(f.fresh_count * 100) / total}%` }} />
          <span class="freshness-stale" style={{ width: `${(f.stale_count * 100) / total}%` }} />
        </div>
      ) : null}
      <p class="muted small">{refresh}</p>
      {f.newest_update ? (
        <p class="muted small">
          Newest status {formatZulu(f.newest_update)}; oldest {formatZulu(f.oldest_update)}.
        </p>
      ) : null}
    </div>
  );
}

export function DashboardPage() {
  const { instances, pairs, reloadAll } = useData();
  const { metrics, error, loading, loadedAt, reload } = useMetrics();
  const quick = useQuickStats(() => void reload());
  const summary = metrics?.summary;
  // Until the metrics arrive (or if they cannot be loaded), the instance and pair counts come
  // from the lists the console already holds; mirror figures are only shown from the metrics.
  const instanceCount = summary?.total_instances ?? (instances.loaded ? instances.items.length : '…');
  const pairCount = summary?.total_pairs ?? (pairs.loaded ? pairs.items.length : '…');
  const pending = loading && !metrics ? '…' : '—';
  const segments = metrics ? healthSegments(metrics.health) : [];
  const level = summary ? healthLevel(summary.health_percentage, summary.total_mirrors) : 'unknown';

  return (
    <>
      <PageHeader
        title="Dashboard"
        actions={
          <div class="dashboard-actions">
            <LiveIndicator stats={quick} />
            <button
              type="button"
              class="button"
              onClick={() => {
                void reload();
                void reloadAll();
              }}
            >
              Refresh
            </button>
          </div>
        }
      />
      {error ? <LoadError message={`Mirror metrics are unavailable: ${error}`} onRetry={() => void reload()} /> : null}
      <div class="stat-grid stat-grid-5">
        <StatCard testId="stat-instances" label="Instances" value={instanceCount} detail="GitLab servers" link={href('/instances')} />
        <StatCard testId="stat-pairs" label="Pairs" value={pairCount} detail="Source → target" link={href('/pairs')} />
        <StatCard testId="stat-mirrors" label="Mirrors" value={summary?.total_mirrors ?? pending} detail="Across all pairs" link={href('/mirrors')} />
        <StatCard
          testId="stat-enabled"
          label="Enabled"
          value={summary?.enabled_mirrors ?? pending}
          detail={summary ? `${summary.total_mirrors - summary.enabled_mirrors} disabled` : undefined}
          link={href('/mirrors', { enabled: 'true' })}
        />
        <StatCard
          testId="stat-health-percent"
          label="Health"
          value={summary ? (summary.total_mirrors ? formatPercent(summary.health_percentage) : '—') : pending}
          valueClass={`level-${level}`}
          detail={summary ? (summary.total_mirrors ? 'Mirrors whose last update succeeded' : 'No mirrors yet') : undefined}
        />
      </div>

      <div class="dashboard-grid">
        <section class="card" aria-labelledby="health-h">
          <h2 id="health-h" class="card-title">
            Mirror health
          </h2>
          {!metrics ? (
            <p class="muted">{loading ? 'Loading…' : 'Not available.'}</p>
          ) : metrics.summary.total_mirrors === 0 ? (
            <EmptyState title="No mirrors yet">
              <p>
                Create mirrors on the <a href={href('/mirrors')}>Mirrors</a> page; their health shows here.
              </p>
            </EmptyState>
          ) : (
            <HealthChart segments={segments} />
          )}
        </section>

        <section class="card" aria-labelledby="by-pair-h">
          <h2 id="by-pair-h" class="card-title">
            Mirrors by pair
          </h2>
          {!metrics ? (
            <p class="muted">{loading ? 'Loading…' : 'Not available.'}</p>
          ) : metrics.mirrors_by_pair.length === 0 ? (
            <EmptyState title="No pairs yet">
              <p>
                Once you <a href={href('/pairs', { new: 1 })}>create a pair</a>, its mirrors are counted here.
              </p>
            </EmptyState>
          ) : (
            <PairsChart rows={metrics.mirrors_by_pair} />
          )}
        </section>
      </div>

      <div class="dashboard-grid">
        <section class="card" aria-labelledby="activity-h">
          <h2 id="activity-h" class="card-title">
            Recent activity <span class="count">last 24 h</span>
          </h2>
          {metrics ? <Activity metrics={metrics} /> : <p class="muted">{loading ? 'Loading…' : 'Not available.'}</p>}
        </section>

        <section class="card" aria-labelledby="freshness-h">
          <h2 id="freshness-h" class="card-title">
            Status freshness
          </h2>
          {metrics ? <Freshness metrics={metrics} /> : <p class="muted">{loading ? 'Loading…' : 'Not available.'}</p>}
          <p class="muted small">
            {loadedAt ? `Dashboard loaded ${formatZulu(new Date(loadedAt).toISOString())}; ` : ''}live counts refresh every 30 s while this page is visible.
          </p>
          <h3 class="card-subtitle">Quick actions</h3>
          <div class="quick-actions">
            <a class="button" href={href('/instances', { new: 1 })}>
              + Add instance
            </a>
            <a class="button" href={href('/pairs', { new: 1 })}>
              + Create pair
            </a>
            <a class="button" href={href('/mirrors')}>
              Manage mirrors
            </a>
            <a class="button" href={href('/topology')}>
              View topology
            </a>
          </div>
          {instances.loaded && instances.items.length < 2 ? (
            <p class="notice">{instances.items.length === 0 ? 'Start by adding the GitLab instances you want to mirror between.' : 'Add a second instance to create your first pair.'}</p>
          ) : null}
        </section>
      </div>
    </>
  );
}
