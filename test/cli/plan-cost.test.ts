/**
 * The cost delta in `plan` through the CLI, for the bundled examples: every AWS stage gets its
 * estimated monthly cost (before → after and the delta) in text, a cost table in markdown and a
 * `cost` object in JSON; the local stages get none. (The figures are computed by hand in
 * test/providers/aws/cost/estimate.test.ts.)
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDesired } from '../../src/manifests/load.js';
import { stageCost } from '../../src/providers/aws/cost/estimate.js';
import { planStage } from '../../src/reconciler/stage-plan.js';
import { renderPlans } from '../../src/render/formats.js';
import type { PlanDocument } from '../../src/reconciler/plan-document.js';
import { runCli } from '../helpers/deps.js';
import { repoRoot } from '../e2e/helpers.js';
import { tempDir } from '../helpers/temp.js';

const stateDir = tempDir(t, 'setopsd-plan-cost-');
const plan = (format: string) => runCli(['plan', join(repoRoot, 'examples'), '--state-dir', stateDir, '--format', format], { env: {} });

t.test('text: one cost line per AWS stage, none for local stages', async (t) => {
  const r = await plan('text');
  t.not(r.code, 1, r.stderr);
  const costs = r.stdout.split('\n').filter((l) => l.includes('cost: '));
  t.strictSame(costs, [
    '  cost: nothing deployed → $723.67/month (+$723.67/month; estimate at eu-central-1 on-demand prices of 2026-12-02)',
    '  cost: nothing deployed → $128.78/month (+$128.78/month; estimate at eu-central-1 on-demand prices of 2026-12-02)',
  ]);
  const acme = r.stdout.slice(r.stdout.indexOf('acme/shop/production'), r.stdout.indexOf('globex/'));
  t.notMatch(acme, /cost:/, 'local stages show no cost');
});

t.test('markdown: a cost table with before, after and delta, a total, and how the estimate is made', async (t) => {
  const r = await plan('markdown');
  t.match(
    r.stdout,
    [
      '| Stage | Region | Before | After | Delta |',
      '| --- | --- | ---: | ---: | ---: |',
      '| `globex/storefront/production` | eu-central-1 | — | $723.67 | **+$723.67** |',
      '| `globex/storefront/staging` | eu-central-1 | — | $128.78 | **+$128.78** |',
      '| **Total** | | $0.00 | $852.45 | **+$852.45** |',
    ].join('\n'),
  );
  t.match(r.stdout, /<details><summary>How the estimate is made<\/summary>\n\n- 730 hours a month/);
  t.notMatch(r.stdout, /`acme\/shop\/[a-z]+` \| [a-z]+-[a-z]+-\d/, 'no cost row for the local stages');
});

t.test('json: a cost object on AWS stages only (fields added, nothing renamed)', async (t) => {
  const doc = JSON.parse((await plan('json')).stdout) as PlanDocument;
  const by = Object.fromEntries(doc.stages.map((s) => [`${s.organization}/${s.project}/${s.stage}`, s]));
  t.equal(by['acme/shop/staging']!.cost, undefined);
  t.match(by['globex/storefront/staging']!.cost, { currency: 'USD', region: 'eu-central-1', before: null, after: { monthly: 128.78, unpriced: [] }, delta: 128.78, prices: { date: '2026-12-02', source: /AWS/ } });
  t.ok(by['globex/storefront/production']!.cost!.after!.lines.some((l) => l.item === 'NAT gateway' && l.quantity === 2));
  t.ok(by['globex/storefront/staging']!.changes.length > 0, 'the contract fields are still there');
});

t.test('before → after of a deployed AWS stage, in text and markdown', async (t) => {
  const text = readFileSync(join(repoRoot, 'examples/aws/setops.yaml'), 'utf8');
  const production = (yaml: string) => {
    const r = loadDesired({ root: '/x', dir: '', files: [{ path: 'setops.yaml', text: yaml }] });
    if (!r.ok) throw new Error('invalid');
    return r.value.stages.find((s) => s.stage.name === 'production')!;
  };
  const deployed = production(text);
  const wanted = production(text.replace('    production:\n      scale: 3\n', '    production:\n      scale: 5\n'));
  const p = planStage(wanted, { model: deployed, serial: '7' }, 'pulumi');
  p.cost = stageCost(deployed, wanted)!;
  const opts = { deps: { isTTY: { stdout: false, stdin: false }, env: {} }, source: {} };
  // 723.67 + 2 web tasks (33.9888 + 7.4606 = 41.45) = 765.12
  t.match(renderPlans([p], 'text', opts), '  cost: $723.67/month → $765.12/month (+$41.45/month; estimate at eu-central-1 on-demand prices of 2026-12-02)\n');
  t.match(renderPlans([p], 'markdown', opts), '| `globex/storefront/production` | eu-central-1 | $723.67 | $765.12 | **+$41.45** |\n');
  t.match(JSON.parse(renderPlans([p], 'json', opts)).stages[0].cost, { before: { monthly: 723.67 }, after: { monthly: 765.12 }, delta: 41.45 });
});
