/**
 * File-system faults under the state directory, on real mounts (root only: tmpfs and a
 * read-only bind mount): a read-only state directory and a full disk fail the apply with what
 * happened, the path and what to do — no "unexpected error", no stack — and change nothing.
 */
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { cli, killMentioning, repoRoot } from './helpers.js';
import { tempDir } from '../helpers/temp.js';

const root = process.getuid?.() === 0;
const MANIFEST = (version: string) => `apiVersion: setopsd/v1
kind: Organization
metadata: { name: acme }
spec: { provider: local }
---
apiVersion: setopsd/v1
kind: Project
metadata: { name: shop, organization: acme }
spec: {}
---
apiVersion: setopsd/v1
kind: Stage
metadata: { name: dev, organization: acme, project: shop }
spec: {}
---
apiVersion: setopsd/v1
kind: App
metadata: { name: web, organization: acme, project: shop }
spec:
  command: [node, http-app.mjs]
  workdir: app
  public: true
  healthCheck: { path: /health, startPeriod: 5 }
  env: { VERSION: ${version} }
`;

function mount(...args: string[]): void {
  execFileSync('mount', args, { stdio: 'ignore' });
}

async function configDir(t: Test): Promise<string> {
  const dir = tempDir(t, 'setopsd-e2e-fs-');
  await symlink(resolve(repoRoot, 'test/fixtures/local-apps'), join(dir, 'app'));
  await writeFile(join(dir, 'setops.yaml'), MANIFEST('v1'));
  return dir;
}

t.test('a read-only state directory', { skip: root ? false : 'needs root (mount)' }, async (t) => {
  const dir = await configDir(t);
  const state = join(dir, '.setopsd');
  await mkdir(state);
  mount('--bind', state, state);
  t.teardown(() => execFileSync('umount', [state]));
  mount('-o', 'remount,bind,ro', state);
  const r = await cli(['apply', dir, '--yes']);
  t.equal(r.code, 1);
  t.match(r.stdout + r.stderr, new RegExp(`cannot mkdir ${state}: ${state} is on a read-only file system; remount it read-write or use another state directory`));
  t.notMatch(r.stdout + r.stderr, /unexpected error|ENOENT|\n\s+at /);
});

t.test('a full disk under the state directory', { skip: root ? false : 'needs root (mount)' }, async (t) => {
  const dir = await configDir(t);
  const state = join(dir, '.setopsd');
  await mkdir(state);
  mount('-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', state);
  t.teardown(async () => {
    await cli(['destroy', 'dev', dir, '--yes', '--allow-data-loss']).catch(() => undefined);
    await killMentioning(dir);
    execFileSync('umount', ['-l', state]);
  });
  t.equal((await cli(['apply', dir, '--yes'])).code, 0);
  const before = await readFile(join(state, 'stages/acme/shop/dev/state.json'), 'utf8');
  await writeFile(join(dir, 'setops.yaml'), MANIFEST('v2'));
  const filler = join(state, 'filler');
  try {
    await writeFile(filler, Buffer.alloc(2 * 1024 * 1024));
  } catch {
    // full: that is the point
  }
  const r = await cli(['apply', dir, '--yes']);
  t.equal(r.code, 1);
  t.match(r.stdout + r.stderr, /cannot write \S+\/stages\/acme\/shop\/dev\/lock: the disk holding \S+ is full; free space/);
  t.notMatch(r.stdout + r.stderr, /unexpected error|\n\s+at /);
  t.equal(await readFile(join(state, 'stages/acme/shop/dev/state.json'), 'utf8'), before, 'nothing changed');
  execFileSync('rm', ['-f', filler]);
  t.equal((await cli(['apply', dir, '--yes'])).code, 0, 'with space again the apply goes through');
});

t.test('an immutable journal directory', { skip: root ? false : 'needs root (chattr)' }, async (t) => {
  const dir = await configDir(t);
  const journal = join(dir, '.setopsd/stages/acme/shop/dev/journal');
  t.teardown(async () => {
    execFileSync('chattr', ['-i', journal], { stdio: 'ignore' });
    await cli(['destroy', 'dev', dir, '--yes', '--allow-data-loss']).catch(() => undefined);
    await killMentioning(dir);
  });
  t.equal((await cli(['apply', dir, '--yes'])).code, 0);
  try {
    execFileSync('chattr', ['+i', journal], { stdio: 'ignore' });
  } catch {
    t.comment('this file system has no immutable attribute: not checked');
    return;
  }
  await writeFile(join(dir, 'setops.yaml'), MANIFEST('v2'));
  const r = await cli(['apply', dir, '--yes']);
  t.equal(r.code, 1);
  t.match(r.stdout, new RegExp(`not applied: stage acme/shop/dev: cannot open ${journal}/000002\\.json: the operation is not permitted on .*immutable or append-only\\? \`lsattr -d\` shows it, \`chattr -i\` removes it`));
  t.notMatch(r.stdout + r.stderr, /unexpected error|\n\s+at /);
});
