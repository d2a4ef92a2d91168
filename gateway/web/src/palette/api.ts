/** `GET /api/search`: instances, pairs and mirrors matching a text, for the palette and header. */
import { api } from '../api';

export interface SearchHit {
  type: 'instance' | 'pair' | 'mirror' | string;
  id: number;
  title: string;
  subtitle: string | null;
  url?: string | null;
  /** For mirrors: the pair the mirror belongs to. */
  instance_pair_id?: number | null;
  /** For mirrors: GitLab's update status. */
  status?: string | null;
}

export interface SearchResponse {
  query: string;
  total_count: number;
  instances: SearchHit[];
  pairs: SearchHit[];
  mirrors: SearchHit[];
}

export function searchEverything(q: string, limit: number, signal?: AbortSignal): Promise<SearchResponse> {
  return api.get<SearchResponse>('/search', { query: { q, limit }, signal });
}
