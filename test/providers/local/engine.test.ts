import t from 'tap';
import { writeFile, chmod, appendFile, stat, symlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { connect } from 'node:net';
import { HTTP_APP, REF, noChanges, setup } from './helpers.js';
import { app, service, stage } from '../../helpers/models.js';
import { createSecretResolver } from '../../../src/providers/local/secrets.js';
import { localPaths } from '../../../src/providers/local/paths.js';
import { tempDir } from '../../helpers/temp.js';
import { waitFor } from '../../helpers/wait.js';
import { get } from '../../helpers/http.js';

t.test('secrets: a 0600 file (YAML or dotenv) or the environment; errors name the secret, never a value', async (t) => {
  const dir = tempDir(t, 'setopsd-secrets-');
  const yamlFile = join(dir, 'secrets.yaml');
  await writeFile(yamlFile, 'API_KEY: s3cr3t-yaml\nPORT_NUMBER: 42\n', { mode: 0o600 });
  const envFile = join(dir, 'secrets.env');
  await writeFile(envFile, '# comment\nAPI_KEY=s3cr3t-env\nexport QUOTED="a b\\nc"\n', { mode: 0o600 });

  t.equal(await createSecretResolver({ file: yamlFile, env: {} }).get('API_KEY'), 's3cr3t-yaml');
  t.equal(await createSecretResolver({ file: yamlFile, env: {} }).get('PORT_NUMBER'), '42');
  t.equal(await createSecretResolver({ file: envFile, env: {} }).get('API_KEY'), 's3cr3t-env');
  t.equal(await createSecretResolver({ file: envFile, env: {} }).get('QUOTED'), 'a b\nc');
  t.equal(await createSecretResolver({ envPrefix: 'SETOPS_SECRET_', env: { SETOPS_SECRET_TOKEN: 'from-env' } }).get('TOKEN'), 'from-env');
  t.equal(await createSecretResolver({ file: yamlFile, envPrefix: '', env: { API_KEY: 'env-loses' } }).get('API_KEY'), 's3cr3t-yaml', 'the file wins');

  const missing = createSecretResolver({ file: yamlFile, envPrefix: 'S_', env: {} }).get('NOPE');
  await t.rejects(missing, { code: 'E_SECRET_MISSING', message: `secret NOPE is not set: add it to the secrets file ${yamlFile} or the environment variable S_NOPE` });

  await chmod(yamlFile, 0o644);
  const open = createSecretResolver({ file: yamlFile, env: {} }).get('API_KEY');
  await t.rejects(open, { code: 'E_SECRETS_MODE', message: `secrets file ${yamlFile} is accessible by other users (mode 644); run chmod 600 ${yamlFile}` });

  const broken = join(dir, 'broken.yaml');
  await writeFile(broken, 'API_KEY: [s3cr3t-broken\n', { mode: 0o600 });
  const err = await createSecretResolver({ file: broken, env: {} }).get('API_KEY').catch((e: Error) => e);
  t.match(err, { message: /not a YAML mapping nor dotenv/ });
  t.notOk(String((err as Error).message).includes('s3cr3t'), 'a syntax error never quotes the file');
});

t.test('a stage the local engine cannot run fails before anything starts, naming every problem', async (t) => {
  const { engine, io, stateDir } = await setup(t);
  const secrets = createSecretResolver({ envPrefix: 'X_', env: { X_TOKEN: 'tok-value' } });
  const bad = stage({
    name: 'dev',
    apps: {
      web: app({ ...HTTP_APP, env: { TOKEN: { secret: 'TOKEN' }, OTHER: { secret: 'MISSING' } }, links: { a: {}, b: {} } }),
      img: app({ ...HTTP_APP, command: undefined }),
      lost: app({ ...HTTP_APP, workdir: 'no-such-dir' }),
    },
    services: { a: service('postgresql'), b: service('postgresql'), search: service('elasticsearch') },
  });
  const result = await engine.apply(bad, noChanges(), io({ secrets }));
  t.equal(result.status, 'failed');
  t.equal(result.error?.code, 'E_LOCAL_INVALID');
  const msg = result.error!.message;
  t.match(msg, /service\/search in acme\/shop\/dev: the local engine cannot run elasticsearch services/);
  t.match(msg, /app\/img in acme\/shop\/dev: no command to run/);
  t.match(msg, /app\/lost in acme\/shop\/dev: workdir no-such-dir is not a directory \(.*\/no-such-dir\); workdir is relative to the config directory /);
  t.match(msg, /app\/web in acme\/shop\/dev: links a, b are all postgresql and would all set DATABASE_URL; set envKey on all but one of them/);
  t.match(msg, /app\/web in acme\/shop\/dev: env OTHER: secret MISSING is not set/);
  t.notOk(msg.includes('tok-value'), 'no secret value in the message');
  t.equal(result.actual.model, null);
  await t.rejects(stat(localPaths(stateDir, REF).supervisorFile), 'no supervisor was started');
});

t.test('secrets reach the app env; a tcp app is checked by TCP connect; logs follow new lines', async (t) => {
  const { engine, io, stateDir } = await setup(t);
  const secrets = createSecretResolver({ envPrefix: 'X_', env: { X_TOKEN: 'tok-value' } });
  const desired = stage({
    name: 'dev',
    apps: {
      web: app({ ...HTTP_APP, env: { TOKEN: { secret: 'TOKEN' } } }),
      echo: app({ ...HTTP_APP, command: 'exec node tcp-app.mjs', protocol: 'tcp', public: false, healthCheck: { path: '/', status: '200-499', interval: 0.2, timeout: 1, retries: 3, startPeriod: 3 } }),
    },
  });
  const result = await engine.apply(desired, noChanges(), io({ secrets }));
  t.equal(result.status, 'succeeded', result.error?.message ?? '');
  t.notOk(JSON.stringify(await engine.read(REF)).includes('tok-value'), 'the recorded model keeps the secret reference only');
  const s = (await engine.status!(REF))!;
  t.equal((await get(s.router!.port, '/env?key=TOKEN', { host: 'web.dev.shop.localhost' })).body, 'tok-value');
  t.equal(s.apps.echo!.url, undefined, 'a private app has no router URL');
  t.equal((await get(s.router!.port, '/', { host: 'echo.dev.shop.localhost' })).status, 404, 'private apps are not routed');
  const echoPort = s.apps.echo!.processes[0]!.port;
  const echoed = await new Promise<string>((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port: echoPort }, () => sock.end('ping'));
    let got = '';
    sock.on('data', (d) => (got += d.toString()));
    sock.on('end', () => resolve(got));
    sock.on('error', reject);
  });
  t.equal(echoed, 'ping');

  const ctrl = new AbortController();
  let out = '';
  const following = engine.logs!(REF, 'web', { lines: 1, follow: true, signal: ctrl.signal, write: (x) => (out += x) });
  await waitFor('the last line', () => out.includes('listening on'), { timeoutMs: 10_000 });
  await appendFile(join(localPaths(stateDir, REF).logsDir, 'web.0.log'), 'a new line\n');
  await waitFor('the followed line', () => /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z web\.0: a new line\n/.test(out), { timeoutMs: 10_000 });
  ctrl.abort();
  await following;
  t.pass('follow ends when the signal aborts');
  await t.rejects(engine.logs!(REF, 'nope', { lines: 5, follow: false, signal: ctrl.signal, write: () => {} }), {
    code: 'E_NO_APP',
    message: 'app/nope in acme/shop/dev: no such app (apps: echo, web)',
  });
});

t.test('a missing redis-server and a taken router port fail with clear messages', async (t) => {
  const { engine, io } = await setup(t);
  // A PATH with node but without redis-server (inherited by the supervisor it starts).
  const bin = tempDir(t, 'setopsd-path-');
  await symlink(process.execPath, join(bin, 'node'));
  const path = process.env.PATH;
  process.env.PATH = bin;
  t.teardown(() => {
    process.env.PATH = path;
  });
  const r = await engine.apply(stage({ name: 'dev', apps: { web: app(HTTP_APP) }, services: { cache: service('redis') } }), noChanges(), io());
  t.equal(r.status, 'failed');
  t.equal(r.error?.code, 'E_MISSING_BINARY');
  t.equal(r.error?.message, 'service/cache in acme/shop/dev: redis-server was not found on the PATH; install Redis (e.g. apt-get install redis-server) or remove the redis service; nothing was deployed before, so everything this apply started was stopped');
  process.env.PATH = path;

  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.teardown(() => void blocker.close());
  const taken = (blocker.address() as { port: number }).port;
  const other = await setup(t, { routerPort: taken });
  const r2 = await other.engine.apply(stage({ name: 'dev', apps: { web: app(HTTP_APP) } }), noChanges(), other.io());
  t.equal(r2.status, 'failed');
  t.match(r2.error?.message, new RegExp(`^stage acme/shop/dev: the local stage supervisor exited at start: listen EADDRINUSE: address already in use 127\\.0\\.0\\.1:${taken}; see `));
});
