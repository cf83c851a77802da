import t from 'tap';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Journal } from '../../src/state/journal.js';
import { pidAlive } from '../../src/pid.js';
import type { NewDeployment } from '../../src/state/journal.js';
import { tempDir } from '../helpers/temp.js';

const ref = { organization: 'acme', project: 'shop', stage: 'staging' };

function fields(over: Partial<NewDeployment> = {}): NewDeployment {
  return {
    kind: 'apply',
    commit: 'abc123',
    ref: 'main',
    trigger: 'cli',
    changeset: { ref, changes: [{ op: 'create', subject: 'app/web', dataLoss: false, command: 'setops app:create web' }] },
    desiredHash: 'sha256:00',
    summary: { create: 1, update: 0, replace: 0, delete: 0 },
    ...over,
  };
}

t.test('entries are numbered from 1, written pending, then running, then the outcome', async (t) => {
  const dir = tempDir(t, 'setopsd-journal-');
  let now = Date.parse('2026-01-01T00:00:00Z');
  const journal = new Journal(dir, ref, () => now);
  t.same(await journal.list(), []);
  t.equal(await journal.latest(), null);

  const first = await journal.open(fields());
  t.equal(first.number, 1);
  t.equal(first.status, 'pending');
  t.equal(first.startedAt, '2026-01-01T00:00:00.000Z');
  t.match(first.log, /logs\/deploy-000001\.log$/);
  const onDisk = JSON.parse(await readFile(join(dir, 'stages/acme/shop/staging/journal/000001.json'), 'utf8'));
  t.equal(onDisk.status, 'pending', 'the pending entry is on disk before anything else happens');

  const running = await journal.start(first);
  t.equal((await journal.get(1)).status, 'running');
  now += 5000;
  const done = await journal.finish(running, { status: 'failed', applied: ['service/database'], error: { code: 'E_ENGINE', message: 'app/web: boom' } });
  t.equal(done.endedAt, '2026-01-01T00:00:05.000Z');
  t.same((await journal.get(1)).applied, ['service/database']);
  t.same((await journal.get(1)).error, { code: 'E_ENGINE', message: 'app/web: boom' });

  const second = await journal.open(fields({ trigger: 'plan-file' }));
  t.equal(second.number, 2);
  t.same((await journal.list()).map((d) => d.number), [1, 2]);
  t.equal((await journal.latest())?.number, 2);
  const names = await readdir(join(dir, 'stages/acme/shop/staging/journal'));
  t.same(names.sort(), ['000001.json', '000002.json'], 'no temp files left behind');
});

t.test('entries left open by a dead process are closed as failed, never deleted', async (t) => {
  const dir = tempDir(t, 'setopsd-journal-');
  const journal = new Journal(dir, ref, () => Date.parse('2026-01-01T00:00:00Z'));
  const a = await journal.open(fields());
  await journal.finish(a, { status: 'succeeded', applied: ['app/web'] });
  const b = await journal.start(await journal.open(fields()));
  // Pretend entry 2 was written by another process that is gone.
  const path = journal.pathOf(b.number);
  const { writeFile } = await import('node:fs/promises');
  await writeFile(path, JSON.stringify({ ...b, pid: 999999 }));
  const c = await journal.open(fields());
  await writeFile(journal.pathOf(c.number), JSON.stringify({ ...c, pid: 424242 }));

  const closed = await journal.closeInterrupted((pid) => pid === 424242);
  t.same(closed.map((d) => d.number), [2], 'only the entry of the dead process is closed');
  const e2 = await journal.get(2);
  t.equal(e2.status, 'failed');
  t.same(e2.error, { code: 'E_INTERRUPTED', message: 'interrupted (process 999999 gone)' });
  t.ok(e2.endedAt);
  t.equal((await journal.get(1)).status, 'succeeded', 'finished entries are untouched');
  t.equal((await journal.get(3)).status, 'pending', 'an entry of a live process is left alone');
  t.same((await journal.list()).length, 3);
});

t.test('a corrupt entry is a clear error naming the file', async (t) => {
  const dir = tempDir(t, 'setopsd-journal-');
  const journal = new Journal(dir, ref, () => 0);
  await journal.open(fields());
  const { writeFile } = await import('node:fs/promises');
  await writeFile(journal.pathOf(1), '{ not json');
  await t.rejects(journal.list(), { code: 'E_STATE_CORRUPT', message: /stage acme\/shop\/staging: journal entry .*000001\.json is not valid JSON/ });
});

t.test('pidAlive', async (t) => {
  t.equal(pidAlive(process.pid), true);
  t.equal(pidAlive(0), false);
  t.equal(pidAlive(-5), false);
  t.equal(pidAlive(2 ** 22 + 12345), false);
});
