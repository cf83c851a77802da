/**
 * A first apply killed before it finished leaves a supervisor and an embedded PostgreSQL but no
 * recorded state: `destroy --allow-data-loss` still finds them (through the journal's model of
 * the attempted apply) and stops everything, data and credentials included.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { cli, killMentioning, processesMentioning, repoRoot, startCli } from './helpers.js';
import { tempDir } from '../helpers/temp.js';
import { waitFor } from '../helpers/wait.js';

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
kind: Service
metadata: { name: main-db, organization: acme, project: shop }
spec: { type: postgresql }
---
apiVersion: setopsd/v1
kind: App
metadata: { name: web, organization: acme, project: shop }
spec:
  command: [node, http-app.mjs]
  workdir: app
  public: true
  healthCheck: { path: /health, startPeriod: 60 }
  env: { SLOW_START_MS: "60000" }
  links: [ { service: main-db } ]
`;

t.test('destroy after a killed first apply stops the supervisor and PostgreSQL and removes their data', async (t) => {
  const dir = tempDir(t, 'setopsd-e2e-first-');
  t.teardown(() => killMentioning(dir));
  await symlink(resolve(repoRoot, 'test/fixtures/local-apps'), join(dir, 'app'));
  await writeFile(join(dir, 'setops.yaml'), MANIFEST);
  const stageDir = join(dir, '.setopsd/stages/acme/shop/dev');
  const { child, done } = startCli(['apply', dir, '--yes']);
  await waitFor('the app starting (PostgreSQL is up)', async () => existsSync(join(stageDir, 'logs/web.0.log')), { timeoutMs: 60_000 });
  child.kill('SIGKILL');
  await done;
  t.ok((await processesMentioning(dir)).length > 0, 'the killed apply left processes running');
  t.ok(existsSync(join(stageDir, 'local/credentials.json')));

  const r = await cli(['destroy', 'dev', dir, '--yes', '--allow-data-loss']);
  t.equal(r.code, 0, r.stdout + r.stderr);
  t.notMatch(r.stdout, /nothing to destroy/);
  await waitFor('every process of the stage gone', async () => (await processesMentioning(dir)).length === 0, { timeoutMs: 30_000 });
  t.notOk(existsSync(join(stageDir, 'local/credentials.json')), 'credentials removed');
  t.notOk(existsSync(join(stageDir, 'local/postgres')), 'the cluster removed');
  const again = await cli(['destroy', 'dev', dir, '--yes', '--allow-data-loss']);
  t.match(again.stdout, /not deployed; nothing to destroy/, 'and then there is nothing left to destroy');
});

t.test('a first apply whose app crash-loops fails fast, leaves nothing running, and prints no JSON log line', async (t) => {
  const dir = tempDir(t, 'setopsd-e2e-first-');
  t.teardown(() => killMentioning(dir));
  await symlink(resolve(repoRoot, 'test/fixtures/local-apps'), join(dir, 'app'));
  const crashing = MANIFEST.replace(/---\napiVersion: setopsd\/v1\nkind: Service[\s\S]*?---\n/, '---\n')
    .replace('command: [node, http-app.mjs]', 'command: [node, -e, "console.error(\'boom: no config\'); process.exit(4)"]')
    .replace('  links: [ { service: main-db } ]\n', '');
  await writeFile(join(dir, 'setops.yaml'), crashing);
  const r = await cli(['apply', dir, '--yes']);
  t.equal(r.code, 1, r.stdout + r.stderr);
  t.match(r.stdout, /app\/web in acme\/shop\/dev: process 0 of the new version exited 3 times before becoming healthy \(last: exit code 4\); no previous version of the app was running\. Last output: boom: no config/);
  t.match(r.stdout, /nothing was deployed before, so everything this apply started was stopped/);
  t.notMatch(r.stdout + r.stderr, /^\{"level"/m, 'no pino JSON line in the human output');
  t.same(await processesMentioning(dir), [], 'nothing left running');
});
