/**
 * `setopsd redeploy` on an AWS stage: after the update of the unchanged model, each app to
 * restart gets a forced new ECS deployment — the real ECS client against a fake ECS endpoint on
 * 127.0.0.1 — and a refusal by ECS fails the deployment with its code.
 */
import t, { type Test } from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { app, stage } from '../../../helpers/models.js';
import { DUMMY_CREDENTIALS, fakeAws } from './fake-aws.js';
import { checkpointText, fakeStack, org, stackOutputs } from './fake-stack.js';

const model = stage({ name: 'production', organization: org, apps: { web: app({ image: 'web:1.0.0' }), worker: app({ image: 'worker:1.0.0' }) } });

async function setup(t: Test, answer: Parameters<typeof fakeAws>[1]) {
  const aws = await fakeAws(t, answer);
  const s = await fakeStack(t, { env: { AWS_ENDPOINT_URL_ECS: aws.url, AWS_ACCESS_KEY_ID: DUMMY_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: DUMMY_CREDENTIALS.secretAccessKey } });
  mkdirSync(dirname(s.checkpoint), { recursive: true });
  const text = checkpointText(stackOutputs(model, { web: {}, worker: {} }));
  writeFileSync(s.checkpoint, text);
  s.script([{ when: 'up', writes: [{ path: s.checkpoint, text }] }]);
  return { ...s, aws };
}

t.test('redeploy web: one forced new ECS deployment of service web in the stage cluster, after the update', async (t) => {
  const s = await setup(t, () => ({ body: { service: { serviceName: 'web' } } }));
  const result = await s.engine.apply(model, { ref: { organization: 'acme', project: 'shop', stage: 'production' }, changes: [] }, { ...s.io(), restart: ['web'] });
  t.equal(result.status, 'succeeded', result.error?.message ?? 'succeeded');
  t.same(
    s.aws.requests.map((r) => [r.target, r.body]),
    [['AmazonEC2ContainerServiceV20141113.UpdateService', { cluster: 'acme-shop-production', service: 'web', forceNewDeployment: true }]],
  );
  t.match(s.progress.filter((p) => p.subject === 'app/web').map((p) => `${p.status} ${p.message}`), ['started starting a new ECS deployment', 'succeeded new ECS deployment started (same task definition)']);
  t.match(s.aws.requests[0]!.authorization, /^AWS4-HMAC-SHA256 Credential=AKIDTESTONLY\//, 'signed by the real SDK');
});

t.test('ECS refuses: the deployment fails with E_AWS_ECS and says what to check', async (t) => {
  const s = await setup(t, () => ({ status: 400, body: { __type: 'AccessDeniedException', message: 'not allowed' } }));
  const result = await s.engine.apply(model, { ref: { organization: 'acme', project: 'shop', stage: 'production' }, changes: [] }, { ...s.io(), restart: ['web', 'worker'] });
  t.equal(result.status, 'failed');
  t.match(result.error, { code: 'E_AWS_ECS', message: /app\/web in acme\/shop\/production: ECS UpdateService failed: AccessDeniedException.*ecs:UpdateService/ });
  t.equal(s.aws.requests.length, 1, 'stops at the first refusal');
});

t.test('without restart nothing is called', async (t) => {
  const s = await setup(t, () => ({ body: {} }));
  const result = await s.engine.apply(model, { ref: { organization: 'acme', project: 'shop', stage: 'production' }, changes: [] }, s.io());
  t.equal(result.status, 'succeeded', result.error?.message ?? 'succeeded');
  t.same(s.aws.requests, []);
});
