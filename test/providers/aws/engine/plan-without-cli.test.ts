/**
 * `setopsd plan` on AWS stages where the Pulumi CLI is absent: the recorded StageModel comes
 * straight from the file backend's checkpoint, and the resource preview is skipped with a note.
 */
import t from 'tap';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDesired } from '../../../../src/manifests/load.js';
import { readDirectory } from '../../../../src/manifests/source-dir.js';
import { runCli } from '../../../helpers/deps.js';
import { stageBackend, writeStackCheckpoint } from './checkpoint-file.js';
import { tempDir } from '../../../helpers/temp.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const example = join(repo, 'examples/aws');

t.test('plan reads AWS stages from the checkpoint and notes the skipped preview', async (t) => {
  const stateDir = tempDir(t, 'setopsd-plan-aws-');
  const loaded = loadDesired(await readDirectory(example));
  if (!loaded.ok) throw new Error('examples/aws does not load');
  const staging = loaded.value.stages.find((s) => s.stage.name === 'staging')!;
  t.ok(staging, 'the example has a staging stage');

  const env = { PATH: join(stateDir, 'no-bin') };
  const before = await runCli(['plan', '--detailed-exitcode', example, '--state-dir', stateDir, '--stage', 'globex/storefront/staging'], { env, cwd: repo });
  t.equal(before.code, 2, 'changes to make');
  t.match(before.stdout, /globex\/storefront\/staging \(pulumi engine, nothing deployed\)/);
  t.match(before.stdout, /note: resource preview skipped: the Pulumi CLI is required for preview of stage globex\/storefront\/staging; install it with/);

  // As if `setopsd apply` had run: the stack's checkpoint records the model as its output.
  const stagingRef = { organization: 'globex', project: 'storefront', stage: 'staging' };
  writeStackCheckpoint(stageBackend(stateDir, stagingRef), stagingRef, staging, {
    secrets_providers: { type: 'passphrase', state: { salt: 'v1:AAAA:BBBB' } },
  });
  const after = await runCli(['plan', '--detailed-exitcode', example, '--state-dir', stateDir, '--stage', 'globex/storefront/staging', '--format', 'json'], { env, cwd: repo });
  t.equal(after.code, 0, 'in sync with the recorded checkpoint');
  const doc = JSON.parse(after.stdout) as { stages: { engine: string; actualSerial: string | null; changes: unknown[] }[] };
  t.equal(doc.stages.length, 1);
  t.equal(doc.stages[0]!.engine, 'pulumi');
  t.match(doc.stages[0]!.actualSerial, /^sha256:/);
  t.same(doc.stages[0]!.changes, []);
});

t.test('an AWS stage gone from the manifests is planned as a delete from the index and the checkpoint', async (t) => {
  const stateDir = tempDir(t, 'setopsd-plan-aws-gone-');
  const loaded = loadDesired(await readDirectory(example));
  if (!loaded.ok) throw new Error('examples/aws does not load');
  const staging = loaded.value.stages.find((s) => s.stage.name === 'staging')!;
  const review = { ...staging, stage: { ...staging.stage, name: 'review' } };
  const ref = { organization: 'globex', project: 'storefront', stage: 'review' };
  // What the engine leaves after applying the stage: the checkpoint and the index entry.
  writeStackCheckpoint(stageBackend(stateDir, ref), ref, review);
  const { StateStore } = await import('../../../../src/state/store.js');
  await new StateStore(stateDir).write(ref, review);
  const res = await runCli(['plan', '--detailed-exitcode', example, '--state-dir', stateDir, '--stage', 'globex/storefront/review'], { env: { PATH: join(stateDir, 'no-bin') }, cwd: repo });
  t.equal(res.code, 2, 'changes to make');
  t.match(res.stdout, /globex\/storefront\/review/);
  t.match(res.stdout, /- stage/);
  t.match(res.stdout, /- service\/database/);
});
