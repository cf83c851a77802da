/**
 * The daemon refuses deny violations: a real daemon following a real git repository (fake
 * engine, the narrowest seam) applies staging, leaves production `failed` with reason
 * E_POLICY_DENIED and the violation in its message, and applies it once a commit satisfies the
 * rule. A warn rule never holds anything back.
 */
import t from 'tap';
import { waitFor } from '../helpers/wait.js';
import { daemonFor, manifests } from '../daemon/helpers.js';

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

  const fixed = d.repo.commit('scale 2', files(2));
  await waitFor('production applied', async () => (await d.record('production'))?.lastAppliedRevision === fixed, { timeoutMs: 20_000 });
  t.ok(d.engine.calls.includes('apply acme/shop/production'));
});
