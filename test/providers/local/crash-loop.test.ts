import t from 'tap';
import { HTTP_APP, FAST_HEALTH, noChanges, setup } from './helpers.js';
import { app, stage } from '../../helpers/models.js';

// Health deadlines far beyond the test's timeout: a deployment that waited for them would time out.
const PATIENT = { ...FAST_HEALTH, startPeriod: 600 };

t.test('a new version that exits repeatedly before becoming healthy fails at once, with its last output', async (t) => {
  const { engine, io } = await setup(t);
  const v1 = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, env: { VERSION: 'v1' } }) } });
  t.equal((await engine.apply(v1, noChanges(), io())).status, 'succeeded');
  const canary = 'canary-secret-7f3a9c';
  const crashing = stage({
    name: 'dev',
    apps: { web: app({ ...HTTP_APP, command: ['node', '-e', 'console.log("loading config"); console.error("fatal: DATABASE_HOST is not set (token " + process.env.TOKEN + ")"); process.exit(3)'], env: { TOKEN: canary }, healthCheck: PATIENT }) },
  });
  const r = await engine.apply(crashing, noChanges(), io());
  t.equal(r.status, 'failed');
  t.equal(r.error?.code, 'E_UNHEALTHY');
  t.match(r.error?.message, /app\/web in acme\/shop\/dev: process 0 of the new version exited 3 times before becoming healthy \(last: exit code 3\); the previous version keeps serving/);
  t.match(r.error?.message, /Last output: .*fatal: DATABASE_HOST is not set/, 'the last lines of its output');
  t.notMatch(JSON.stringify({ message: r.error?.message, data: r.error?.data }), new RegExp(canary), 'env values (secrets among them) are masked');
  t.match(r.error?.message, /\(env TOKEN\)/);
});

t.test('a process that cannot start at all (an env value with a NUL byte) fails at once with the supervisor\'s reason', async (t) => {
  const { engine, io } = await setup(t);
  const bad = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, env: { MODE: 'a\u0000b-canary' }, healthCheck: PATIENT }) } });
  const r = await engine.apply(bad, noChanges(), io());
  t.equal(r.status, 'failed');
  t.match(r.error?.message, /process 0 of the new version could not start: .*MODE.*must be a string without null bytes/);
  t.notMatch(r.error?.message, /canary/, 'the value is not quoted');
  t.match(r.error?.message, /no previous version of the app was running/);
});
