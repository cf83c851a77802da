/**
 * The journal keeps what it applied: every deployment stores its exact desired StageModel under
 * `models/<hash>.json` before anything changes, so any deployment can be shown and re-applied.
 */
import t from 'tap';
import { cp, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson, hashOf } from '../../src/model/canonical.js';
import { applyStage, type ApplyContext } from '../../src/operations/apply-stage.js';
import type { SecretResolver } from '../../src/providers/engine.js';
import { Journal } from '../../src/state/journal.js';
import { testDeps } from '../helpers/deps.js';
import { fakeEngine, fakePlanner } from './apply-fakes.js';
import { tempDir } from '../helpers/temp.js';
import { app, stage } from '../helpers/models.js';

const ref = { organization: 'acme', project: 'shop', stage: 'staging' };
const CANARY = 'canary-secret-value-4f1d9a';
const secrets: SecretResolver = { get: async () => CANARY };

async function stateDirFor(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = tempDir(t, 'setopsd-models-');
  return dir;
}

t.test('three applies with different models: each deployment reads its model back byte for byte', async (t) => {
  const stateDir = await stateDirFor(t);
  const ctx: ApplyContext = { stateDir, deps: testDeps(), signal: new AbortController().signal, planner: fakePlanner, allowDataLoss: false, lockTimeoutMs: 0, command: 'apply' };
  const engine = fakeEngine();
  const models = [1, 2, 3].map((scale) => stage({ name: 'staging', apps: { web: app({ scale, env: { TOKEN: { secret: 'TOKEN' }, MODE: `m${scale}` } }) } }));
  for (const [i, desired] of models.entries()) {
    const out = await applyStage({ ref, desired, engine, source: { commit: `c${i + 1}`, ref: 'main' }, trigger: 'cli', configRoot: '/nowhere', secrets }, ctx);
    t.equal(out.status, 'succeeded');
  }
  const journal = new Journal(stateDir, ref, () => 0);
  const entries = await journal.list();
  t.equal(entries.length, 3);
  for (const [i, entry] of entries.entries()) {
    const stored = await journal.model(entry);
    t.equal(canonicalJson(stored), canonicalJson(models[i]), `deployment #${entry.number} reads back its model`);
    const bytes = await readFile(join(journal.modelsDir, `${entry.desiredHash!.toString()}.json`), 'utf8');
    t.equal(bytes, canonicalJson(models[i]) + '\n', 'stored as canonical JSON, byte for byte');
    t.equal(entry.desiredHash, hashOf(models[i]));
  }
  t.equal((await readdir(journal.modelsDir)).length, 3);

  // A re-apply of an earlier model (a rollback) stores nothing new: models are content-addressed.
  await applyStage({ ref, desired: models[0]!, engine, source: { commit: 'c1', ref: 'main' }, trigger: 'cli', configRoot: '/nowhere', secrets }, ctx);
  t.equal((await readdir(journal.modelsDir)).length, 3);

  t.equal((await journal.lastSucceeded())?.number, 4);
  t.equal((await journal.lastAtCommit('c2'))?.number, 2);
  t.equal((await journal.lastAtCommit('c1'))?.number, 4, 'the newest deployment at that commit');
  t.equal(await journal.lastAtCommit('nope'), null);
  t.equal(await journal.succeededAt('c3'), true);
  t.equal(await journal.succeededAt('c9'), false);

  const everything = (await Promise.all((await readdir(journal.modelsDir)).map((f) => readFile(join(journal.modelsDir, f), 'utf8')))).join('\n');
  t.match(everything, /"secret":"TOKEN"/, 'secrets stay references');
  t.notMatch(everything, new RegExp(CANARY), 'no secret value is stored');
});

t.test('a failed deployment keeps its model too; only succeeded ones count as lastSucceeded', async (t) => {
  const stateDir = await stateDirFor(t);
  const ctx: ApplyContext = { stateDir, deps: testDeps(), signal: new AbortController().signal, planner: fakePlanner, allowDataLoss: false, lockTimeoutMs: 0, command: 'apply' };
  const ok = fakeEngine();
  await applyStage({ ref, desired: stage({ name: 'staging', apps: { web: app() } }), engine: ok, source: { commit: 'good', ref: 'main' }, trigger: 'cli', configRoot: '/x', secrets }, ctx);
  const failing = fakeEngine({ failAt: { 'acme/shop/staging': 'app/web' } });
  const bad = stage({ name: 'staging', apps: { web: app({ scale: 4 }) } });
  await applyStage({ ref, desired: bad, engine: failing, source: { commit: 'bad', ref: 'main' }, trigger: 'cli', configRoot: '/x', secrets }, ctx);
  const journal = new Journal(stateDir, ref, () => 0);
  const latest = await journal.latest();
  t.equal(latest?.status, 'failed');
  t.equal(canonicalJson(await journal.model(latest!)), canonicalJson(bad));
  t.equal((await journal.lastSucceeded())?.commit, 'good');
  t.equal(await journal.succeededAt('bad'), false);
});

t.test('a journal written before models were stored still reads', async (t) => {
  const stateDir = await stateDirFor(t);
  // Entries as setopsd 0.1 wrote them: no models/ directory beside the journal.
  await cp(join(import.meta.dirname, '../fixtures/journal-v1'), join(stateDir, 'stages/acme/shop/staging'), { recursive: true });
  const journal = new Journal(stateDir, ref, () => 0);
  const entries = await journal.list();
  t.same(entries.map((e) => [e.number, e.status, e.commit]), [[1, 'succeeded', 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678'], [2, 'failed', 'b1b2c3d4e5f60718293a4b5c6d7e8f9012345678']]);
  t.equal(await journal.model(entries[0]!), null, 'no stored model: null, not an error');
  t.equal((await journal.lastSucceeded())?.number, 1);
  t.equal(await journal.succeededAt('a1b2c3d4e5f60718293a4b5c6d7e8f9012345678'), true);

  // New deployments continue the numbering and store their models.
  const ctx: ApplyContext = { stateDir, deps: testDeps(), signal: new AbortController().signal, planner: fakePlanner, allowDataLoss: false, lockTimeoutMs: 0, command: 'apply' };
  const out = await applyStage({ ref, desired: stage({ name: 'staging', apps: { web: app() } }), engine: fakeEngine(), source: { commit: 'c3', ref: 'main' }, trigger: 'cli', configRoot: '/x', secrets }, ctx);
  t.match(out, { status: 'succeeded', deployment: { number: 3 } });
  t.equal(canonicalJson(await journal.model((await journal.latest())!)), canonicalJson(stage({ name: 'staging', apps: { web: app() } })));
});

t.test('an edited stored model is refused, not applied', async (t) => {
  const stateDir = await stateDirFor(t);
  const journal = new Journal(stateDir, ref, () => 0);
  const hash = await journal.storeModel(stage({ name: 'staging', apps: { web: app() } }));
  const { writeFile } = await import('node:fs/promises');
  await writeFile(join(journal.modelsDir, `${hash}.json`), canonicalJson(stage({ name: 'staging', apps: { web: app({ scale: 9 }) } })) + '\n');
  await t.rejects(journal.model({ number: 1, desiredHash: hash }), { code: 'E_STATE_CORRUPT', message: /does not hash to/ });
});
