/** Counts shown on the dashboard, derived from the instance and pair lists. */
import type { Instance, Pair } from '../api/types';

export interface DashboardStats {
  instances: number;
  pairs: number;
  pushPairs: number;
  pullPairs: number;
  mirrors: number;
  unverifiedInstances: number;
  idleInstances: number;
}

export function dashboardStats(instances: Instance[], pairs: Pair[]): DashboardStats {
  return {
    instances: instances.length,
    pairs: pairs.length,
    pushPairs: pairs.filter((p) => p.mirror_direction === 'push').length,
    pullPairs: pairs.filter((p) => p.mirror_direction === 'pull').length,
    mirrors: pairs.reduce((sum, p) => sum + (Number.isFinite(p.mirror_count) ? p.mirror_count : 0), 0),
    unverifiedInstances: instances.filter((i) => !i.gitlab_version).length,
    idleInstances: instances.filter((i) => i.pair_count === 0).length,
  };
}

export interface InstanceUsage {
  name: string;
  asSource: number;
  asTarget: number;
}

/** Pairs per instance as source and as target, busiest first. */
export function instanceUsage(instances: Instance[], pairs: Pair[], limit = 8): InstanceUsage[] {
  return instances
    .map((i) => ({
      name: i.name,
      asSource: pairs.filter((p) => p.source_instance_id === i.id).length,
      asTarget: pairs.filter((p) => p.target_instance_id === i.id).length,
    }))
    .sort((a, b) => b.asSource + b.asTarget - (a.asSource + a.asTarget) || a.name.localeCompare(b.name))
    .slice(0, limit);
}
