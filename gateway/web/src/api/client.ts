/**
 * A small fetch wrapper for the REST API: bearer token, JSON bodies, uniform errors, and list
 * responses that are either a bare array (with `X-Total-Count`) or an envelope object.
 */
import { ApiError, errorFromBody } from './errors';

export type Query = Record<string, string | number | boolean | null | undefined>;

export interface ListResult<T> {
  items: T[];
  total: number;
  nextPageToken: string | null;
}

export interface ClientOptions {
  baseUrl?: string;
  fetch?: typeof fetch;
  getToken?: () => string | null;
  /** Called when an authenticated request answers 401. */
  onUnauthorized?: (error: ApiError) => void;
}

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
  /** Send no token and do not treat 401 as an expired session (login). */
  anonymous?: boolean;
}

const ENVELOPE_ITEM_KEYS = ['items', 'data', 'results', 'records'];
const ENVELOPE_TOTAL_KEYS = ['total', 'total_count', 'totalCount', 'total_size', 'count'];
const ENVELOPE_NEXT_KEYS = ['next_page_token', 'nextPageToken', 'next'];

function toInt(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return Math.max(0, Math.trunc(value));
  if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) return Number.parseInt(value, 10);
  return null;
}

/** Normalises a list response; headers win over nothing, envelope fields win over headers. */
export function parseList<T>(body: unknown, headers: Headers): ListResult<T> {
  const headerTotal = toInt(headers.get('x-total-count'));
  const headerNext = headers.get('x-next-page-token') || null;
  if (Array.isArray(body)) {
    return { items: body as T[], total: headerTotal ?? body.length, nextPageToken: headerNext };
  }
  if (typeof body === 'object' && body !== null) {
    const record = body as Record<string, unknown>;
    let items: unknown[] | undefined;
    for (const key of ENVELOPE_ITEM_KEYS) {
      const value = record[key];
      if (Array.isArray(value)) {
        items = value;
        break;
      }
    }
    // Envelopes named after the resource, e.g. `{"instances": [...]}`.
    items ??= Object.values(record).find((v): v is unknown[] => Array.isArray(v));
    if (items) {
      let total: number | null = null;
      for (const key of ENVELOPE_TOTAL_KEYS) {
        total ??= toInt(record[key]);
      }
      let next: string | null = null;
      for (const key of ENVELOPE_NEXT_KEYS) {
        const value = record[key];
        if (!next && typeof value === 'string' && value !== '') next = value;
      }
      return { items: items as T[], total: total ?? headerTotal ?? items.length, nextPageToken: next ?? headerNext };
    }
  }
  throw new ApiError({ status: 200, code: 'BAD_RESPONSE', message: 'The server sent an unexpected list response.' });
}

export function buildUrl(baseUrl: string, path: string, query?: Query): string {
  const base = baseUrl.replace(/\/+$/, '');
  const rel = path.startsWith('/') ? path : `/${path}`;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null || value === '') continue;
    params.set(key, String(value));
  }
  const qs = params.toString();
  return `${base}${rel}${qs ? `?${qs}` : ''}`;
}

async function readBody(response: Response): Promise<unknown> {
  if (response.status === 204) return null;
  const text = await response.text();
  if (text === '') return null;
  const type = response.headers.get('content-type') ?? '';
  if (type.includes('json') || /^[\s]*[[{]/.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

export class ApiClient {
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly getToken: () => string | null;
  private readonly onUnauthorized: (error: ApiError) => void;

  constructor(options: ClientOptions = {}) {
    this.baseUrl = options.baseUrl ?? '/api';
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.getToken = options.getToken ?? (() => null);
    this.onUnauthorized = options.onUnauthorized ?? (() => undefined);
  }

  private async send(method: string, path: string, options: RequestOptions): Promise<{ body: unknown; headers: Headers }> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    const token = options.anonymous ? null : this.getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    let payload: string | undefined;
    if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(options.body);
    }
    let response: Response;
    try {
      response = await this.fetchImpl(buildUrl(this.baseUrl, path, options.query), {
        method,
        headers,
        body: payload,
        signal: options.signal,
        credentials: 'same-origin',
      });
    } catch (cause) {
      if (cause instanceof DOMException && cause.name === 'AbortError') throw cause;
      throw new ApiError({ status: 0, code: 'NETWORK', message: 'Cannot reach the server. Check your connection and try again.' });
    }
    const body = await readBody(response).catch(() => null);
    if (!response.ok) {
      const error = errorFromBody(response.status, response.statusText, body, response.headers.get('x-request-id'));
      if (response.status === 401 && !options.anonymous) this.onUnauthorized(error);
      throw error;
    }
    return { body, headers: response.headers };
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const { body } = await this.send(method, path, options);
    return body as T;
  }

  get<T>(path: string, options?: RequestOptions): Promise<T> {
    return this.request<T>('GET', path, options);
  }

  post<T>(path: string, body: unknown, options?: RequestOptions): Promise<T> {
    return this.request<T>('POST', path, { ...options, body });
  }

  patch<T>(path: string, body: unknown, options?: RequestOptions): Promise<T> {
    return this.request<T>('PATCH', path, { ...options, body });
  }

  delete<T>(path: string, options?: RequestOptions): Promise<T> {
    return this.request<T>('DELETE', path, options);
  }

  async list<T>(path: string, options: RequestOptions = {}): Promise<ListResult<T>> {
    const { body, headers } = await this.send('GET', path, options);
    return parseList<T>(body, headers);
  }

  /** Every item of a list, following page tokens (or page numbers) up to `maxPages`. */
  async listAll<T>(path: string, options: RequestOptions = {}, maxPages = 25): Promise<ListResult<T>> {
    const perPage = 200;
    const items: T[] = [];
    let total = 0;
    let token: string | null = null;
    for (let page = 1; page <= maxPages; page++) {
      const query: Query = { ...options.query, per_page: perPage };
      if (token) query.page_token = token;
      else if (page > 1) query.page = page;
      const result: ListResult<T> = await this.list<T>(path, { ...options, query });
      items.push(...result.items);
      total = Math.max(result.total, items.length);
      token = result.nextPageToken;
      const more = token !== null || (result.items.length === perPage && items.length < total);
      if (!more) break;
    }
    return { items, total, nextPageToken: null };
  }
}
