/**
 * Task records on disk: written atomically (0600), read newest first, and pruned to the newest N
 * by id (ids start with the start time), leaving temp files of writes in progress alone.
 */
import t from 'tap';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pruneTaskRecords, readTaskRecords, taskRecordId, writeTaskRecord, type TaskRecord } from '../../src/state/task-records.js';
import { tempDir } from '../helpers/temp.js';

const record = (startedAt: string, suffix: string): TaskRecord => ({ formatVersion: 1, id: taskRecordId(Date.parse(startedAt), suffix), app: 'web', command: ['x'], envKeys: [], startedBy: 'schedule nightly', status: 'succeeded', exitCode: 0, signal: null, startedAt, log: '' });

t.test('written 0600, read newest first, pruned to the newest N', async (t) => {
  const dir = join(tempDir(t, 'setopsd-task-records-'), 'tasks');
  const starts = ['2026-01-01T03:00:00.000Z', '2026-01-02T03:00:00.000Z', '2026-01-03T03:00:00.000Z', '2026-01-03T03:00:00.500Z', '2026-01-04T03:00:00.000Z'];
  for (const [i, s] of starts.entries()) await writeTaskRecord(dir, record(s, `r${i}`));
  t.equal(record(starts[0]!, 'r0').id, '20260101T030000Z-r0');
  t.equal((await stat(join(dir, '20260101T030000Z-r0.json'))).mode & 0o777, 0o600);
  t.same((await readTaskRecords(dir)).map((r) => r.id), ['20260104T030000Z-r4', '20260103T030000Z-r3', '20260103T030000Z-r2', '20260102T030000Z-r1', '20260101T030000Z-r0'], 'same second: the milliseconds order them');

  await writeFile(join(dir, '.20260101T000000Z-zz.json.123.abc.tmp'), 'torn');
  t.equal(await pruneTaskRecords(dir, 3), 2);
  t.same((await readTaskRecords(dir)).map((r) => r.id), ['20260104T030000Z-r4', '20260103T030000Z-r3', '20260103T030000Z-r2']);
  t.ok((await readdir(dir)).includes('.20260101T000000Z-zz.json.123.abc.tmp'), 'a temp file is not a record');
  t.equal(await pruneTaskRecords(dir, 3), 0, 'nothing more to prune');
  t.equal(await pruneTaskRecords(join(dir, 'none'), 3), 0, 'no directory: nothing to prune');
});
