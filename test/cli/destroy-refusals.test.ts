import t from 'tap';
import { join } from 'node:path';
import { runCli } from '../helpers/deps.js';
import { Journal } from '../../src/state/journal.js';
import { StateStore } from '../../src/state/store.js';
import { tempDir } from '../helpers/temp.js';
import { app, stage } from '../helpers/models.js';

async function seeded(t: { teardown(fn: () => unknown): void }, protectedStage: boolean): Promise<string> {
  const stateDir = tempDir(t, 'setopsd-destroy-');
  await new StateStore(stateDir).write({ organization: 'acme', project: 'shop', stage: 'production' }, stage({ name: 'production', protected: protectedStage, apps: { web: app() } }));
  return stateDir;
}

t.test('a protected stage is refused before anything happens', async (t) => {
  const stateDir = await seeded(t, true);
  const r = await runCli(['destroy', 'production', '--yes', '--allow-data-loss', '--state-dir', stateDir]);
  t.equal(r.code, 1);
  t.equal(r.stderr, 'error: stage acme/shop/production is protected: destroy is refused; set protected: false on the stage and apply that first\n');
  t.same(await new Journal(stateDir, { organization: 'acme', project: 'shop', stage: 'production' }, () => 0).list(), []);
});

t.test('without a terminal destroy needs --yes; a declined prompt changes nothing', async (t) => {
  const stateDir = await seeded(t, false);
  const r = await runCli(['destroy', 'production', '--state-dir', stateDir]);
  t.equal(r.code, 1);
  t.match(r.stderr, /destroy needs --yes when not run in a terminal/);
  const asked: string[] = [];
  const no = await runCli(['destroy', 'shop/production', '--state-dir', stateDir], {
    isTTY: { stdout: false, stdin: true },
    prompt: async (q) => {
      asked.push(q);
      return 'n';
    },
  });
  t.equal(no.code, 1);
  t.same(asked, ['Destroy stage acme/shop/production? Type "yes" to confirm: ']);
  t.match(no.stdout, /destroy: canceled, nothing changed/);
  t.equal((await new StateStore(stateDir).read({ organization: 'acme', project: 'shop', stage: 'production' })).serial, '1');
});

t.test('destroy of a stage that is not deployed is a no-op', async (t) => {
  const stateDir = await seeded(t, false);
  await new StateStore(stateDir).write({ organization: 'acme', project: 'shop', stage: 'production' }, null);
  const r = await runCli(['destroy', 'production', '--yes', '--state-dir', stateDir]);
  t.equal(r.code, 0);
  t.equal(r.stdout, 'acme/shop/production: not deployed; nothing to destroy\n');
});
