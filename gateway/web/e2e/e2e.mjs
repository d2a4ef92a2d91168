#!/usr/bin/env node
// End-to-end check of the console in Debian's Chromium via playwright-core.
//   node e2e/e2e.mjs BASE_URL USERNAME PASSWORD
// Env: CHROMIUM_PATH (default /usr/bin/chromium), E2E_HEADFUL=1, E2E_SCREENSHOTS=0 to skip
// screenshots. Screenshots go to E2E_SCREENSHOT_DIR (default: docs/screenshots/ of the repository).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const [baseArg, username, password] = process.argv.slice(2);
if (!baseArg || !username || !password) {
  console.error('usage: e2e.mjs BASE_URL USERNAME PASSWORD');
  process.exit(2);
}
const BASE = baseArg.replace(/\/+$/, '') + '/';
const SHOTS =
  process.env.E2E_SCREENSHOT_DIR ||
  fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url));
const TAKE_SHOTS = process.env.E2E_SCREENSHOTS !== '0';
const started = Date.now();
const suffix = String(Date.now()).slice(-7);
const notes = [];
let failures = 0;

function log(message) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);
}

async function check(name, fn) {
  try {
    await fn();
    log(`ok   ${name}`);
  } catch (error) {
    failures++;
    log(`FAIL ${name}: ${error instanceof Error ? error.message.split('\n')[0] : error}`);
    if (page) await page.screenshot({ path: join(SHOTS, `failure-${failures}.png`) }).catch(() => {});
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

const profile = mkdtempSync(join(tmpdir(), 'mm-e2e-'));
mkdirSync(SHOTS, { recursive: true });
// A persistent context on a fresh, throw-away profile directory.
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: process.env.E2E_HEADFUL !== '1',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 860 },
  colorScheme: 'light',
  reducedMotion: 'reduce',
});
context.setDefaultTimeout(8000);
const page = context.pages()[0] ?? (await context.newPage());

// Enforce the product's strict policy on every document, whatever server is in front, so a
// need for inline scripts or styles shows up as a failure here.
await page.route('**/*', async (route) => {
  if (route.request().resourceType() !== 'document') return route.fallback();
  const response = await route.fetch();
  await route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': "default-src 'self'" } });
});
const problems = [];
page.on('console', (msg) => {
  if (msg.type() !== 'error') return;
  const text = msg.text();
  // Failed API calls the test provokes on purpose are logged by the browser as resource errors.
  if (/Failed to load resource: the server responded with a status of (400|401|404|409|422)/.test(text)) return;
  problems.push(`console: ${text}`);
});
page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));

const TABS = ['dashboard', 'instances', 'pairs', 'mirrors', 'jobs', 'topology', 'about', 'help'];
const tabUrl = (tab) => `${BASE}#${tab === 'dashboard' ? '/' : `/${tab}`}`;

async function openTab(tab) {
  await page.click(`nav a[data-tab="${tab}"]`);
  await page.waitForFunction((t) => document.querySelector(`nav a[data-tab="${t}"]`)?.getAttribute('aria-current') === 'page', tab);
  await page.waitForSelector('#page-title');
  if (tab === 'dashboard') await page.waitForSelector('[data-testid="usage-chart"], .empty-state', { state: 'visible' });
  if (tab === 'topology') await page.waitForSelector('[data-testid="topology-svg"][data-rendered="true"], .empty-state');
  if (tab === 'about') await page.waitForFunction(() => !document.querySelector('[data-testid="server-version"]')?.textContent?.includes('loading'));
  if (tab === 'dashboard') await page.waitForTimeout(150); // first chart frame
}

async function dismissToasts() {
  for (const button of await page.$$('button[aria-label="Dismiss notification"]')) await button.click().catch(() => {});
}

async function shootAllTabs(theme) {
  if (!TAKE_SHOTS) return;
  await dismissToasts();
  for (const [index, tab] of TABS.entries()) {
    await openTab(tab);
    await page.screenshot({ path: join(SHOTS, `${String(index + 1).padStart(2, '0')}-${tab}-${theme}.png`), fullPage: true });
  }
}

async function selectByText(selector, text) {
  const value = await page.$eval(selector, (el, t) => [...el.options].find((o) => o.textContent?.startsWith(t))?.value ?? '', text);
  assert(value, `no option “${text}” in ${selector}`);
  await page.selectOption(selector, value);
}

const isMock = await fetch(new URL('api/__mock/ping', BASE)).then((r) => r.ok).catch(() => false);
const names = { a: `e2e-a-${suffix}`, b: `e2e-b-${suffix}`, pair: `e2e-pair-${suffix}` };
const port = 20000 + (Number(suffix) % 20000);

try {
  await check('login page, then sign in', async () => {
    await page.goto(BASE);
    await page.waitForSelector('[data-testid="login-form"]');
    if (TAKE_SHOTS) await page.screenshot({ path: join(SHOTS, '00-login-light.png') });
    await page.fill('#login-username', username);
    await page.fill('#login-password', 'definitely-wrong');
    await page.click('[data-testid="login-form"] button[type="submit"]');
    await page.waitForSelector('.form-errors');
    await page.fill('#login-password', password);
    await page.click('[data-testid="login-form"] button[type="submit"]');
    await page.waitForSelector('nav[aria-label="Main"]');
    await page.waitForSelector('[data-testid="stat-instances"]');
  });

  await check('skip link is the first Tab stop and has a visible focus style', async () => {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => ({ cls: document.activeElement?.className, outline: getComputedStyle(document.activeElement).outlineStyle }));
    assert(String(focused.cls).includes('skip-link'), `first focus is ${focused.cls}`);
    assert(focused.outline !== 'none', 'no focus outline');
  });

  await check('instance form: client and server errors next to fields', async () => {
    await openTab('instances');
    await page.click('[data-testid="instance-add-form"] button[type="submit"]');
    await page.waitForSelector('[data-field-error="instance-add-name"]');
    assert(await page.evaluate(() => document.activeElement?.id === 'instance-add-name'), 'focus not on first invalid field');
    await page.fill('#instance-add-name', names.a);
    await page.fill('#instance-add-url', 'http://');
    await page.fill('#instance-add-token', 'glpat-e2e-dummy');
    await page.click('[data-testid="instance-add-form"] button[type="submit"]');
    await page.waitForSelector('[data-field-error="instance-add-url"], [data-testid="instance-add-form"] .form-errors');
    const onField = await page.$('[data-field-error="instance-add-url"]');
    if (!onField) notes.push('server rejected "http://" without a field violation on url (shown as a form error)');
    const describedBy = await page.getAttribute('#instance-add-url', 'aria-describedby');
    if (onField) assert(describedBy?.includes('instance-add-url-error'), 'url error not linked with aria-describedby');
  });

  await check('add two instances', async () => {
    for (const [key, offset] of [['a', 0], ['b', 1]]) {
      await page.fill('#instance-add-name', names[key]);
      await page.fill('#instance-add-url', `http://127.0.0.1:${port + offset}`);
      await page.fill('#instance-add-token', `glpat-e2e-${key}-${suffix}`);
      await page.fill('#instance-add-description', `created by the e2e suite (${key})`);
      await page.click('[data-testid="instance-add-form"] button[type="submit"]');
      await page.waitForSelector(`[data-testid="instance-row"] th:text-is("${names[key]}")`);
    }
    const tokenCells = await page.$$eval('[data-testid="instance-row"] td[data-label="Token"]', (cells) => cells.map((c) => c.textContent));
    assert(tokenCells.every((t) => !t?.includes('glpat-')), 'a token value is displayed');
  });

  await check('inline edit rotates the token', async () => {
    const row = page.locator('[data-testid="instance-row"]', { has: page.locator(`th:text-is("${names.a}")`) });
    await row.locator('button', { hasText: 'Edit' }).click();
    const form = page.locator('[data-testid="instance-edit-form"]');
    const placeholder = await form.locator('input[name="token"]').getAttribute('placeholder');
    assert(placeholder?.includes('••••'), `token placeholder is ${placeholder}`);
    assert((await form.locator('input[name="token"]').inputValue()) === '', 'token field is prefilled');
    await form.locator('input[name="token"]').fill(`glpat-rotated-${suffix}`);
    await form.locator('input[name="description"]').fill('rotated by the e2e suite');
    await form.locator('button[type="submit"]').click();
    await page.waitForSelector('[data-testid="toast"]:has-text("token rotated")');
    await page.waitForSelector('[data-testid="instance-edit-form"]', { state: 'detached' });
  });

  let pairId = null;
  await check('create a pair (push disables trigger builds)', async () => {
    await openTab('pairs');
    await page.fill('#pair-create-name', names.pair);
    await selectByText('#pair-create-source_instance_id', names.a);
    await selectByText('#pair-create-target_instance_id', names.b);
    await page.check('#pair-create-mirror_direction-push');
    assert(await page.isDisabled('#pair-create-mirror_trigger_builds'), 'trigger builds enabled for push');
    await page.check('#pair-create-mirror_direction-pull');
    await page.check('#pair-create-mirror_overwrite_diverged');
    await page.fill('#pair-create-mirror_branch_regex', '^(main|release/.*)$');
    await page.click('[data-testid="pair-create-form"] button[type="submit"]');
    const row = page.locator('[data-testid="pair-row"]', { has: page.locator(`th:has-text("${names.pair}")`) });
    await row.waitFor();
    pairId = Number((await row.getAttribute('id'))?.replace('pair-row-', ''));
    assert(pairId > 0, 'pair id not found');
  });

  await check('same source and target is refused next to the field', async () => {
    await page.fill('#pair-create-name', `${names.pair}-self`);
    await selectByText('#pair-create-source_instance_id', names.a);
    await selectByText('#pair-create-target_instance_id', names.a);
    await page.click('[data-testid="pair-create-form"] button[type="submit"]');
    await page.waitForSelector('[data-field-error="pair-create-target_instance_id"]');
    await page.fill('#pair-create-name', '');
  });

  await check('locked source/target/direction when the pair has mirrors', async () => {
    if (!isMock) {
      notes.push('lock assertion skipped: mirrors cannot be created through the API yet (checked against the mock server instead)');
      return;
    }
    await fetch(new URL(`api/__mock/pairs/${pairId}/mirror_count`, BASE), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"mirror_count":2}' });
    await page.goto(tabUrl('pairs'));
    await page.reload();
    await page.click(`#pair-edit-${pairId}`);
    const source = `#pair-${pairId}-source_instance_id`;
    assert(await page.isDisabled(source), 'source select not disabled');
    assert(await page.isDisabled(`#pair-${pairId}-mirror_direction-push`), 'direction not disabled');
    const title = await page.getAttribute(source, 'title');
    assert(title?.includes('2 mirrors'), `title is ${title}`);
    const describedBy = (await page.getAttribute(source, 'aria-describedby')) ?? '';
    const reason = await page.textContent(`#${describedBy.split(' ')[0]}`);
    assert(reason?.includes('Locked'), 'locked reason not linked by aria-describedby');
    if (TAKE_SHOTS) await page.locator(`#pair-editor-${pairId}`).screenshot({ path: join(SHOTS, 'pair-locked-light.png') });
    assert(await page.isEnabled(`#pair-${pairId}-name`), 'name should stay editable');
    await page.click(`#pair-editor-${pairId} button:has-text("Cancel")`);
  });

  await check('delete dialog names the cascading pairs (cancelled)', async () => {
    await openTab('instances');
    const row = page.locator('[data-testid="instance-row"]', { has: page.locator(`th:text-is("${names.a}")`) });
    await row.locator('button', { hasText: 'Delete' }).click();
    const warning = page.locator('[data-testid="cascade-warning"]');
    await warning.waitFor();
    const text = (await warning.textContent()) ?? '';
    assert(text.includes('1 pair') && text.includes(names.pair), `warning is “${text}”`);
    await page.keyboard.press('Escape');
    await page.waitForSelector('dialog[open]', { state: 'detached' }).catch(() => page.waitForFunction(() => !document.querySelector('dialog[open]')));
  });

  await check('command palette finds the pair', async () => {
    await openTab('dashboard');
    await page.keyboard.press('Control+K');
    await page.waitForSelector('#palette-input:focus');
    await page.keyboard.type(`pair-${suffix}`);
    const first = page.locator('[data-testid="palette-option"]').first();
    assert(((await first.textContent()) ?? '').includes(names.pair), 'first result is not the pair');
    await page.keyboard.press('Enter');
    await page.waitForFunction((id) => location.hash === `#/pairs?focus=${id}`, pairId);
    await page.waitForSelector(`#pair-row-${pairId}.row-highlight`);
  });

  await check('dashboard counts are real', async () => {
    await openTab('dashboard');
    const instances = Number(await page.textContent('[data-testid="stat-instances"]'));
    const pairs = Number(await page.textContent('[data-testid="stat-pairs"]'));
    assert(instances >= 2 && pairs >= 1, `counts ${instances}/${pairs}`);
  });

  await check('screenshots of every tab (light)', () => shootAllTabs('light'));

  await check('dark mode survives a reload', async () => {
    await page.click('#theme-toggle');
    assert((await page.getAttribute('html', 'data-theme')) === 'dark', 'toggle did not switch');
    await page.reload();
    await page.waitForSelector('nav[aria-label="Main"]');
    assert((await page.getAttribute('html', 'data-theme')) === 'dark', 'theme lost after reload');
    assert((await page.getAttribute('#theme-toggle', 'aria-pressed')) === 'true', 'toggle state lost');
  });

  await check('screenshots of every tab (dark)', () => shootAllTabs('dark'));

  await check('375 px wide: no horizontal overflow, nav and palette reachable', async () => {
    await page.setViewportSize({ width: 375, height: 812 });
    for (const tab of TABS) {
      await page.goto(tabUrl(tab));
      await page.waitForSelector('#page-title');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert(overflow <= 0, `${tab} overflows by ${overflow}px`);
    }
    await page.goto(tabUrl('pairs'));
    await page.waitForSelector('[data-testid="pair-row"]');
    if (TAKE_SHOTS) await page.screenshot({ path: join(SHOTS, 'mobile-pairs-dark.png'), fullPage: true });
    await page.click('#palette-trigger');
    await page.waitForSelector('#palette-input:focus');
    const box = await page.locator('dialog.palette').boundingBox();
    assert(box && box.width <= 375, 'palette wider than the screen');
    await page.keyboard.press('Escape');
    await page.click('#theme-toggle');
    await page.goto(tabUrl('instances'));
    await page.waitForSelector('[data-testid="instance-row"]');
    if (TAKE_SHOTS) await page.screenshot({ path: join(SHOTS, 'mobile-instances-light.png'), fullPage: true });
  });

  await check('deleting an instance with force removes its pair', async () => {
    await page.setViewportSize({ width: 1280, height: 860 });
    await openTab('instances');
    const row = page.locator('[data-testid="instance-row"]', { has: page.locator(`th:text-is("${names.a}")`) });
    await row.locator('button', { hasText: 'Delete' }).click();
    await page.click('dialog[open] button:has-text("Delete instance and 1 pair")');
    await page.waitForSelector('[data-testid="toast"]:has-text("deleted with 1 pair")');
    await row.waitFor({ state: 'detached' });
    await openTab('pairs');
    assert((await page.$(`#pair-row-${pairId}`)) === null, 'pair still listed');
  });

  await check('sign out returns to the login page', async () => {
    await page.click('#sign-out');
    await page.waitForSelector('[data-testid="login-form"]');
  });

  await check('no console errors, page errors or CSP violations', async () => {
    assert(problems.length === 0, problems.slice(0, 5).join(' | '));
  });
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}

for (const note of notes) log(`note ${note}`);
log(failures ? `${failures} check(s) failed` : 'all checks passed');
process.exit(failures ? 1 : 0);
