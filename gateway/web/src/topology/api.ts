/** REST read models of the topology: `/api/topology` and `/api/topology/link-mirrors`. */
import { api } from '../api';
import type { Direction } from '../api/types';

export type Health = 'ok' | 'warning' | 'error' | 'unknown';
export type NeverSucceededLevel = 'warning' | 'error';

export interface TopologyNode {
  id: number;
  name: string;
  url: string;
  description: string | null;
  mirrors_in: number;
  mirrors_out: number;
  pairs_in: number;
  pairs_out: number;
  status_counts: Record<string, number>;
  last_successful_update: string | null;
  health: Health;
  staleness: Health;
  staleness_age_seconds: number | null;
  never_succeeded_count: number;
}

export interface TopologyLink {
  source: number;
  target: number;
  mirror_direction: Direction;
  mirror_count: number;
  enabled_count: number;
  disabled_count: number;
  pair_count: number;
  status_counts: Record<string, number>;
  last_successful_update: string | null;
  health: Health;
  staleness: Health;
  staleness_age_seconds: number | null;
  never_succeeded_count: number;
}

export interface Topology {
  nodes: TopologyNode[];
  links: TopologyLink[];
}

export interface LinkMirror {
  id: number;
  instance_pair_id: number;
  instance_pair_name: string;
  source_project_path: string;
  target_project_path: string;
  mirror_direction: Direction;
  enabled: boolean;
  last_update_status: string | null;
  last_successful_update: string | null;
  never_succeeded: boolean;
  staleness: Health;
  staleness_age_seconds: number | null;
  health: Health;
}

export interface LinkMirrors {
  total: number;
  mirrors: LinkMirror[];
}

/** The health settings the operator can change (sent to both endpoints). */
export interface HealthSettings {
  staleWarningSeconds: number;
  staleErrorSeconds: number;
  neverSucceededLevel: NeverSucceededLevel;
}

function healthQuery(settings: HealthSettings) {
  return {
    stale_warning_seconds: settings.staleWarningSeconds,
    stale_error_seconds: settings.staleErrorSeconds,
    never_succeeded_level: settings.neverSucceededLevel,
  };
}

export function getTopology(settings: HealthSettings, signal?: AbortSignal): Promise<Topology> {
  return api.get<Topology>('/topology', { query: healthQuery(settings), signal });
}

export function getLinkMirrors(link: Pick<TopologyLink, 'source' | 'target' | 'mirror_direction'>, settings: HealthSettings, signal?: AbortSignal): Promise<LinkMirrors> {
  return api.get<LinkMirrors>('/topology/link-mirrors', {
    query: {
      source_instance_id: link.source,
      target_instance_id: link.target,
      mirror_direction: link.mirror_direction,
      include_disabled: true,
      limit: 200,
      ...healthQuery(settings),
    },
    signal,
  });
}
