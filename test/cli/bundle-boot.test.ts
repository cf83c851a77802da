/**
 * How the built CLI starts (bin/bootstrap.cjs): from the bundle (dist/setopsd.cjs) through a V8
 * code cache in the user's cache directory — written by the first run, used by the next, refused
 * by V8 when it is garbage, ignored when others could have written it — and from the ES modules
 * when the bundle is older than them. Both ways answer the same. Runs a copy of the built
 * package (bin/, dist/, package.json), so nothing here touches the checkout's own build.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, readdirSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../e2e/helpers.js';
import { tempDir } from '../helpers/temp.js';

const built = existsSync(join(repoRoot, 'dist/setopsd.cjs')) && existsSync(join(repoRoot, 'dist/cli/run.js'));
if (!built) t.fail('dist/setopsd.cjs or dist/cli/run.js is missing: run `npm run build` (npm ci does)');

const root = tempDir(t, 'setopsd-boot-');
const pkg = join(root, 'pkg');
if (built) {
  for (const f of ['bin', 'dist', 'package.json']) cpSync(join(repoRoot, f), join(pkg, f), { recursive: true, preserveTimestamps: true });
  symlinkSync(join(repoRoot, 'node_modules'), join(pkg, 'node_modules'));
}
const cache = join(root, 'cache');
const invalid = join(root, 'invalid');
writeFileSync(join(root, 'invalid.yaml'), 'apiVersion: setopsd/v1\nkind: App\nmetadata: { name: web, project: shop }\nspec: { command: x, nosuch: 1 }\n');

function setopsd(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(pkg, 'bin/setopsd'), ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', NO_COLOR: '1', SETOPSD_CACHE_DIR: cache, SETOPSD_BOOT_TRACE: '1', ...env } });
  const [boot, ...rest] = r.stderr.split('\n');
  return { code: r.status, stdout: r.stdout, boot: boot ?? '', stderr: rest.join('\n') };
}
const entries = () => readdirSync(join(cache, 'v8'));

t.test('the first run writes the code cache, the next uses it, garbage is refused and replaced', { skip: !built }, async (t) => {
  const first = setopsd(['validate', join(repoRoot, 'examples')]);
  t.equal(first.code, 0, first.stderr);
  t.equal(first.boot, 'setopsd boot: bundle, code cache none');
  t.equal(entries().length, 1);
  t.equal(statSync(join(cache, 'v8')).mode & 0o777, 0o700);
  t.equal(statSync(join(cache, 'v8', entries()[0]!)).mode & 0o777, 0o600);

  const second = setopsd(['validate', join(repoRoot, 'examples')]);
  t.equal(second.boot, 'setopsd boot: bundle, code cache used');
  t.equal(second.stdout, first.stdout);

  writeFileSync(join(cache, 'v8', entries()[0]!), 'not a code cache');
  const garbage = setopsd(['validate', join(repoRoot, 'examples')]);
  t.equal(garbage.code, 0, garbage.stderr);
  t.equal(garbage.boot, 'setopsd boot: bundle, code cache rejected');
  t.equal(setopsd(['--version']).boot, 'setopsd boot: bundle, code cache used', 'rewritten by the run that refused it');
});

t.test('a cache others can write is not used', { skip: !built }, async (t) => {
  chmodSync(join(cache, 'v8', entries()[0]!), 0o666);
  t.equal(setopsd(['--version']).boot, 'setopsd boot: bundle, code cache none');
  t.equal(statSync(join(cache, 'v8', entries()[0]!)).mode & 0o777, 0o600, 'replaced by a private one');
  chmodSync(join(cache, 'v8'), 0o777);
  t.equal(setopsd(['--version']).boot, 'setopsd boot: bundle, code cache none', 'nor one in a directory others can write');
  chmodSync(join(cache, 'v8'), 0o700);
});

t.test('bundle and ES modules answer the same; a bundle older than the modules is not used', { skip: !built }, async (t) => {
  const cases = [['--version'], ['help', 'plan'], ['validate', invalid + '.yaml'], ['validate', join(repoRoot, 'examples'), '--format', 'json']];
  const viaBundle = cases.map((args) => setopsd(args));
  for (const r of viaBundle) t.equal(r.boot, 'setopsd boot: bundle, code cache used');
  t.equal(viaBundle[2]!.code, 1);
  t.match(viaBundle[2]!.stderr, /invalid\.yaml:4:\d+/, 'the manifest error is located');

  const old = new Date(statSync(join(pkg, 'dist/cli/run.js')).mtimeMs - 60_000);
  utimesSync(join(pkg, 'dist/setopsd.cjs'), old, old);
  const viaModules = cases.map((args) => setopsd(args));
  t.equal(viaModules[0]!.boot, 'setopsd boot: ES modules (dist/setopsd.cjs is older than dist/cli/run.js: run npm run build)');
  cases.forEach((args, i) => {
    t.equal(viaModules[i]!.code, viaBundle[i]!.code, args.join(' '));
    t.equal(viaModules[i]!.stdout, viaBundle[i]!.stdout, args.join(' '));
    t.equal(viaModules[i]!.stderr, viaBundle[i]!.stderr, args.join(' '));
  });
});
