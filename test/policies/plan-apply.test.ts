/**
 * Policies in `plan` and `apply` through the CLI (in-process `main`, the real local engine):
 * plan lists the violations per stage in text, markdown and JSON (warnings first, counts per
 * stage for check runs); `apply` — from the manifests or from a saved plan — refuses a stage
 * with a deny violation with E_POLICY_DENIED and applies nothing, not even the other stages.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { realClock, realSleep } from '../../src/sleep.js';
import { StateStore } from '../../src/state/store.js';
import type { PlanDocument } from '../../src/reconciler/plan-document.js';
import { runCli } from '../helpers/deps.js';
import { killMentioning, repoRoot } from '../e2e/helpers.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir(t, 'setopsd-policy-apply-');
const stateDir = join(dir, '.setopsd');
await symlink(join(repoRoot, 'test/fixtures/local-apps'), join(dir, 'apps'));
t.teardown(() => killMentioning(dir));

// A canary secret value the engine could read: it must appear in no output.
const CANARY = 'CANARY_VALUE_7f3a9';
const run = (argv: string[]) => runCli(argv, { clock: realClock, sleep: realSleep, env: { ...process.env, SETOPSD_SECRET_CANARY_SECRET: CANARY }, cwd: dir });
/** `plan` succeeded (0 or 2: terraform's exit codes, with or without --detailed-exitcode). */
const planned = (code: number) => code === 0 || code === 2;

await writeFile(
  join(dir, 'setops.yaml'),
  [
    'apiVersion: setopsd/v1\nkind: Organization\nmetadata: { name: acme }\nspec: { provider: local }',
    'apiVersion: setopsd/v1\nkind: Project\nmetadata: { name: shop }',
    'apiVersion: setopsd/v1\nkind: Stage\nmetadata: { name: staging, project: shop }',
    'apiVersion: setopsd/v1\nkind: Stage\nmetadata: { name: production, project: shop }\nspec: { protected: true }',
    'apiVersion: setopsd/v1\nkind: App\nmetadata: { name: web, project: shop }\nspec:\n  command: [node, http-app.mjs]\n  workdir: apps\n  public: true\n  env: { API_KEY: { secret: CANARY_SECRET } }',
  ].join('\n---\n') + '\n',
);
await symlink(join(repoRoot, 'examples/policies.yaml'), join(dir, 'policies.yaml'));

t.test('plan lists the violations per stage in every format, warnings first', async (t) => {
  const text = await run(['plan', dir]);
  t.ok(planned(text.code), text.stderr);
  t.match(
    text.stdout,
    [
      '  policy: 2 violations, 1 denied: apply refuses this stage',
      '    warn baseline/public-health-check app/web: a public app needs a health check path of its own (healthCheck.path), not the default "/" (/apps/web/healthCheck/path: must NOT be valid)',
      '    deny baseline/production-scale app/web: production stages need at least 2 instances of every app; set scale ≥ 2 in the app\'s production override (/apps/web/scale: must be >= 2)',
      '  acme/shop/production: ',
    ].join('\n'),
  );
  t.match(text.stdout, '  policy: 1 violation\n    warn baseline/public-health-check app/web', 'staging: only the warning');
  t.match(text.stdout, /Policies: 3 policy violations \(1 deny, 2 warn\)\.\n$/);

  const md = await run(['plan', dir, '--format', 'markdown']);
  t.match(md.stdout, '> [!WARNING]\n> **Policies: 3 policy violations (1 deny, 2 warn)**; apply refuses the stages with deny violations');
  t.match(md.stdout, /\*\*`acme\/shop\/production`\*\*\n\n- warn `baseline\/public-health-check` `app\/web`: .*\n- \*\*deny\*\* `baseline\/production-scale` `app\/web`: /);

  const json = await run(['plan', dir, '--format', 'json']);
  const doc = JSON.parse(json.stdout) as PlanDocument;
  const production = doc.stages.find((s) => s.stage === 'production')!;
  t.strictSame(production.policyViolations, { deny: 1, warn: 1 });
  t.strictSame(production.violations!.map((v) => `${v.severity} ${v.policy}/${v.rule} ${v.subject}`), ['warn baseline/public-health-check app/web', 'deny baseline/production-scale app/web']);
  t.strictSame(doc.stages.find((s) => s.stage === 'staging')!.policyViolations, { deny: 0, warn: 1 });
  for (const out of [text.stdout, md.stdout, json.stdout]) t.notMatch(out, CANARY);
});

t.test('apply refuses a deny violation: E_POLICY_DENIED, nothing applied (not even the clean stage)', async (t) => {
  const r = await run(['apply', dir, '--yes']);
  t.equal(r.code, 1);
  t.match(r.stderr, /^error: stage acme\/shop\/production violates 1 deny policy rule; nothing was applied\. Change the manifests so the rules hold \(or change the Policy documents\), then plan again:\n  acme\/shop\/production: baseline\/production-scale app\/web: /m);
  t.notMatch(r.stderr, /    at /, 'no stack trace');
  t.notMatch(r.stdout + r.stderr, CANARY);
  t.strictSame(await new StateStore(stateDir).list(), [], 'no stage recorded anything');
  t.notOk(existsSync(join(stateDir, 'stages/acme/shop/staging/journal')), 'no deployment opened, staging included');
});

t.test('apply of a saved plan refuses it the same way', async (t) => {
  const planFile = join(dir, 'prod.plan');
  const plan = await run(['plan', dir, '--out', planFile]);
  t.ok(planned(plan.code), plan.stderr);
  const r = await run(['apply', planFile]);
  t.equal(r.code, 1);
  t.match(r.stderr, /violates 1 deny policy rule; nothing was applied/);
  t.strictSame(await new StateStore(stateDir).list(), []);
});
