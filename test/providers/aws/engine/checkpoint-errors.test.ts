/**
 * The checkpoint reader reads what the Pulumi CLI reads, and refuses damaged state with a
 * located, actionable E_PULUMI_STATE error: never a TypeError, RangeError or raw zlib error.
 */
import t, { type Test } from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { EngineError } from '../../../../src/errors.js';
import { parseCheckpoint, parseExport, readCheckpointFile } from '../../../../src/providers/aws/engine/checkpoint.js';
import { tempDir } from '../../../helpers/temp.js';

const stackUrn = 'urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev';
const latest = (extra: Record<string, unknown> = {}) => ({
  manifest: { time: '2026-01-01T00:00:00Z', magic: '', version: 'v3.200.0' },
  resources: [{ urn: stackUrn, type: 'pulumi:pulumi:Stack', custom: false, outputs: { x: 1 } }],
  ...extra,
});
const checkpoint = (envelope: Record<string, unknown>): string => JSON.stringify({ checkpoint: { stack: 'organization/p/dev', latest: latest() }, ...envelope });

function stateError(t: Test, fn: () => unknown, message: RegExp, what: string): void {
  try {
    fn();
    t.fail(`${what}: expected an error`);
  } catch (err) {
    t.ok(err instanceof EngineError, `${what}: an EngineError, not ${(err as Error).constructor.name}`);
    t.match(err, { code: 'E_PULUMI_STATE', message }, what);
  }
}

t.test('v4 features Pulumi writes are read: snippets-prototype, extensionParameterization, byteString', async (t) => {
  for (const feature of ['snippets-prototype', 'extensionParameterization', 'byteString', 'refreshBeforeUpdate', 'views', 'hooks', 'taint']) {
    t.same(parseCheckpoint(checkpoint({ version: 4, features: [feature] }), 'f.json').outputs, { x: 1 }, feature);
  }
  stateError(t, () => parseCheckpoint(checkpoint({ version: 4, features: ['snippets'] }), 'f.json'), /features setopsd does not support \(snippets\)/, 'the misspelling is not a feature');
});

t.test('pending_operations: [null] and other damaged entries are located errors', async (t) => {
  const text = JSON.stringify({ version: 3, checkpoint: { latest: latest({ pending_operations: [null] }) } });
  stateError(t, () => parseCheckpoint(text, 'dev.json'), /^dev\.json: \/checkpoint\/latest\/pending_operations\/0: a pending operation is null; the state file is damaged; restore/, 'null pending operation');
  const exp = JSON.stringify({ version: 3, deployment: latest({ pending_operations: [{ resource: null, type: 'creating' }, 'x'] }) });
  stateError(t, () => parseExport(exp, 'stack export'), /\/deployment\/pending_operations\/1: a pending operation is not an object/, 'a string entry');
  const res = JSON.stringify({ version: 3, checkpoint: { latest: { resources: [null] } } });
  stateError(t, () => parseCheckpoint(res, 'dev.json'), /\/checkpoint\/latest\/resources\/0: a resource is null/, 'a null resource');
  // An entry without a resource is still read.
  const partial = JSON.stringify({ version: 3, checkpoint: { latest: latest({ pending_operations: [{ type: 'creating' }] }) } });
  t.same(parseCheckpoint(partial, 'dev.json').pendingOperations, [{ urn: '(unknown)', type: 'creating' }]);
});

t.test('deep nesting is a located error, not a RangeError', async (t) => {
  let deep = '1';
  for (let i = 0; i < 20000; i++) deep = `{"a":${deep}}`;
  const text = `{"version":3,"checkpoint":{"latest":{"resources":[{"urn":"${stackUrn}","type":"pulumi:pulumi:Stack","outputs":{"deep":${deep}}}]}}}`;
  stateError(t, () => parseCheckpoint(text, 'dev.json'), /^dev\.json: \/checkpoint\/latest: the Pulumi state nests values deeper than setopsd can read; restore/, 'deep nesting');
});

t.test('a corrupt .json.gz is a located error naming the file', async (t) => {
  const dir = tempDir(t, 'setopsd-gz-');
  const file = join(dir, 'dev.json.gz');
  const good = gzipSync(checkpoint({ version: 3 }));
  writeFileSync(file, good.subarray(0, good.length - 12));
  await t.rejects(readCheckpointFile([file]), { code: 'E_PULUMI_STATE', message: new RegExp(`^${file}: the gzip-compressed checkpoint is damaged \\(.+\\); restore`) });
  writeFileSync(file, good);
  t.same((await readCheckpointFile([file]))?.outputs, { x: 1 }, 'an intact one is read');
});

t.test('a version-less legacy file says what it is and how to upgrade it, not "upgrade setopsd"', async (t) => {
  stateError(t, () => parseCheckpoint(checkpoint({}), 'dev.json'), /no "version": it was written by a Pulumi release older than 1\.0 .*pulumi stack export --file state\.json && pulumi stack import/, 'legacy');
  try {
    parseCheckpoint(checkpoint({}), 'dev.json');
  } catch (err) {
    t.notMatch((err as Error).message, /upgrade setopsd/);
  }
});

t.test('the zstd hint names PULUMI_DIY_BACKEND_ZSTD', async (t) => {
  const dir = tempDir(t, 'setopsd-zst-');
  const file = join(dir, 'dev.json.zst');
  writeFileSync(file, Buffer.from([0x28, 0xb5, 0x2f, 0xfd]));
  await t.rejects(readCheckpointFile([file]), { code: 'E_PULUMI_STATE', message: /unset PULUMI_DIY_BACKEND_ZSTD/ });
});
