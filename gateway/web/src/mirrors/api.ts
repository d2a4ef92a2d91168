/** REST calls of `/api/mirrors`, the project search and export/import. */
import { api, type ListResult } from '../api';
import type { Job } from '../jobs/types';
import { mirrorListQuery, treeQuery, type MirrorListState } from './query';
import type { GitLabProject, ImportResult, Mirror, MirrorChanges, MirrorCreated, MirrorGroup, MirrorInput, MirrorUpdated } from './types';
import type { ImportFile } from './importFile';

export function listMirrors(state: MirrorListState, signal?: AbortSignal): Promise<ListResult<Mirror>> {
  return api.list<Mirror>('/mirrors', { query: mirrorListQuery(state), signal });
}

export function mirrorTree(state: MirrorListState, signal?: AbortSignal): Promise<MirrorGroup[]> {
  return api.get<MirrorGroup[]>('/mirrors/tree', { query: treeQuery(state), signal });
}

export function createMirror(input: MirrorInput): Promise<MirrorCreated> {
  return api.post<MirrorCreated>('/mirrors', input);
}

export function updateMirror(id: number, changes: MirrorChanges): Promise<MirrorUpdated> {
  return api.patch<MirrorUpdated>(`/mirrors/${id}`, changes);
}

export function deleteMirror(id: number): Promise<Job> {
  return api.delete<Job>(`/mirrors/${id}`);
}

export type MirrorAction = 'sync' | 'rotate-token' | 'verify' | 'refresh-status';

export function startMirrorAction(id: number, action: MirrorAction): Promise<Job> {
  return api.post<Job>(`/mirrors/${id}/${action}`, {});
}

/** Asks GitLab for the current status of every mirror of the pair (a job). */
export function refreshPairStatus(pairId: number): Promise<Job> {
  return api.post<Job>(`/pairs/${pairId}/refresh-status`, {});
}

export async function searchProjects(instanceId: number, search: string, signal?: AbortSignal, pageSize = 20): Promise<GitLabProject[]> {
  const result = await api.list<GitLabProject>(`/instances/${instanceId}/projects`, { query: { search: search.trim(), page_size: pageSize }, signal });
  return result.items;
}

/** The export file of a pair, as the server formats it (pretty JSON). */
export function exportPair(pairId: number): Promise<unknown> {
  return api.get<unknown>(`/export/pair/${pairId}`);
}

export function importPair(pairId: number, file: ImportFile, dryRun: boolean): Promise<ImportResult> {
  return api.post<ImportResult>(`/import/pair/${pairId}`, file, { query: { dry_run: dryRun ? 'true' : undefined } });
}
