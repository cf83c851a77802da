/**
 * The package as npm ships it: `npm pack` of a clean copy of the sources (prepack builds dist/),
 * the tarball installed into a fresh prefix, then `setopsd validate` and a local `apply` of the
 * bundled example from a directory outside the source tree, answered through the stage router.
 *
 * Tests reach no registry (network to 127.0.0.1 only), so the one thing npm would download —
 * the dependencies — is linked instead: the installed package gets a node_modules holding only
 * its declared `dependencies` (each a link into this checkout's node_modules), so it cannot
 * lean on a devDependency or on anything of the source tree; likewise the example app's `pg`.
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { killMentioning, repoRoot } from '../e2e/helpers.js';
import { tempDir } from '../helpers/temp.js';
import { waitFor } from '../helpers/wait.js';
import { get } from '../helpers/http.js';

const root = tempDir(t, 'setopsd-pack-');
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; version: string };

/** The environment of a user's shell: nothing of tap or tsx, no repository on the PATH. */
const env: Record<string, string> = {};
for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(NODE_OPTIONS|TAP|_TAP|npm_)/.test(k)) env[k] = v;
env.PATH = (process.env.PATH ?? '').split(':').filter((p) => !p.startsWith(repoRoot)).join(':');
env.NO_COLOR = '1';

function sh(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 240_000 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Runs the installed `setopsd` (its bin link in the prefix) without a terminal. */
function setopsd(args: string[], cwd: string, extra: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(join(root, 'prefix/bin/setopsd'), args, { cwd, env: { ...env, SETOPSD_CACHE_DIR: join(root, 'cache'), ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (err) => resolve({ code: null, stdout, stderr: stderr + String(err) }));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const work = join(root, 'work');
t.teardown(async () => {
  await setopsd(['destroy', 'acme/shop/staging', 'examples', '--yes', '--allow-data-loss'], work).catch(() => undefined);
  await killMentioning(work);
});

t.test('npm pack builds dist/ and ships what runs, not the tests', async (t) => {
  // A clean copy of the sources: no dist/, no state directories, no tests.
  const copy = join(root, 'src-copy');
  mkdirSync(copy);
  for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'README.md', 'bin', 'src', 'scripts', 'docs', 'examples']) {
    cpSync(join(repoRoot, f), join(copy, f), { recursive: true, filter: (p) => !/\/(\.setopsd|node_modules)(\/|$)/.test(p) });
  }
  symlinkSync(join(repoRoot, 'node_modules'), join(copy, 'node_modules'));
  const packed = sh('npm', ['pack', '--offline', '--pack-destination', root], copy);
  t.equal(packed.code, 0, packed.stderr);
  const tarball = join(root, `setopsd-${pkg.version}.tgz`);
  const list = sh('tar', ['tzf', tarball], root).stdout.split('\n');
  for (const f of ['package/bin/setopsd', 'package/bin/bootstrap.cjs', 'package/dist/setopsd.cjs', 'package/dist/cli/run.js', 'package/dist/providers/local/supervisor-main.js', 'package/examples/setops.yaml', 'package/examples/policies.yaml', 'package/examples/.setopsd.yaml', 'package/examples/ci/github-actions.yml', 'package/examples/app/package.json', 'package/src/schema/setops.schema.json']) {
    t.ok(list.includes(f), `ships ${f}`);
  }
  t.same(list.filter((f) => /^package\/(test|bench|\.ci)\//.test(f) || f.endsWith('.ts') || f.endsWith('.map')), [], 'no tests, benchmarks, sources or maps');

  // "npm install -g TARBALL" into a fresh prefix, dependencies linked (see the top of the file).
  const installed = join(root, 'prefix/lib/node_modules/setopsd');
  mkdirSync(installed, { recursive: true });
  t.equal(sh('tar', ['xzf', tarball, '--strip-components=1', '-C', installed], root).code, 0);
  for (const dep of Object.keys(pkg.dependencies)) {
    const link = join(installed, 'node_modules', dep);
    mkdirSync(dirname(link), { recursive: true }); // a scoped package (@scope/name) needs its scope directory
    symlinkSync(join(repoRoot, 'node_modules', dep), link);
  }
  mkdirSync(join(root, 'prefix/bin'));
  symlinkSync('../lib/node_modules/setopsd/bin/setopsd', join(root, 'prefix/bin/setopsd'));

  const version = await setopsd(['--version'], root);
  t.equal(version.stdout, `setopsd ${pkg.version}\n`, version.stderr);
});

t.test('the installed package validates and applies its example outside the source tree', async (t) => {
  const installed = join(root, 'prefix/lib/node_modules/setopsd');
  mkdirSync(work);
  cpSync(join(installed, 'examples'), join(work, 'examples'), { recursive: true });
  t.same(readdirSync(join(work, 'examples/app')).sort(), ['package.json', 'server.js', 'worker.js'], 'the example app is self-contained');
  // The quick start's `npm install` in examples/app, with the one dependency it declares linked.
  const appPkg = JSON.parse(readFileSync(join(work, 'examples/app/package.json'), 'utf8')) as { dependencies: Record<string, string> };
  mkdirSync(join(work, 'examples/app/node_modules'));
  for (const dep of Object.keys(appPkg.dependencies)) symlinkSync(join(repoRoot, 'node_modules', dep), join(work, 'examples/app/node_modules', dep));

  // The installed CLI runs from its bundle (dist/setopsd.cjs) through the V8 code cache the first run (--version) wrote.
  const cached = readdirSync(join(root, 'cache/v8'));
  t.equal(cached.length, 1, 'one code cache');
  t.equal(statSync(join(root, 'cache/v8', cached[0]!)).mode & 0o777, 0o600, 'private to this user');
  const valid = await setopsd(['validate', 'examples'], work, { SETOPSD_BOOT_TRACE: '1' });
  t.equal(valid.code, 0, valid.stderr);
  t.match(valid.stdout, /^valid: 2 organizations?, /);
  t.equal(valid.stderr, 'setopsd boot: bundle, code cache used\n');
  const uncached = await setopsd(['validate', 'examples'], work, { SETOPSD_BOOT_TRACE: '1', SETOPSD_CACHE_DIR: 'off' });
  t.equal(uncached.stdout, valid.stdout, 'the same answer without the cache');
  t.equal(uncached.stderr, 'setopsd boot: bundle, code cache off\n');

  const applied = await setopsd(['apply', 'examples', '--stage', 'acme/shop/staging', '--yes'], work);
  t.equal(applied.code, 0, applied.stdout + applied.stderr);
  t.match(applied.stdout, /apply: 1 succeeded, 0 unchanged, 0 failed, 0 skipped\n$/);
  const status = await setopsd(['status', 'examples', '--stage', 'acme/shop/staging', '--format', 'json'], work);
  const port = (JSON.parse(status.stdout) as { stages: { runtime: { router: { port: number } } }[] }).stages[0]!.runtime.router.port;
  const res = await waitFor('a 200 from web through the router', async () => {
    const r = await get(port, '/', { host: 'web.staging.shop.localhost' });
    return r.status === 200 ? r : undefined;
  }, { timeoutMs: 30_000 });
  t.match(JSON.parse(res.body), { app: 'web', database: 'database', visits: 1 });
});
