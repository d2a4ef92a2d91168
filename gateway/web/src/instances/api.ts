/** REST calls of `/api/instances`. */
import { api } from '../api';
import type { Instance, InstanceDeleted, InstanceInput } from '../api/types';

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

export function deleteInstance(id: number, force: boolean): Promise<InstanceDeleted | null> {
  return api.delete<InstanceDeleted | null>(`/instances/${id}`, { query: force ? { force: true } : {} });
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
