#!/bin/sh
# Runs only the Mirrors and Jobs browser scenarios (e2e/mirrors.mjs) against a running console
# whose first two instances are simulated GitLabs, e.g. `mirror-maestro demo`:
#   e2e/mirrors-local.sh BASE_URL USERNAME PASSWORD
# It signs in, creates a throw-away pull pair between the first two instances (set
# MIRRORS_PAIR_ID to use an existing pair instead), runs the scenarios and deletes the pair.
# Env: CHROMIUM_PATH (default /usr/bin/chromium), E2E_SCREENSHOT_DIR (default: a temp dir),
#      MIRRORS_ONLY=render-budget (only the 200-row render budget; needs no GitLab and no pair).
set -eu
if [ $# -lt 3 ]; then
  echo "usage: $0 BASE_URL USERNAME PASSWORD" >&2
  exit 2
fi
cd "$(dirname "$0")/.."
exec node --input-type=module - "$@" <<'JS'
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { mirrorRenderBudget, mirrorScenarios } from './e2e/mirrors.mjs';

const [baseArg, username, password] = process.argv.slice(2);
const base = baseArg.replace(/\/+$/, '') + '/';
const shots = process.env.E2E_SCREENSHOT_DIR || mkdtempSync(join(tmpdir(), 'mm-mirror-shots-'));
const started = Date.now();
let failures = 0;
const log = (m) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${m}`);
const assert = (c, m) => {
  if (!c) throw new Error(m);
};
const profile = mkdtempSync(join(tmpdir(), 'mm-mirrors-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 860 },
  colorScheme: 'light',
  reducedMotion: 'reduce',
});
context.setDefaultTimeout(10000);
const page = context.pages()[0] ?? (await context.newPage());
await page.route('**/*', async (route) => {
  if (route.request().resourceType() !== 'document') return route.fallback();
  const response = await route.fetch();
  await route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': "default-src 'self'" } });
});
const problems = [];
page.on('console', (msg) => {
  if (msg.type() === 'error' && !/status of (400|401|404|409|422)/.test(msg.text())) problems.push(msg.text());
});
page.on('pageerror', (e) => problems.push(e.message));
const check = async (name, fn) => {
  try {
    await fn();
    log(`ok   ${name}`);
  } catch (error) {
    failures++;
    log(`FAIL ${name}: ${error instanceof Error ? error.message.split('\n')[0] : error}`);
    await page.screenshot({ path: join(shots, `failure-${failures}.png`), fullPage: true }).catch(() => {});
  }
};
const shot = async (name) => {
  for (const theme of ['light', 'dark']) {
    await page.evaluate((t) => document.documentElement.setAttribute('data-theme', t), theme);
    await page.screenshot({ path: join(shots, `${name}-${theme}.png`), fullPage: true });
  }
  await page.evaluate(() => document.documentElement.setAttribute('data-theme', 'light'));
};
try {
  await page.goto(base);
  await page.fill('#login-username', username);
  await page.fill('#login-password', password);
  await page.click('[data-testid="login-form"] button[type="submit"]');
  await page.waitForSelector('nav[aria-label="Main"]');
  const call = (method, path, body) =>
    page.evaluate(
      async ({ method, path, body }) => {
        const token = JSON.parse(sessionStorage.getItem('mm.session')).token;
        const r = await fetch(`api${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
        return r.json();
      },
      { method, path, body },
    );
  const only = process.env.MIRRORS_ONLY ?? '';
  if (only && only !== 'render-budget') throw new Error(`MIRRORS_ONLY=${only}: only render-budget is known`);
  let pair;
  if (only) {
    await mirrorRenderBudget({ page, check, assert, log, base });
  } else if (process.env.MIRRORS_PAIR_ID) {
    pair = await call('GET', `/pairs/${process.env.MIRRORS_PAIR_ID}`);
  } else {
    const instances = await call('GET', '/instances');
    assert(instances.length >= 2, 'needs two instances');
    pair = await call('POST', '/pairs', { name: `e2e-mirrors-${String(Date.now()).slice(-6)}`, source_instance_id: instances[0].id, target_instance_id: instances[1].id, mirror_direction: 'pull', mirror_overwrite_diverged: true });
  }
  if (pair) {
    log(`pair ${pair.id} ${pair.name} (${pair.mirror_direction})`);
    await mirrorScenarios({ page, check, assert, log, base, shot, pair: { id: pair.id, name: pair.name, sourceInstanceId: pair.source_instance_id, targetInstanceId: pair.target_instance_id } });
  }
  await check('no console errors or page errors', async () => assert(problems.length === 0, problems.slice(0, 5).join(' | ')));
  if (pair && !process.env.MIRRORS_PAIR_ID) {
    // Remove the throw-away pair; its clean-up job deletes the mirrors in GitLab, so the
    // projects are free for the next run.
    await call('DELETE', `/pairs/${pair.id}`);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && (await call('GET', `/pairs/${pair.id}`)).id === pair.id) await page.waitForTimeout(500);
    const gone = (await call('GET', `/pairs/${pair.id}`)).id !== pair.id;
    log(gone ? `pair ${pair.id} removed` : `pair ${pair.id} is still being removed`);
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
log(`screenshots in ${shots}`);
log(failures ? `${failures} check(s) failed` : 'all checks passed');
process.exit(failures ? 1 : 0);
JS
