import t from 'tap';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { acquireStageLock, readStageLock } from '../../src/state/lock.js';
import { testDeps } from '../helpers/deps.js';
import { tempDir } from '../helpers/temp.js';

const ref = { organization: 'acme', project: 'shop', stage: 'staging' };

t.test('takes, reports and releases the lock', async (t) => {
  const dir = tempDir(t, 'setopsd-lock-');
  const deps = testDeps();
  const lock = await acquireStageLock(dir, ref, deps, { command: 'apply', timeoutMs: 0 });
  t.same(await readStageLock(dir, ref), { pid: process.pid, host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', command: 'apply' });
  await lock.release();
  await lock.release();
  t.equal(await readStageLock(dir, ref), null);
  t.same(await readdir(join(dir, 'stages/acme/shop/staging')), [], 'no temp files left');
});

t.test('a second holder fails at once with the holder named', async (t) => {
  const dir = tempDir(t, 'setopsd-lock-');
  const deps = testDeps();
  const lock = await acquireStageLock(dir, ref, deps, { command: 'apply', timeoutMs: 0 });
  t.teardown(() => lock.release());
  await t.rejects(acquireStageLock(dir, ref, deps, { command: 'destroy', timeoutMs: 0 }), {
    code: 'E_LOCKED',
    message: new RegExp(`^stage acme/shop/staging is locked by PID ${process.pid} on ${hostname()} since 2026-01-01T00:00:00.000Z \\(apply\\)`),
  });
});

t.test('waits up to the timeout, then fails; succeeds when released meanwhile', async (t) => {
  const dir = tempDir(t, 'setopsd-lock-');
  const deps = testDeps();
  const lock = await acquireStageLock(dir, ref, deps, { command: 'apply', timeoutMs: 0 });
  const start = deps.clock.now();
  await t.rejects(acquireStageLock(dir, ref, deps, { command: 'apply', timeoutMs: 2000, pollMs: 250 }), { code: 'E_LOCKED' });
  t.equal(deps.clock.now() - start, 2000, 'waited exactly the timeout on the test clock');

  let polls = 0;
  const waiting = acquireStageLock(dir, ref, {
    ...deps,
    sleep: async () => {
      polls += 1;
      if (polls === 3) await lock.release();
    },
  }, { command: 'apply', timeoutMs: 60_000 });
  const second = await waiting;
  t.equal(polls, 3);
  t.equal(second.info.command, 'apply');
  await second.release();
});

t.test('the lock of a dead process is taken over and logged', async (t) => {
  const dir = tempDir(t, 'setopsd-lock-');
  // A real process that exits: its pid is then gone.
  const child = spawn(process.execPath, ['-e', '0']);
  const deadPid = child.pid!;
  await new Promise((r) => child.on('exit', r));
  const stage = join(dir, 'stages/acme/shop/staging');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(stage, { recursive: true });
  await writeFile(join(stage, 'lock'), JSON.stringify({ pid: deadPid, host: hostname(), startedAt: '2025-12-31T00:00:00.000Z', command: 'apply' }));
  const warnings: string[] = [];
  const deps = testDeps();
  const log = Object.assign(Object.create(deps.log), { info: (_o: unknown, msg: string) => warnings.push(msg) });
  const lock = await acquireStageLock(dir, ref, { ...deps, log }, { command: 'apply', timeoutMs: 0 });
  t.equal(lock.tookOver?.pid, deadPid);
  t.match(warnings[0], new RegExp(`taking over the lock of PID ${deadPid} \\(apply\\), which is gone`));
  t.equal(JSON.parse(await readFile(join(stage, 'lock'), 'utf8')).pid, process.pid);
  await lock.release();
});

t.test('a lock from another host is never taken over', async (t) => {
  const dir = tempDir(t, 'setopsd-lock-');
  const stage = join(dir, 'stages/acme/shop/staging');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(stage, { recursive: true });
  await writeFile(join(stage, 'lock'), JSON.stringify({ pid: 1, host: 'elsewhere', startedAt: 'x', command: 'daemon' }));
  await t.rejects(acquireStageLock(dir, ref, testDeps(), { command: 'apply', timeoutMs: 0, isAlive: () => false }), {
    message: /locked by PID 1 on elsewhere since x \(daemon\)/,
  });
});

t.test('release never removes a lock that is no longer ours', async (t) => {
  const dir = tempDir(t, 'setopsd-lock-');
  const lock = await acquireStageLock(dir, ref, testDeps(), { command: 'apply', timeoutMs: 0 });
  const other = JSON.stringify({ pid: 4242, host: 'elsewhere', startedAt: 'x', command: 'apply' });
  await writeFile(lock.path, other);
  await lock.release();
  t.equal(await readFile(lock.path, 'utf8'), other);
});

t.test('an aborted wait rejects with CanceledError', async (t) => {
  const dir = tempDir(t, 'setopsd-lock-');
  const deps = testDeps();
  const lock = await acquireStageLock(dir, ref, deps, { command: 'apply', timeoutMs: 0 });
  t.teardown(() => lock.release());
  const ac = new AbortController();
  const p = acquireStageLock(dir, ref, { ...deps, sleep: async () => ac.abort() }, { command: 'apply', timeoutMs: 60_000, signal: ac.signal });
  await t.rejects(p, { code: 'E_CANCELED' });
});

t.test('temp files of dead lock attempts are removed', async (t) => {
  const dir = tempDir(t, 'setopsd-lock-');
  const stage = join(dir, 'stages/acme/shop/staging');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(stage, { recursive: true });
  await writeFile(join(stage, 'lock.4242424.abc123.tmp'), '{}');
  await writeFile(join(stage, `lock.${process.pid}.zzz.tmp`), '{}');
  const lock = await acquireStageLock(dir, ref, testDeps(), { command: 'apply', timeoutMs: 0, isAlive: (pid) => pid === process.pid });
  await lock.release();
  t.same((await readdir(stage)).sort(), [`lock.${process.pid}.zzz.tmp`], 'only the dead attempt is removed');
});
