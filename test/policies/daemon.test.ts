/**
 * The daemon refuses deny violations: a real daemon following a real git repository (fake
 * engine, the narrowest seam) applies staging, leaves production `failed` with reason
 * E_POLICY_DENIED and the violation in its message, and applies it once a commit satisfies the
 * rule. A warn rule never holds anything back.
 */
import t from 'tap';
import { waitFor } from '../helpers/wait.js';
import { daemonFor, manifests } from '../daemon/helpers.js';
import { readDaemonInfo } from '../../src/daemon/instance.js';
import { runCli } from '../helpers/deps.js';

const POLICY = `apiVersion: setopsd/v1
kind: Policy
metadata: { name: baseline }
spec:
  rules:
    - name: production-scale
      severity: deny
      message: production needs scale >= 2
      scope: { stages: [production] }
      rule: { properties: { apps: { additionalProperties: { properties: { scale: { minimum: 2 } } } } } }
    - name: greeting
      severity: warn
      message: say hello
      rule: { properties: { apps: { additionalProperties: { properties: { env: { required: [HELLO] } } } } } }
`;

const files = (scale: number) => ({ ...manifests({ greeting: 'one', scale, productionApproval: 'auto' }), 'config/policies.yaml': POLICY });

t.test('a deny violation keeps the stage from applying until a commit satisfies the rule', async (t) => {
  const d = await daemonFor(t, files(1));
  await waitFor('staging ready', async () => (await d.record('staging'))?.state === 'ready', { timeoutMs: 20_000 });
  const refused = await waitFor('production refused', async () => {
    const r = await d.record('production');
    return r?.state === 'failed' || r?.state === 'stalled' ? r : undefined;
  }, { timeoutMs: 20_000 });
  t.match(refused, { reason: 'E_POLICY_DENIED', message: /acme\/shop\/production: baseline\/production-scale app\/web: production needs scale >= 2 \(\/apps\/web\/scale: must be >= 2\)/ });
  t.same(d.engine.calls, ['apply acme/shop/staging'], 'production was not applied; the warn rule held nothing back');
  // The violations are kept with each stage's status, also for the stage that applied.
  t.match((await d.record('production'))?.policy, { deny: 1, warn: 1, violations: [/^deny baseline\/production-scale app\/web: production needs scale >= 2/, /^warn baseline\/greeting app\/web: say hello/] });
  const staging = await waitFor('staging policy recorded', async () => (await d.record('staging'))?.policy);
  t.match(staging, { deny: 0, warn: 1, violations: [/^warn baseline\/greeting app\/web/] });
  const api = await d.api('GET', '/api/v1/stages/acme/shop/production');
  t.match(JSON.stringify(api.body), /production needs scale >= 2/, 'the API shows them');
  const info = await readDaemonInfo(d.stateDir);
  const page = await (await fetch(new URL('/', info!.url))).text();
  // `setopsd status` lists deployed stages: staging, in sync, with its warning.
  const status = await runCli(['status', '--stage', 'staging', '--state-dir', d.stateDir]);
  t.match(status.stdout, '  policy           0 deny, 1 warn\n                   warn baseline/greeting app/web: say hello', status.stderr);
  t.match(page, /<dt>policy<\/dt><dd><span class="deploy-failed">1 deny, 1 warn<\/span><br>deny baseline\/production-scale app\/web: production needs scale &gt;= 2/, 'the page shows them');

  const fixed = d.repo.commit('scale 2', files(2));
  await waitFor('production applied', async () => (await d.record('production'))?.lastAppliedRevision === fixed, { timeoutMs: 20_000 });
  t.ok(d.engine.calls.includes('apply acme/shop/production'));
  t.match((await d.record('production'))?.policy, { deny: 0, warn: 1 }, 'only the warning is left');
});

t.test('a commit that changes only the Policy documents reconciles the stages it refused', async (t) => {
  const d = await daemonFor(t, files(1));
  await waitFor('production refused', async () => (await d.record('production'))?.reason === 'E_POLICY_DENIED' || undefined, { timeoutMs: 20_000 });
  t.same(d.engine.calls, ['apply acme/shop/staging']);
  // The manifests stay as they were (scale 1); the rule now asks for what production has.
  const relaxed = d.repo.commit('relax the scale rule', { ...files(1), 'config/policies.yaml': POLICY.replace('minimum: 2', 'minimum: 1') });
  await waitFor('production applied', async () => (await d.record('production'))?.lastAppliedRevision === relaxed, { timeoutMs: 20_000 });
  t.ok(d.engine.calls.includes('apply acme/shop/production'), 'applied without a change to the stage itself');
  t.match((await d.record('production'))?.policy, { deny: 0, warn: 1 });
  t.equal(d.engine.calls.filter((c) => c === 'apply acme/shop/staging').length, 1, 'staging, in sync and allowed before and after, was not applied again');
});
