#!/usr/bin/env node
// Development-only stand-in for the gateway's REST API (in memory). Mirrors the real API's
// shapes: bare JSON arrays with X-Total-Count, errors as {code,message,detail,field_violations,
// request_id}. Extra test hooks live under /api/__mock/.
//
//   node e2e/mock-server.mjs [port]      (default 18090; env MOCK_USER, MOCK_PASSWORD,
//                                         MOCK_EXPIRES_IN seconds)
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

const port = Number(process.argv[2] ?? process.env.MOCK_PORT ?? 18090);
const USER = process.env.MOCK_USER ?? 'admin';
const PASSWORD = process.env.MOCK_PASSWORD ?? 'adminadmin123';
const EXPIRES_IN = Number(process.env.MOCK_EXPIRES_IN ?? 3600);

const state = { instances: [], pairs: [], nextInstance: 1, nextPair: 1, tokens: new Map() };
const now = () => new Date().toISOString();

class HttpError extends Error {
  constructor(status, code, message, violations = []) {
    super(message);
    Object.assign(this, { status, code, violations });
  }
}
const invalid = (field, description, status = 400) =>
  new HttpError(status, 'INVALID_ARGUMENT', `${field}: ${description}`, [{ field, description }]);

function send(res, status, body, headers = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': randomUUID(), ...headers });
  res.end(text);
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'INVALID_ARGUMENT', 'request body is not valid JSON');
  }
}

function checkKeys(body, allowed) {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw invalid(key, 'unknown field', 422);
  }
}

function withPairCount(instance) {
  const pair_count = state.pairs.filter((p) => p.source_instance_id === instance.id || p.target_instance_id === instance.id).length;
  const { token: _secret, ...rest } = instance;
  return { ...rest, token_set: Boolean(instance.token), pair_count };
}

function validateInstance(body, partial) {
  const out = {};
  if (!partial || 'name' in body) {
    const name = String(body.name ?? '').trim();
    if (!name) throw invalid('name', 'must not be empty');
    if (name.length > 100) throw invalid('name', 'must be at most 100 characters');
    out.name = name;
  }
  if (!partial || 'url' in body) {
    const url = String(body.url ?? '').trim();
    let parsed;
    try {
      parsed = new URL(url);
    } catch {
      throw invalid('url', 'must be an absolute http or https URL');
    }
    if (!['http:', 'https:'].includes(parsed.protocol)) throw invalid('url', 'scheme must be http or https');
    if (!parsed.hostname) throw invalid('url', 'must name a host');
    out.url = url.replace(/\/+$/, '');
  }
  if (!partial || 'token' in body) {
    const token = String(body.token ?? '').trim();
    if (!token) throw invalid('token', 'must not be empty');
    out.token = token;
  }
  if ('description' in body) {
    const description = body.description === null ? '' : String(body.description);
    if (description.length > 500) throw invalid('description', 'must be at most 500 characters');
    out.description = description;
  }
  return out;
}

function validatePair(body, existing) {
  const out = {};
  const partial = Boolean(existing);
  if (!partial || 'name' in body) {
    const name = String(body.name ?? '').trim();
    if (!name) throw invalid('name', 'must not be empty');
    out.name = name;
  }
  for (const key of ['source_instance_id', 'target_instance_id']) {
    if (!partial || key in body) {
      const id = Number(body[key]);
      if (!Number.isInteger(id) || id < 1) throw invalid(key, 'must be a positive integer');
      if (!state.instances.some((i) => i.id === id)) throw new HttpError(404, 'NOT_FOUND', `${key === 'source_instance_id' ? 'source' : 'target'} instance ${id} not found`, [{ field: key, description: 'instance not found' }]);
      out[key] = id;
    }
  }
  if ('mirror_direction' in body && body.mirror_direction !== null) {
    const d = String(body.mirror_direction).toLowerCase();
    if (d !== 'push' && d !== 'pull') throw invalid('mirror_direction', `must be "push" or "pull", got ${JSON.stringify(body.mirror_direction)}`, 422);
    out.mirror_direction = d;
  }
  for (const key of ['mirror_overwrite_diverged', 'mirror_trigger_builds', 'only_mirror_protected_branches']) {
    if (key in body && body[key] !== null) out[key] = Boolean(body[key]);
  }
  if ('mirror_branch_regex' in body) {
    const regex = body.mirror_branch_regex;
    if (regex !== null && regex !== '') {
      try {
        new RegExp(regex);
      } catch {
        throw invalid('mirror_branch_regex', 'is not a valid regular expression');
      }
      if (/\([^)]*[+*][^)]*\)[+*]/.test(regex)) throw invalid('mirror_branch_regex', 'nested quantifiers are not allowed');
    }
    out.mirror_branch_regex = regex || null;
  }
  if ('description' in body) out.description = body.description ?? '';
  const merged = { ...(existing ?? {}), ...out };
  if (merged.source_instance_id === merged.target_instance_id) throw invalid('target_instance_id', 'must differ from source_instance_id');
  if (existing && existing.mirror_count > 0) {
    for (const key of ['source_instance_id', 'target_instance_id', 'mirror_direction']) {
      if (key in out && out[key] !== existing[key]) throw new HttpError(400, 'FAILED_PRECONDITION', `${key}: cannot change while the pair has mirrors`, [{ field: key, description: 'cannot change while the pair has mirrors' }]);
    }
  }
  return out;
}

function page(res, items, query) {
  const perPage = Math.min(200, Math.max(1, Number(query.get('per_page') ?? 50)));
  const pageNo = Math.max(1, Number(query.get('page') ?? 1));
  const slice = items.slice((pageNo - 1) * perPage, pageNo * perPage);
  send(res, 200, slice, { 'x-total-count': String(items.length) });
}

function search(items, term, keys) {
  const t = (term ?? '').toLowerCase();
  return t ? items.filter((item) => keys.some((k) => String(item[k] ?? '').toLowerCase().includes(t))) : items;
}

function authenticate(req) {
  const header = req.headers.authorization ?? '';
  const token = header.startsWith('Bearer ') ? header.slice(7) : '';
  const expires = state.tokens.get(token);
  if (!expires || expires < Date.now()) throw new HttpError(401, 'UNAUTHENTICATED', 'missing or expired credentials');
}

function find(list, id, what) {
  const item = list.find((x) => x.id === id);
  if (!item) throw new HttpError(404, 'NOT_FOUND', `${what} ${id} not found`);
  return item;
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://mock');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const method = req.method ?? 'GET';
  const q = url.searchParams;
  let m;

  if (path === '/api/health/quick') return send(res, 200, { status: 'ok' });
  if (path === '/api/__mock/ping') return send(res, 200, { mock: true });
  if (path === '/api/auth/login' && method === 'POST') {
    const body = await readJson(req);
    if (body.username !== USER || body.password !== PASSWORD) throw new HttpError(401, 'UNAUTHENTICATED', 'Incorrect username or password');
    const token = randomUUID();
    state.tokens.set(token, Date.now() + EXPIRES_IN * 1000);
    return send(res, 200, { access_token: token, token_type: 'bearer', expires_in: EXPIRES_IN, user: { id: 1, username: USER, email: null, is_admin: true, is_active: true, created_at: now() } });
  }
  // Test hook (no auth): pretend a pair has mirrors (mirror management does not exist yet).
  if ((m = /^\/api\/__mock\/pairs\/(\d+)\/mirror_count$/.exec(path)) && method === 'POST') {
    const pair = find(state.pairs, Number(m[1]), 'pair');
    pair.mirror_count = Number((await readJson(req)).mirror_count ?? 0);
    return send(res, 200, pair);
  }
  if (!path.startsWith('/api/')) throw new HttpError(404, 'NOT_FOUND', `no route for ${path}`);
  authenticate(req);

  if (path === '/api/auth/me') return send(res, 200, { id: 1, username: USER, email: null, is_admin: true, is_active: true, created_at: now() });
  if (path === '/api/about') return send(res, 200, { name: 'Mirror Maestro', version: '0.1.0-mock', description: 'Orchestrates GitLab mirrors across instance pairs.', repository: 'https://github.com/mirror-maestro/mirror-maestro', license: 'MIT', documentation: '/api/docs/' });

  if (path === '/api/instances' && method === 'GET') {
    const items = search(state.instances, q.get('search'), ['name', 'url', 'description']).map(withPairCount);
    return page(res, items, q);
  }
  if (path === '/api/instances' && method === 'POST') {
    const body = await readJson(req);
    checkKeys(body, ['name', 'url', 'token', 'description']);
    const values = validateInstance(body, false);
    if (state.instances.some((i) => i.name === values.name)) throw new HttpError(409, 'ALREADY_EXISTS', `an instance named "${values.name}" already exists`, [{ field: 'name', description: 'is already used by another instance' }]);
    const instance = { id: state.nextInstance++, description: '', token_user_id: null, token_username: null, gitlab_version: null, gitlab_edition: null, created_at: now(), updated_at: now(), ...values };
    state.instances.push(instance);
    return send(res, 201, withPairCount(instance));
  }
  if ((m = /^\/api\/instances\/(\d+)$/.exec(path))) {
    const instance = find(state.instances, Number(m[1]), 'instance');
    if (method === 'GET') return send(res, 200, withPairCount(instance));
    if (method === 'PATCH' || method === 'PUT') {
      const body = await readJson(req);
      checkKeys(body, ['name', 'url', 'token', 'description']);
      const values = validateInstance(body, true);
      if (values.name && state.instances.some((i) => i.name === values.name && i.id !== instance.id)) throw new HttpError(409, 'ALREADY_EXISTS', 'name already used', [{ field: 'name', description: 'is already used by another instance' }]);
      if (values.url && values.url !== instance.url && withPairCount(instance).pair_count > 0) throw invalid('url', 'cannot change while pairs use the instance');
      Object.assign(instance, values, { updated_at: now() });
      return send(res, 200, withPairCount(instance));
    }
    if (method === 'DELETE') {
      const pairs = state.pairs.filter((p) => p.source_instance_id === instance.id || p.target_instance_id === instance.id);
      if (pairs.length && q.get('force') !== 'true') throw new HttpError(400, 'FAILED_PRECONDITION', `instance is used by ${pairs.length} pair(s); pass force=true to delete them too`);
      state.pairs = state.pairs.filter((p) => !pairs.includes(p));
      state.instances = state.instances.filter((i) => i !== instance);
      return send(res, 200, { status: 'deleted', deleted_pair_count: pairs.length, warnings: [], warning_count: 0 });
    }
  }

  if (path === '/api/pairs' && method === 'GET') {
    let items = search(state.pairs, q.get('search'), ['name', 'description']);
    if (q.get('direction')) items = items.filter((p) => p.mirror_direction === q.get('direction'));
    if (q.get('source_instance_id')) items = items.filter((p) => p.source_instance_id === Number(q.get('source_instance_id')));
    if (q.get('target_instance_id')) items = items.filter((p) => p.target_instance_id === Number(q.get('target_instance_id')));
    return page(res, items, q);
  }
  if (path === '/api/pairs' && method === 'POST') {
    const body = await readJson(req);
    checkKeys(body, ['name', 'source_instance_id', 'target_instance_id', 'mirror_direction', 'mirror_overwrite_diverged', 'mirror_trigger_builds', 'only_mirror_protected_branches', 'mirror_branch_regex', 'description']);
    const values = validatePair(body, null);
    if (state.pairs.some((p) => p.name === values.name)) throw new HttpError(409, 'ALREADY_EXISTS', `a pair named "${values.name}" already exists`, [{ field: 'name', description: 'is already used by another pair' }]);
    const pair = { id: state.nextPair++, mirror_direction: 'pull', mirror_overwrite_diverged: false, mirror_trigger_builds: false, only_mirror_protected_branches: false, mirror_branch_regex: null, description: '', mirror_count: 0, created_at: now(), updated_at: now(), ...values };
    state.pairs.push(pair);
    const reverse = state.pairs.find((p) => p.source_instance_id === pair.target_instance_id && p.target_instance_id === pair.source_instance_id);
    const extra = reverse ? { warnings: [`Bidirectional mirroring: pair "${reverse.name}" mirrors in the opposite direction. Changes on both sides overwrite each other.`], reverse_pair_id: reverse.id } : {};
    return send(res, 201, { ...pair, ...extra });
  }
  if ((m = /^\/api\/pairs\/(\d+)$/.exec(path))) {
    const pair = find(state.pairs, Number(m[1]), 'pair');
    if (method === 'GET') return send(res, 200, pair);
    if (method === 'PATCH' || method === 'PUT') {
      const body = await readJson(req);
      checkKeys(body, ['name', 'source_instance_id', 'target_instance_id', 'mirror_direction', 'mirror_overwrite_diverged', 'mirror_trigger_builds', 'only_mirror_protected_branches', 'mirror_branch_regex', 'description']);
      const values = validatePair(body, pair);
      if (values.name && state.pairs.some((p) => p.name === values.name && p.id !== pair.id)) throw new HttpError(409, 'ALREADY_EXISTS', 'name already used', [{ field: 'name', description: 'is already used by another pair' }]);
      Object.assign(pair, values, { updated_at: now() });
      return send(res, 200, pair);
    }
    if (method === 'DELETE') {
      state.pairs = state.pairs.filter((p) => p !== pair);
      return send(res, 200, { status: 'deleted', warnings: [], warning_count: 0 });
    }
  }
  if (path.startsWith('/api/dashboard/') || path.startsWith('/api/topology') || path === '/api/search') return readModels(res, path, q);
  // No mirrors and no jobs in the mock: their lists are empty.
  if ((path === '/api/mirrors' || path === '/api/jobs') && method === 'GET') return page(res, [], q);
  if (path === '/api/mirrors/tree' && method === 'GET') return send(res, 200, []);
  throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} ${path} is not supported`);
}

// Read models (dashboard, topology, search) over the mock's state. The mock keeps no mirrors,
// only each pair's mirror_count, so every mirror counts as never checked.
function readModels(res, path, q) {
  const totalMirrors = state.pairs.reduce((sum, p) => sum + p.mirror_count, 0);
  if (path === '/api/dashboard/metrics') {
    return send(res, 200, {
      summary: { total_mirrors: totalMirrors, total_pairs: state.pairs.length, total_instances: state.instances.length, enabled_mirrors: totalMirrors, health_percentage: totalMirrors ? 0 : 100 },
      health: { success: 0, failed: 0, pending: 0, unknown: totalMirrors },
      status_freshness: { fresh_count: 0, stale_count: totalMirrors, oldest_update: null, newest_update: null, auto_refresh: { enabled: false, running: false, refreshing: false, interval_minutes: null, last_refresh_started_at: null, last_refresh_completed_at: null, last_refresh_total: null, last_refresh_success: null, last_refresh_errors: null } },
      recent_activity: [],
      mirrors_by_pair: [...state.pairs].sort((a, b) => b.mirror_count - a.mirror_count).slice(0, 5).map((p) => ({ pair_id: p.id, pair_name: p.name, count: p.mirror_count })),
    });
  }
  if (path === '/api/dashboard/quick-stats') return send(res, 200, { syncing_count: 0, recent_failures: 0, syncing_mirror_ids: [], timestamp: now() });
  const never = q.get('never_succeeded_level') === 'error' ? 'error' : 'warning';
  const stale = (count) => ({ status_counts: count ? { unknown: count } : {}, last_successful_update: null, health: count ? never : 'unknown', staleness: count ? never : 'unknown', staleness_age_seconds: null, never_succeeded_count: count });
  if (path === '/api/topology') {
    const nodes = [...state.instances]
      .sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()))
      .map((i) => {
        const out = state.pairs.filter((p) => p.source_instance_id === i.id);
        const into = state.pairs.filter((p) => p.target_instance_id === i.id);
        const mirrorsOut = out.reduce((s, p) => s + p.mirror_count, 0);
        const mirrorsIn = into.reduce((s, p) => s + p.mirror_count, 0);
        return { id: i.id, name: i.name, url: i.url, description: i.description, mirrors_in: mirrorsIn, mirrors_out: mirrorsOut, pairs_in: into.length, pairs_out: out.length, ...stale(mirrorsIn + mirrorsOut) };
      });
    const links = new Map();
    for (const p of state.pairs.filter((p) => p.mirror_count > 0)) {
      const key = `${p.source_instance_id}-${p.target_instance_id}-${p.mirror_direction}`;
      const link = links.get(key) ?? { source: p.source_instance_id, target: p.target_instance_id, mirror_direction: p.mirror_direction, mirror_count: 0, enabled_count: 0, disabled_count: 0, pair_count: 0 };
      link.mirror_count += p.mirror_count;
      link.enabled_count += p.mirror_count;
      link.pair_count += 1;
      links.set(key, link);
    }
    return send(res, 200, { nodes, links: [...links.values()].map((l) => ({ ...l, ...stale(l.mirror_count) })) });
  }
  if (path === '/api/topology/link-mirrors') return send(res, 200, { total: 0, mirrors: [] });
  if (path === '/api/search') {
    const term = (q.get('q') ?? '').trim();
    if (!term) throw invalid('q', 'must not be empty');
    const limit = Math.min(50, Math.max(1, Number(q.get('limit') ?? 10) || 10));
    const instances = search(state.instances, term, ['name', 'url', 'description']).slice(0, limit).map((i) => ({ type: 'instance', id: i.id, title: i.name, subtitle: i.url, url: `/api/instances/${i.id}` }));
    const pairs = search(state.pairs, term, ['name', 'description']).slice(0, limit).map((p) => ({ type: 'pair', id: p.id, title: p.name, subtitle: `${p.mirror_direction} mirror`, url: `/api/pairs/${p.id}` }));
    return send(res, 200, { query: term, total_count: instances.length + pairs.length, instances, pairs, mirrors: [] });
  }
  throw new HttpError(404, 'NOT_FOUND', `no route for ${path}`);
}

createServer((req, res) => {
  handle(req, res).catch((error) => {
    const status = error instanceof HttpError ? error.status : 500;
    const message = error instanceof HttpError ? error.message : 'internal error';
    if (!(error instanceof HttpError)) console.error(error);
    send(res, status, { code: error.code ?? 'INTERNAL', message, detail: message, field_violations: error.violations ?? [], request_id: randomUUID() });
  });
}).listen(port, '127.0.0.1', () => console.log(`mock API on http://127.0.0.1:${port}/api (user ${USER})`));
