/**
 * A rotated secret value is rolled out: `plan --secrets FILE` shows the env entry whose secret
 * value changed (compared by a keyed digest, never by value), and `apply` replaces the processes
 * blue/green. No value reaches the plan, the state files or the journal.
 */
import t from 'tap';
import { chmod, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { cli, killMentioning, repoRoot } from './helpers.js';
import { tempDir } from '../helpers/temp.js';
import { get } from '../helpers/http.js';

const MANIFEST = `apiVersion: setopsd/v1
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
  env: { API_TOKEN: { secret: API_TOKEN }, VERSION: v1 }
`;

/** Every file under `dir`, as text. */
async function allText(dir: string): Promise<string> {
  let out = '';
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && !e.name.endsWith('.key')) out += await readFile(join(e.parentPath, e.name), 'utf8').catch(() => '');
  }
  return out;
}

t.test('a rotated secret value shows in plan and is rolled out by apply', async (t) => {
  const dir = tempDir(t, 'setopsd-e2e-secrets-');
  const secrets = join(tempDir(t, 'setopsd-secrets-'), 'secrets.env');
  t.teardown(async () => {
    await cli(['destroy', 'dev', dir, '--yes', '--allow-data-loss']).catch(() => undefined);
    await killMentioning(dir);
  });
  await symlink(resolve(repoRoot, 'test/fixtures/local-apps'), join(dir, 'app'));
  await writeFile(join(dir, 'setops.yaml'), MANIFEST);
  const first = 'canary-first-0c4e1b';
  const second = 'canary-second-9d2f7a';
  await writeFile(secrets, `API_TOKEN=${first}\n`);
  await chmod(secrets, 0o600);

  const applied = await cli(['apply', dir, '--yes', '--secrets', secrets]);
  t.equal(applied.code, 0, applied.stdout + applied.stderr);
  const status = JSON.parse((await cli(['status', dir, '--format', 'json'])).stdout).stages[0];
  const port = status.runtime.router.port as number;
  const token = async () => (await get(port, '/env?key=API_TOKEN', { host: 'web.dev.shop.localhost' })).body;
  t.match(await token(), first);
  t.equal((await cli(['plan', '--detailed-exitcode', dir, '--secrets', secrets])).code, 0, 'in sync with the same value');

  await writeFile(secrets, `API_TOKEN=${second}\n`);
  const plan = await cli(['plan', '--detailed-exitcode', dir, '--secrets', secrets]);
  t.equal(plan.code, 2, 'the rotation is a change');
  t.match(plan.stdout, /~ app\/web env\.API_TOKEN: \(secret API_TOKEN\) → \(secret API_TOKEN\) \(value changed\)/);
  const json = await cli(['plan', '--detailed-exitcode', dir, '--secrets', secrets, '--format', 'json']);
  t.notMatch(plan.stdout + json.stdout + plan.stderr, /canary-/, 'no value in the plan');

  const rolled = await cli(['apply', dir, '--yes', '--secrets', secrets]);
  t.equal(rolled.code, 0, rolled.stdout + rolled.stderr);
  t.match(rolled.stdout, /app\/web env\.API_TOKEN updated/);
  t.match(await token(), second, 'the processes run the new value');
  t.equal((await cli(['plan', '--detailed-exitcode', dir, '--secrets', secrets])).code, 0, 'in sync afterwards');
  const stored = await allText(join(dir, '.setopsd/stages/acme/shop/dev'));
  t.match(stored, /hmac-sha256:[0-9a-f]{64}/, 'a digest is recorded');
  t.notMatch((await readFile(join(dir, '.setopsd/stages/acme/shop/dev/state.json'), 'utf8')) + (await allText(join(dir, '.setopsd/stages/acme/shop/dev/journal'))), /canary-/, 'never a value in state.json or the journal');
});
