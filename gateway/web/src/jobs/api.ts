/** REST calls of `/api/jobs`. */
import { api, type ListResult } from '../api';
import type { Query } from '../api/client';
import type { Job, JobItem, JobItemState, JobState } from './types';

export interface JobFilter {
  state?: JobState | '';
  kind?: string;
  pairId?: number | null;
  mirrorId?: number | null;
  page?: number;
  pageSize?: number;
}

/** The query string of a job list; empty filters are left out. */
export function jobListQuery(filter: JobFilter): Query {
  const query: Query = {
    state: filter.state || undefined,
    kind: filter.kind?.trim() || undefined,
    pair_id: filter.pairId || undefined,
    mirror_id: filter.mirrorId || undefined,
    page: filter.page && filter.page > 1 ? filter.page : undefined,
    page_size: filter.pageSize,
  };
  return query;
}

export function listJobs(filter: JobFilter, signal?: AbortSignal): Promise<ListResult<Job>> {
  return api.list<Job>('/jobs', { query: jobListQuery(filter), signal });
}

export function getJob(id: number, signal?: AbortSignal): Promise<Job> {
  return api.get<Job>(`/jobs/${id}`, { signal });
}

export function listJobItems(id: number, state: JobItemState | '' = '', page = 1, signal?: AbortSignal): Promise<ListResult<JobItem>> {
  return api.list<JobItem>(`/jobs/${id}/items`, { query: { state: state || undefined, page: page > 1 ? page : undefined, page_size: 100 }, signal });
}

export function cancelJob(id: number): Promise<Job> {
  return api.post<Job>(`/jobs/${id}/cancel`, {});
}

export function retryJob(id: number): Promise<Job> {
  return api.post<Job>(`/jobs/${id}/retry`, {});
}

/** URL of the job's event stream; `EventSource` cannot send headers, so the JWT rides along. */
export function jobEventsUrl(id: number, token: string): string {
  return `/api/jobs/${id}/events?access_token=${encodeURIComponent(token)}`;
}
