import { describe, expect, it, vi } from 'vitest';
import { ApiClient, buildUrl, parseList } from './client';
import { ApiError } from './errors';

function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

function clientWith(response: Response | (() => Response | Promise<Response>), extra: Partial<ConstructorParameters<typeof ApiClient>[0]> = {}) {
  const fetchMock = vi.fn(async () => (typeof response === 'function' ? response() : response.clone()));
  const client = new ApiClient({ baseUrl: '/api', fetch: fetchMock as unknown as typeof fetch, ...extra });
  return { client, fetchMock };
}

describe('parseList', () => {
  it('reads a bare array with X-Total-Count and the next page token', () => {
    const headers = new Headers({ 'X-Total-Count': '42', 'X-Next-Page-Token': 'abc' });
    expect(parseList([{ id: 1 }], headers)).toEqual({ items: [{ id: 1 }], total: 42, nextPageToken: 'abc' });
  });

  it('falls back to the array length without a total header', () => {
    expect(parseList([1, 2, 3], new Headers())).toEqual({ items: [1, 2, 3], total: 3, nextPageToken: null });
  });

  it('reads an envelope with items and total', () => {
    expect(parseList({ items: [{ id: 2 }], total: 9, next_page_token: 't2' }, new Headers())).toEqual({ items: [{ id: 2 }], total: 9, nextPageToken: 't2' });
  });

  it('reads envelopes keyed by resource name and other total spellings', () => {
    expect(parseList({ instances: [{ id: 1 }, { id: 2 }], total_count: '5' }, new Headers())).toMatchObject({ items: [{ id: 1 }, { id: 2 }], total: 5 });
    expect(parseList({ data: [], count: 0 }, new Headers({ 'x-total-count': '7' }))).toMatchObject({ items: [], total: 0 });
  });

  it('uses the header total when the envelope has none', () => {
    expect(parseList({ results: [{}] }, new Headers({ 'x-total-count': '12' }))).toMatchObject({ total: 12 });
  });

  it('rejects a response that is not a list', () => {
    expect(() => parseList({ status: 'ok' }, new Headers())).toThrow(ApiError);
    expect(() => parseList('nope', new Headers())).toThrow(/unexpected list/);
  });
});

describe('buildUrl', () => {
  it('skips empty query values and encodes the rest', () => {
    expect(buildUrl('/api/', '/instances', { search: 'a b', page: 2, empty: '', none: undefined, nil: null })).toBe('/api/instances?search=a+b&page=2');
    expect(buildUrl('/api', 'pairs')).toBe('/api/pairs');
  });
});

describe('ApiClient', () => {
  it('sends the bearer token and a JSON body', async () => {
    const { client, fetchMock } = clientWith(jsonResponse(201, { id: 1 }), { getToken: () => 'tok' });
    await expect(client.post('/instances', { name: 'a' })).resolves.toEqual({ id: 1 });
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/instances');
    expect(init.method).toBe('POST');
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer tok');
    expect((init.headers as Record<string, string>)['Content-Type']).toBe('application/json');
    expect(init.body).toBe('{"name":"a"}');
  });

  it('does not send the token for anonymous requests', async () => {
    const { client, fetchMock } = clientWith(jsonResponse(200, {}), { getToken: () => 'tok' });
    await client.post('/auth/login', {}, { anonymous: true });
    const init = (fetchMock.mock.calls[0] as unknown as [string, RequestInit])[1];
    expect((init.headers as Record<string, string>).Authorization).toBeUndefined();
  });

  it('turns the error envelope into an ApiError with field violations', async () => {
    const body = {
      code: 'INVALID_ARGUMENT',
      message: 'name: must not be empty',
      detail: 'name: must not be empty',
      field_violations: [{ field: 'name', description: 'must not be empty' }],
      request_id: 'req-1',
    };
    const { client } = clientWith(jsonResponse(400, body));
    const error = await client.post('/instances', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 400, code: 'INVALID_ARGUMENT', message: 'name: must not be empty', requestId: 'req-1' });
    expect((error as ApiError).fieldViolations).toEqual([{ field: 'name', description: 'must not be empty' }]);
  });

  it('calls onUnauthorized on 401, except for anonymous requests', async () => {
    const onUnauthorized = vi.fn();
    const { client } = clientWith(() => jsonResponse(401, { code: 'UNAUTHENTICATED', message: 'expired' }), { onUnauthorized });
    await expect(client.get('/instances')).rejects.toMatchObject({ status: 401, isUnauthorized: true });
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
    await expect(client.post('/auth/login', {}, { anonymous: true })).rejects.toMatchObject({ status: 401 });
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });

  it('describes non-JSON error bodies without leaking HTML', async () => {
    const html = new Response('<html><body>Bad gateway</body></html>', { status: 502, statusText: 'Bad Gateway', headers: { 'content-type': 'text/html' } });
    const { client } = clientWith(html);
    await expect(client.get('/about')).rejects.toMatchObject({ status: 502, code: 'UNAVAILABLE', message: 'The server had a problem (502 Bad Gateway).' });
  });

  it('uses a plain-text error body as the message', async () => {
    const { client } = clientWith(new Response('rate limited', { status: 429 }));
    await expect(client.get('/about')).rejects.toMatchObject({ status: 429, code: 'RESOURCE_EXHAUSTED', message: 'rate limited' });
  });

  it('reads the request id from the header when the body has none', async () => {
    const { client } = clientWith(new Response(null, { status: 500, headers: { 'x-request-id': 'hdr-9' } }));
    await expect(client.get('/about')).rejects.toMatchObject({ status: 500, requestId: 'hdr-9' });
  });

  it('accepts legacy `detail` lists as field violations', async () => {
    const { client } = clientWith(jsonResponse(422, { detail: [{ loc: ['body', 'url'], msg: 'invalid url' }] }));
    const error = (await client.post('/instances', {}).catch((e: unknown) => e)) as ApiError;
    expect(error.fieldViolations).toEqual([{ field: 'url', description: 'invalid url' }]);
    expect(error.message).toBe('url: invalid url');
  });

  it('reports network failures as status 0', async () => {
    const client = new ApiClient({ fetch: (() => Promise.reject(new TypeError('Failed to fetch'))) as typeof fetch });
    await expect(client.get('/about')).rejects.toMatchObject({ status: 0, code: 'NETWORK', isNetwork: true });
  });

  it('lets aborts through unchanged', async () => {
    const client = new ApiClient({ fetch: (() => Promise.reject(new DOMException('aborted', 'AbortError'))) as typeof fetch });
    await expect(client.get('/about')).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('returns null for 204 and empty bodies', async () => {
    const { client } = clientWith(new Response(null, { status: 204 }));
    await expect(client.delete('/pairs/1')).resolves.toBeNull();
  });

  it('listAll follows next page tokens', async () => {
    const pages = [jsonResponse(200, [{ id: 1 }], { 'x-total-count': '2', 'x-next-page-token': 'p2' }), jsonResponse(200, [{ id: 2 }], { 'x-total-count': '2' })];
    const fetchMock = vi.fn(async () => pages.shift() ?? jsonResponse(200, []));
    const client = new ApiClient({ fetch: fetchMock as unknown as typeof fetch });
    const result = await client.listAll<{ id: number }>('/pairs');
    expect(result.items.map((i) => i.id)).toEqual([1, 2]);
    expect(result.total).toBe(2);
    expect((fetchMock.mock.calls[1] as unknown as [string])[0]).toBe('/api/pairs?per_page=200&page_token=p2');
  });
});
