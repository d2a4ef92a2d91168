/** REST calls of `/api/instances`. */
import { api } from '../api';
import type { Instance, InstanceDeleted, InstanceInput } from '../api/types';
import type { Job } from '../jobs/types';

export async function listInstances(): Promise<Instance[]> {
  const result = await api.listAll<Instance>('/instances', { query: { order_by: 'name' } });
  return result.items;
}

export function createInstance(input: InstanceInput): Promise<Instance> {
  return api.post<Instance>('/instances', input);
}

export function updateInstance(id: number, changes: Partial<InstanceInput>): Promise<Instance> {
  return api.patch<Instance>(`/instances/${id}`, changes);
}

/**
 * Answer of a delete whose pairs have mirrors (202): the job that removes them from GitLab;
 * the pairs and the instance are deleted when it finishes.
 */
export interface InstanceDeleting {
  job: Job;
  warnings: string[];
  deleted_pair_count: number;
}

export function deleteInstance(id: number, force: boolean): Promise<InstanceDeleted | InstanceDeleting | null> {
  return api.delete<InstanceDeleted | InstanceDeleting | null>(`/instances/${id}`, { query: force ? { force: true } : {} });
}

export function isCleanupJob(result: InstanceDeleted | InstanceDeleting | null): result is InstanceDeleting {
  return result !== null && typeof result === 'object' && 'job' in result && typeof result.job === 'object' && result.job !== null;
}

/** The keys of `next` that differ from `original`; the token only when a new one was typed. */
export function instanceChanges(original: Instance, next: InstanceInput): Partial<InstanceInput> {
  const changes: Partial<InstanceInput> = {};
  if (next.name.trim() !== original.name) changes.name = next.name.trim();
  if (next.url.trim() !== original.url) changes.url = next.url.trim();
  if (next.description.trim() !== (original.description ?? '')) changes.description = next.description.trim();
  if (next.token.trim() !== '') changes.token = next.token.trim();
  return changes;
}
