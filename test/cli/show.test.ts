/** `setopsd show STAGE [N]` prints one deployment with the model it applied; `status` shows the status record. */
import t from 'tap';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson } from '../../src/model/canonical.js';
import { applyStage, type ApplyContext } from '../../src/operations/apply-stage.js';
import { StateStore } from '../../src/state/store.js';
import { runCli, testDeps } from '../helpers/deps.js';
import { fakeEngine, fakePlanner } from '../operations/apply-fakes.js';
import { tempDir } from '../helpers/temp.js';
import { app, stage } from '../helpers/models.js';

const ref = { organization: 'acme', project: 'shop', stage: 'staging' };
const secrets = { get: async () => 'canary-show-secret-91b2' };

async function deployed(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const stateDir = tempDir(t, 'setopsd-show-');
  const ctx: ApplyContext = { stateDir, deps: testDeps(), signal: new AbortController().signal, planner: fakePlanner, allowDataLoss: false, lockTimeoutMs: 0, command: 'apply' };
  const engine = fakeEngine();
  const first = stage({ name: 'staging', apps: { web: app({ env: { TOKEN: { secret: 'TOKEN' } } }) } });
  await applyStage({ ref, desired: first, engine, source: { commit: 'aaaa1111bbbb2222cccc', ref: 'main' }, trigger: 'cli', configRoot: '/x', secrets }, ctx);
  await new StateStore(stateDir).write(ref, first);
  const failing = fakeEngine({ failAt: { 'acme/shop/staging': 'app/web' } });
  failing.states.set('acme/shop/staging', engine.states.get('acme/shop/staging')!);
  await applyStage({ ref, desired: stage({ name: 'staging', apps: { web: app({ scale: 3, env: { TOKEN: { secret: 'TOKEN' } } }) } }), engine: failing, source: { commit: 'dddd3333eeee4444ffff', ref: 'main' }, trigger: 'cli', configRoot: '/x', secrets }, ctx);
  return stateDir;
}

t.test('show N: the entry, its changeset and the exact model; the newest without N', async (t) => {
  const stateDir = await deployed(t);
  const one = await runCli(['show', 'staging', '1', '--state-dir', stateDir]);
  t.equal(one.code, 0, one.stderr);
  t.match(one.stdout, /^acme\/shop\/staging deployment #1: apply succeeded\n  commit    aaaa1111bbbb2222cccc \(main\)\n  trigger   cli\n/);
  t.match(one.stdout, /changeset:\n  \+ stage/);
  t.match(one.stdout, /model sha256:[0-9a-f]{64}:\n\{\n  "apps": \{/);
  t.match(one.stdout, /"secret": "TOKEN"/, 'secrets as references');
  t.notMatch(one.stdout, /canary-show-secret/, 'never a secret value');

  const newest = await runCli(['show', 'staging', '--state-dir', stateDir]);
  t.match(newest.stdout, /deployment #2: apply failed/);
  t.match(newest.stdout, /error     E_ENGINE: app\/web in acme\/shop\/staging: never became healthy/);
  t.match(newest.stdout, /~ app\/web scale: 1 → 3  \(not applied\)/);
  t.match(newest.stdout, /  model     1 app \(web ×3\), 0 services\n/, 'a summary of the stored model');
  t.match(newest.stdout, /log \(last \d+ lines\):\n  \S+ deployment #2 of acme\/shop\/staging \(apply, trigger cli, commit dddd3333eeee4444ffff\)\n(  .*\n)*  \S+ failed: app\/web in acme\/shop\/staging: never became healthy/, 'the tail of the deployment log');

  const json = await runCli(['show', 'acme/shop/staging', '1', '--format', 'json', '--state-dir', stateDir]);
  const parsed = JSON.parse(json.stdout);
  t.equal(parsed.deployment.number, 1);
  t.ok(Array.isArray(parsed.logTail) && parsed.logTail.length > 0, 'json carries the log tail');
  t.equal(canonicalJson(parsed.model), canonicalJson(stage({ name: 'staging', apps: { web: app({ env: { TOKEN: { secret: 'TOKEN' } } }) } })));
});

t.test('show: a deployment that does not exist, and one from before stored models', async (t) => {
  const stateDir = await deployed(t);
  const missing = await runCli(['show', 'staging', '7', '--state-dir', stateDir]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /stage acme\/shop\/staging has no deployment #7; it has #1 to #2 \(setopsd history acme\/shop\/staging\)/);

  const old = tempDir(t, 'setopsd-show-old-');
  await cp(join(import.meta.dirname, '../fixtures/journal-v1'), join(old, 'stages/acme/shop/staging'), { recursive: true });
  const r = await runCli(['show', 'staging', '1', '--state-dir', old]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /model: not stored \(deployment #1 predates stored models\)/);
});

t.test('status shows the stage status record written by the applies', async (t) => {
  const stateDir = await deployed(t);
  const r = await runCli(['status', '--state-dir', stateDir]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /  status           failed \(E_ENGINE\), since .*, at commit aaaa1111bbbb, last attempt dddd3333eeee — app\/web in acme\/shop\/staging: never became healthy/);
  const json = JSON.parse((await runCli(['status', '--format', 'json', '--state-dir', stateDir])).stdout);
  t.match(json.stages[0].record, { state: 'failed', reason: 'E_ENGINE', failures: 1, lastAppliedRevision: 'aaaa1111bbbb2222cccc', lastAttemptedRevision: 'dddd3333eeee4444ffff', lastDeployment: 2 });
});
