import t from 'tap';
import { loadDesired } from '../../src/manifests/load.js';
import { stageKey, refOf } from '../../src/model/stage-model.js';
import { runCli } from '../helpers/deps.js';
import { tempDir } from '../helpers/temp.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BASE, app, source } from './helpers.js';

const keysOf = (stages: readonly string[]) => {
  const r = loadDesired(source({ 'base.yaml': BASE, 'apps.yaml': app('web', 'command: x') }), { stages });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.value.stages.map((m) => stageKey(refOf(m)));
};

t.test('--stage selectors: only the selected stages are resolved', async (t) => {
  t.same(keysOf([]), ['acme/shop/production', 'acme/shop/staging']);
  t.same(keysOf(['staging']), ['acme/shop/staging']);
  t.same(keysOf(['shop/production']), ['acme/shop/production']);
  t.same(keysOf(['acme/shop/staging', 'production']), ['acme/shop/production', 'acme/shop/staging']);
  t.same(keysOf(['nosuch']), ['acme/shop/production', 'acme/shop/staging'], 'a selector matching nothing resolves all (the caller names the known stages)');
});

t.test('every file is still checked: a problem in any document fails the load', async (t) => {
  const r = loadDesired(source({ 'base.yaml': BASE, 'apps.yaml': app('web', 'command: x\nport: 70000') }), { stages: ['staging'] });
  t.equal(r.ok, false);
});

t.test('plan --stage ONE plans that stage; a typo still lists every known stage', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'setops.yaml'), BASE.replace('kind: Organization\nmetadata:\n  name: acme\n', 'kind: Organization\nmetadata:\n  name: acme\nspec: { provider: local }\n'));
  const r = await runCli(['plan', '--detailed-exitcode', '.', '--stage', 'staging', '--format', 'json'], { cwd: dir });
  t.equal(r.code, 2, r.stderr);
  t.same((JSON.parse(r.stdout) as { stages: { stage: string }[] }).stages.map((s) => s.stage), ['staging']);
  const typo = await runCli(['plan', '--detailed-exitcode', '.', '--stage', 'stagin'], { cwd: dir });
  t.match(typo.stderr, /--stage stagin: no such stage; known stages: acme\/shop\/production, acme\/shop\/staging/);
});
