import t from 'tap';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { ISSUES, stageView, waitingStage } from './fake-view.js';
import { record } from './fixtures.js';
import { startHarness, waitFor } from './harness.js';

/**
 * The status page in a real headless browser: Debian's chromium (`.ci/run` installs it) driven
 * by playwright-core. Every wait is bounded; the browser is closed in teardown.
 */
const CHROMIUM = '/usr/bin/chromium';
const WAIT_MS = 15_000;

async function launch(t: { teardown(fn: () => unknown): void }): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's "chromium" package (apt-get install -y --no-install-recommends chromium); .ci/run does this in CI`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true, timeout: 60_000 });
  t.teardown(() => browser.close());
  return browser;
}

const STAGING = '[data-stage="acme/shop/staging"]';
const INJECTED = '<script>window.__injected = true</script>';

t.test('the page shows the pipeline, the invalid commit, a <script> as text, and follows the daemon live', async (t) => {
  const browser = await launch(t);
  // A long meta refresh: only the event stream can reload the page within the wait below.
  const h = await startHarness(t, { pageRefreshSeconds: 60 });
  h.view.rev = { commit: 'fedcba9876543210fedcba9876543210fedcba98', valid: false, issues: ISSUES, error: { code: 'E_VALIDATION', message: '2 problems' } };
  h.view.stageList = [
    stageView({ record: record({ state: 'reconciling', message: INJECTED }) }),
    waitingStage('production', 'staging'),
  ];
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  page.setDefaultTimeout(WAIT_MS);
  const response = await page.goto(h.server.url, { waitUntil: 'load' });
  t.equal(response?.status(), 200);

  t.equal(await page.locator(STAGING).getAttribute('data-state'), 'reconciling');
  t.equal((await page.locator(`${STAGING} .badge`).textContent())?.trim(), 'reconciling');
  const staging = await page.locator(STAGING).boundingBox();
  const production = await page.locator('[data-stage="acme/shop/production"]').boundingBox();
  t.ok(staging && production && production.x > staging.x + staging.width, 'production (after: staging) stands to the right of staging');

  const problems = await page.locator('.problems li').allTextContents();
  t.same(problems, ['acme/shop/stage.yaml:3:7: /spec/after: must be a stage of the same project', 'acme/shop/apps/web.yaml:12:5: /spec/port: must be <= 65535']);

  t.equal(await page.locator(`${STAGING} .message`).textContent(), INJECTED, 'the message is shown as text');
  t.equal(await page.evaluate(() => (globalThis as { __injected?: boolean }).__injected), undefined, 'and its script did not run');
  t.equal(await page.locator('script').count(), 1, 'the page has its own script only');

  t.match(await page.locator('[data-stage="acme/shop/production"] .approve').textContent(), 'setopsd approve acme/shop/production --plan plan-1');
  t.same(await page.locator('[data-stage="acme/shop/production"] .changes li').allTextContents(), ['~ app/web scale: 1 → 3', '- service/cache [data loss]']);

  const dir = t.testdir();
  const before = join(dir, 'status-reconciling.png');
  await page.screenshot({ path: before, fullPage: true });

  // The daemon finishes the deployment: the view changes and an event goes out.
  await waitFor(() => h.view.subscribers > 0, "the page's event stream", WAIT_MS);
  h.view.stageList = [stageView({ record: record({ state: 'ready' }) }), waitingStage('production', 'staging')];
  h.view.publish({ type: 'synced', revision: 'fedcba98', stages: 2, changed: [] });
  await page.locator(`${STAGING}[data-state="ready"]`).waitFor({ timeout: WAIT_MS });
  t.equal((await page.locator(`${STAGING} .badge`).textContent())?.trim(), 'ready', 'the page reloaded itself on the event');

  const after = join(dir, 'status-ready.png');
  await page.screenshot({ path: after, fullPage: true });
  for (const file of [before, after]) t.same([...(await readFile(file)).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${file} is a PNG`);
  await page.close();
});

t.test('without JavaScript the page is readable and refreshes itself', async (t) => {
  const browser = await launch(t);
  const h = await startHarness(t, { pageRefreshSeconds: 1 });
  h.view.stageList = [stageView({ record: record({ state: 'reconciling' }) })];
  const context = await browser.newContext({ javaScriptEnabled: false });
  t.teardown(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  await page.goto(h.server.url);
  t.equal(await page.locator(STAGING).getAttribute('data-state'), 'reconciling');
  t.equal(h.view.subscribers, 0, 'no script, no event stream');
  h.view.stageList = [stageView({ record: record({ state: 'ready' }) })];
  await page.locator(`${STAGING}[data-state="ready"]`).waitFor({ timeout: WAIT_MS });
  t.pass('the meta refresh showed the new state');
});
