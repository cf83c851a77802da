/**
 * Backup retention and records (BackupStore): backups older than retentionDays are pruned with
 * their files, the newest completed backup always stays (also when it is older), running ones are
 * never touched; ids sort by time; a missing or damaged file fails the checksum check.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BackupStore, newBackupId, sha256File, type BackupRecord } from '../../src/providers/local/backups/store.js';
import { tempDir } from '../helpers/temp.js';

const REF = { organization: 'acme', project: 'shop', stage: 'prod' };
const DAY = 86_400_000;
const NOW = Date.parse('2026-03-01T03:00:00Z');

async function add(store: BackupStore, ageDays: number, status: BackupRecord['status'] = 'completed'): Promise<BackupRecord> {
  const at = NOW - ageDays * DAY;
  const id = newBackupId(at);
  const file = join(store.serviceDir('db'), `${id}.tar`);
  const record: BackupRecord = { formatVersion: 1, id, service: 'db', type: 'postgresql', status, trigger: 'manual', method: 'test', startedAt: new Date(at).toISOString(), file };
  await store.write(record);
  if (status === 'completed') {
    await writeFile(file, `data ${id}`);
    Object.assign(record, { size: Buffer.byteLength(`data ${id}`), sha256: await sha256File(file) });
    await store.write(record);
  }
  return record;
}

t.test('prune removes backups past retention with their files; the newest completed one and running ones stay', async (t) => {
  const store = new BackupStore(tempDir(t), REF);
  const old = await add(store, 30);
  const failedOld = await add(store, 20, 'failed');
  const recent = await add(store, 2);
  const running = await add(store, 40, 'running');
  const removed = await store.prune('db', 7, NOW);
  t.same(removed.sort(), [old.id, failedOld.id].sort());
  t.notOk(existsSync(old.file), 'its file is gone');
  t.same((await store.list('db')).map((b) => b.id), [recent.id, running.id].sort().reverse(), 'newest first');
});

t.test('the newest completed backup is kept even when retention ran out', async (t) => {
  const store = new BackupStore(tempDir(t), REF);
  const older = await add(store, 60);
  const newest = await add(store, 50);
  t.same(await store.prune('db', 7, NOW), [older.id]);
  t.same((await store.find('db', 'service/db')).id, newest.id);
});

t.test('verify: a changed or missing file is refused', async (t) => {
  const store = new BackupStore(tempDir(t), REF);
  const b = await add(store, 1);
  await t.resolves(store.verify(b, 'service/db'));
  await writeFile(b.file, 'tampered');
  await t.rejects(store.verify(b, 'service/db'), { code: 'E_BACKUP_CORRUPT', message: /does not match its recorded checksum/ });
  await t.rejects(store.verify({ ...b, file: join(store.dir, 'nope') }, 'service/db'), { code: 'E_BACKUP_CORRUPT', message: /is missing/ });
});

t.test('find: no completed backup, a failed one, an unknown id', async (t) => {
  const store = new BackupStore(tempDir(t), REF);
  await t.rejects(store.find('db', 'service/db'), { code: 'E_BACKUP_NOT_FOUND', message: /has no completed backup; create one with `setopsd backup create`/ });
  const failed = await add(store, 1, 'failed');
  await t.rejects(store.find('db', 'service/db', failed.id), { message: new RegExp(`backup ${failed.id} is failed, not restorable`) });
});
