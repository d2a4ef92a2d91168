/** REST calls of `/api/pairs`. */
import { api } from '../api';
import type { Pair, PairDeleted, PairInput, PairWritten } from '../api/types';
import type { Job } from '../jobs/types';

export async function listPairs(): Promise<Pair[]> {
  const result = await api.listAll<Pair>('/pairs', { query: { order_by: 'name' } });
  return result.items;
}

export function createPair(input: PairInput): Promise<PairWritten> {
  return api.post<PairWritten>('/pairs', normalizePairInput(input));
}

export function updatePair(id: number, changes: Partial<PairInput>): Promise<PairWritten> {
  return api.patch<PairWritten>(`/pairs/${id}`, changes);
}

export function deletePair(id: number): Promise<PairDeleted | null> {
  return api.delete<PairDeleted | null>(`/pairs/${id}`);
}

/** Trims text, drops an empty regex and the pull-only trigger setting of push pairs. */
export function normalizePairInput(input: PairInput): PairInput {
  const regex = input.mirror_branch_regex?.trim() ?? '';
  return {
    ...input,
    name: input.name.trim(),
    description: input.description.trim(),
    mirror_trigger_builds: input.mirror_direction === 'pull' ? input.mirror_trigger_builds : false,
    mirror_branch_regex: regex === '' || input.only_mirror_protected_branches ? null : regex,
  };
}

const PAIR_KEYS = [
  'name',
  'source_instance_id',
  'target_instance_id',
  'mirror_direction',
  'mirror_overwrite_diverged',
  'mirror_trigger_builds',
  'only_mirror_protected_branches',
  'mirror_branch_regex',
  'description',
] as const;

/**
 * The keys that changed. Source, target and direction are never sent for a pair with mirrors
 * (the server refuses them).
 */
export function pairChanges(original: Pair, input: PairInput): Partial<PairInput> {
  const locked = original.mirror_count > 0;
  const next = normalizePairInput(
    locked
      ? { ...input, source_instance_id: original.source_instance_id, target_instance_id: original.target_instance_id, mirror_direction: original.mirror_direction }
      : input,
  );
  const changes: Record<string, unknown> = {};
  for (const key of PAIR_KEYS) {
    const before = key === 'mirror_branch_regex' ? (original[key] ?? null) : original[key];
    if (next[key] !== before) changes[key] = next[key];
  }
  return changes as Partial<PairInput>;
}

/** Why source/target/direction cannot change, or undefined when they can. */
export function pairLockReason(pair: Pick<Pair, 'mirror_count'> | null): string | undefined {
  if (!pair || pair.mirror_count <= 0) return undefined;
  const n = pair.mirror_count;
  return `Locked: this pair has ${n} mirror${n === 1 ? '' : 's'}. Changing it would break ${n === 1 ? 'it' : 'them'}; remove the mirrors first.`;
}

/** Answer of `POST /api/pairs/{id}/sync-mirrors`: 202 with the job, or 200 with the plan only. */
export interface PairSyncStarted {
  /** The batch job; null for a dry run. */
  job: Job | null;
  /** Mirrors in the batch (enabled and ready). */
  mirror_count: number;
  /** Mirrors that get a skipped item (disabled, or not ready in GitLab). */
  skipped_count: number;
  /** GitLab requests the batch needs at most. */
  gitlab_calls: number;
  /** Estimated duration at the instances' current rate budget, in seconds (0 = unknown). */
  estimated_seconds: number;
}

/** A started batch always has its job. */
export type PairSyncJob = PairSyncStarted & { job: Job };

export async function syncPairMirrors(id: number): Promise<PairSyncJob> {
  const started = await api.post<PairSyncStarted>(`/pairs/${id}/sync-mirrors`, {});
  if (!started.job) throw new Error('the server started no job');
  return started as PairSyncJob;
}

/** What Sync all would do, without starting anything (`?dry_run=true`). */
export function planPairSync(id: number): Promise<PairSyncStarted> {
  return api.post<PairSyncStarted>(`/pairs/${id}/sync-mirrors?dry_run=true`, {});
}
