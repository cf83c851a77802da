/**
 * The stage's SSM parameters are checked before anything changes: the names come from the model
 * alone (the same function the program exports them with), the real checker asks SSM
 * GetParameters in batches of 10 without decryption, and a missing one fails the apply before
 * `pulumi up` with the command that creates it.
 */
import t from 'tap';
import { createSsmParameterChecker } from '../../../../src/providers/aws/engine/ssm-parameters.js';
import { secretParameters } from '../../../../src/providers/aws/program/secret-parameters.js';
import { DUMMY_CREDENTIALS, fakeAws } from './fake-aws.js';
import { app, stage } from '../../../helpers/models.js';
import { fakeStack, org, ref, words } from './fake-stack.js';

const desired = stage({
  name: ref.stage,
  organization: org,
  apps: {
    web: app({ env: { STRIPE_KEY: { secret: 'STRIPE_KEY' }, MODE: 'live', SHARED: { secret: 'SHARED_TOKEN' } } }),
    worker: app({ env: { TOKEN: { secret: 'SHARED_TOKEN' } } }),
  },
});

t.test('secretParameters: every {secret} env value with its app, key and parameter name, from the model alone', async (t) => {
  t.same(secretParameters(desired), [
    { app: 'web', key: 'SHARED', secret: 'SHARED_TOKEN', parameter: '/setops/acme/shop/production/SHARED_TOKEN' },
    { app: 'worker', key: 'TOKEN', secret: 'SHARED_TOKEN', parameter: '/setops/acme/shop/production/SHARED_TOKEN' },
    { app: 'web', key: 'STRIPE_KEY', secret: 'STRIPE_KEY', parameter: '/setops/acme/shop/production/STRIPE_KEY' },
  ]);
  t.same(secretParameters(stage({ name: ref.stage, organization: org, apps: { web: app() } })), []);
});

t.test('the real checker: GetParameters in batches of 10, names only, InvalidParameters are the missing ones', async (t) => {
  const names = Array.from({ length: 23 }, (_, i) => `/setops/acme/shop/production/S${String(i).padStart(2, '0')}`);
  const absent = new Set([names[3], names[15], names[22]]);
  const aws = await fakeAws(t, (req) => {
    const asked = req.body.Names as string[];
    return {
      body: {
        Parameters: asked.filter((n) => !absent.has(n)).map((n) => ({ Name: n, Type: 'SecureString', Value: 'AQICAHENCRYPTED-VALUE-MARKER', Version: 1 })),
        InvalidParameters: asked.filter((n) => absent.has(n)),
      },
    };
  });
  const checker = createSsmParameterChecker({ client: { region: 'eu-central-1', endpoint: aws.url, credentials: DUMMY_CREDENTIALS, maxAttempts: 1 } });
  const missing = await checker.missing([...names].reverse(), 'stage acme/shop/production', new AbortController().signal);
  t.same(missing, [names[15], names[22], names[3]].sort());
  t.same(aws.requests.map((r) => r.target), ['AmazonSSM.GetParameters', 'AmazonSSM.GetParameters', 'AmazonSSM.GetParameters']);
  t.same(aws.requests.map((r) => (r.body.Names as string[]).length), [10, 10, 3]);
  t.ok(aws.requests.every((r) => r.body.WithDecryption === false), 'never decrypted');
  t.notMatch(JSON.stringify(missing), /MARKER/);

  const denied = await fakeAws(t, () => ({ status: 400, body: { __type: 'AccessDeniedException', message: 'not authorized to perform: ssm:GetParameters' } }));
  const failing = createSsmParameterChecker({ client: { region: 'eu-central-1', endpoint: denied.url, credentials: DUMMY_CREDENTIALS, maxAttempts: 1 } });
  await t.rejects(failing.missing(['/x'], 'stage acme/shop/production', new AbortController().signal), {
    name: 'EngineError',
    code: 'E_AWS_SSM',
    message: /^stage acme\/shop\/production: cannot check that the stage's SSM parameters exist: AccessDeniedException: not authorized to perform: ssm:GetParameters; check the AWS credentials/,
  });
});

t.test('a missing parameter fails the apply before pulumi up, naming app, env key, parameter and the command', async (t) => {
  const asked: string[][] = [];
  const s = await fakeStack(t, {
    engine: {
      parameterChecker: {
        async missing(names) {
          asked.push([...names]);
          return ['/setops/acme/shop/production/STRIPE_KEY'];
        },
      },
    },
  });
  s.script([{ when: 'up' }]);
  const result = await s.engine.apply(desired, { ref, changes: [] }, s.io());
  t.equal(result.status, 'failed');
  t.same(asked, [['/setops/acme/shop/production/SHARED_TOKEN', '/setops/acme/shop/production/STRIPE_KEY']], 'each name once');
  t.match(result.error, { name: 'EngineError', code: 'E_AWS_SECRET_MISSING' });
  t.equal(
    result.error?.message,
    'app/web in acme/shop/production: an SSM parameter does not exist (env STRIPE_KEY reads /setops/acme/shop/production/STRIPE_KEY); nothing was changed. ' +
      "Create it with `aws ssm put-parameter --type SecureString --name /setops/acme/shop/production/STRIPE_KEY --value '<value>' --region eu-central-1`, then apply again",
  );
  t.same(s.calls().map(words), [], 'no Pulumi command ran');
});

t.test('missing parameters of several apps are all named; present ones let the update run', async (t) => {
  const s = await fakeStack(t, { engine: { parameterChecker: { missing: async (names) => names.filter((n) => n.endsWith('SHARED_TOKEN')) } } });
  s.script([{ when: 'up' }]);
  const result = await s.engine.apply(desired, { ref, changes: [] }, s.io());
  t.equal(
    result.error?.message,
    'stage acme/shop/production: an SSM parameter does not exist (app/web env SHARED reads /setops/acme/shop/production/SHARED_TOKEN; app/worker env TOKEN reads /setops/acme/shop/production/SHARED_TOKEN); nothing was changed. ' +
      "Create it with `aws ssm put-parameter --type SecureString --name /setops/acme/shop/production/SHARED_TOKEN --value '<value>' --region eu-central-1`, then apply again",
  );
  t.same(result.error?.data.missing, [
    { app: 'web', key: 'SHARED', parameter: '/setops/acme/shop/production/SHARED_TOKEN' },
    { app: 'worker', key: 'TOKEN', parameter: '/setops/acme/shop/production/SHARED_TOKEN' },
  ]);

  const ok = await fakeStack(t, { engine: { parameterChecker: { missing: async () => [] } } });
  ok.script([{ when: 'up' }]);
  const done = await ok.engine.apply(desired, { ref, changes: [] }, ok.io());
  t.equal(done.status, 'succeeded', done.error?.message ?? 'succeeded');
  t.ok(ok.calls().some((c) => words(c) === 'up'));
});
