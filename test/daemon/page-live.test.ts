/**
 * The status page of a real daemon in a real browser (Debian's chromium through playwright-core):
 * after a commit to the followed repository the stage shows `reconciling` while its apply runs,
 * then `ready` at that commit, without a reload by hand.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { fakeEngine } from '../operations/apply-fakes.js';
import { waitFor } from '../helpers/wait.js';
import { daemonFor, manifests } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';

t.test('a commit takes the stage from reconciling to ready on the page', async (t) => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's "chromium" package; .ci/run does this in CI`);
  const hang = new Set<string>();
  const engine = fakeEngine({ hang });
  const d = await daemonFor(t, manifests({ greeting: 'one', productionApproval: 'auto' }), { engine });
  await waitFor('first commit applied', async () => (await d.record('production'))?.state === 'ready');

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true, timeout: 60_000 });
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  page.setDefaultTimeout(20_000);
  await page.goto(d.daemon.url!, { waitUntil: 'load' });
  const staging = page.locator('[data-stage="acme/shop/staging"]');
  t.equal(await staging.getAttribute('data-state'), 'ready');

  hang.add('acme/shop/staging');
  const c2 = d.repo.commit('greeting two', manifests({ greeting: 'two', productionApproval: 'auto' }));
  await engine.waitForGate('acme/shop/staging');
  await page.waitForSelector('[data-stage="acme/shop/staging"][data-state="reconciling"]');
  t.pass('the page shows staging reconciling while its apply runs');
  await page.screenshot({ path: join(t.testdir(), 'reconciling.png'), fullPage: true });

  hang.clear();
  engine.release('acme/shop/staging');
  await page.waitForSelector('[data-stage="acme/shop/staging"][data-state="ready"]');
  t.match(await staging.textContent(), c2.slice(0, 7), 'at the new commit');
  await page.screenshot({ path: join(t.testdir(), 'ready.png'), fullPage: true });
});
