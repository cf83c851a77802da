/**
 * The real TaskRunner (`@aws-sdk/client-ecs`) against a fake ECS JSON endpoint on 127.0.0.1:
 * the SDK builds and signs real RunTask / DescribeTasks requests; the server answers them.
 */
import t, { type Test } from 'tap';
import { createEcsTaskRunner, type TaskRunInput } from '../../../../src/providers/aws/engine/ecs-tasks.js';
import { DUMMY_CREDENTIALS, fakeAws, type AwsAnswer, type AwsRequest } from './fake-aws.js';

async function fakeEcs(t: Test, answer: (req: AwsRequest, n: number) => AwsAnswer) {
  const { url, requests } = await fakeAws(t, answer);
  const sleeps: number[] = [];
  const runner = createEcsTaskRunner({
    region: 'eu-central-1',
    client: { endpoint: url, credentials: DUMMY_CREDENTIALS, maxAttempts: 1 },
    sleep: async (ms, signal) => {
      sleeps.push(ms);
      if (signal?.aborted) throw new Error('aborted');
    },
    pollMs: 5000,
  });
  return { runner, requests, sleeps };
}

const input: TaskRunInput = {
  subject: 'app/web in acme/shop/production',
  cluster: 'acme-shop-production',
  taskDefinition: 'arn:aws:ecs:eu-central-1:123456789012:task-definition/acme-shop-production-web-predeploy:7',
  container: 'web',
  subnets: ['subnet-a', 'subnet-b'],
  securityGroups: ['sg-web'],
  assignPublicIp: false,
  logStreamPrefix: 'predeploy',
};
const taskArn = 'arn:aws:ecs:eu-central-1:123456789012:task/acme-shop-production/0f1e2d3c';
const task = (lastStatus: string, extra: Record<string, unknown> = {}) => ({ tasks: [{ taskArn, lastStatus, ...extra }], failures: [] });

t.test('RunTask on Fargate in the stage network, then DescribeTasks until it stopped', async (t) => {
  const ecs = await fakeEcs(t, (req, n) => {
    if (req.target.endsWith('.RunTask')) return { body: task('PROVISIONING') };
    return { body: n < 4 ? task('RUNNING') : task('STOPPED', { stoppedReason: 'Essential container in task exited', containers: [{ name: 'sidecar', exitCode: 0 }, { name: 'web', exitCode: 0 }] }) };
  });
  const result = await ecs.runner.run(input, new AbortController().signal);
  t.same(result, { exitCode: 0, reason: 'Essential container in task exited', taskArn, logStream: 'predeploy/web/0f1e2d3c' });
  t.same(ecs.requests.map((r) => r.target), [
    'AmazonEC2ContainerServiceV20141113.RunTask',
    'AmazonEC2ContainerServiceV20141113.DescribeTasks',
    'AmazonEC2ContainerServiceV20141113.DescribeTasks',
    'AmazonEC2ContainerServiceV20141113.DescribeTasks',
  ]);
  const { clientToken, ...run } = ecs.requests[0]!.body;
  t.match(clientToken, /^[0-9a-f-]{36}$/, 'an idempotency token: a retried RunTask starts no second task');
  t.same(run, {
    cluster: 'acme-shop-production',
    count: 1,
    launchType: 'FARGATE',
    networkConfiguration: { awsvpcConfiguration: { assignPublicIp: 'DISABLED', securityGroups: ['sg-web'], subnets: ['subnet-a', 'subnet-b'] } },
    startedBy: 'setopsd',
    taskDefinition: input.taskDefinition,
  });
  t.same(ecs.requests[1]!.body, { cluster: 'acme-shop-production', tasks: [taskArn] });
  t.match(ecs.requests[0]!.authorization, /^AWS4-HMAC-SHA256 Credential=AKIDTESTONLY\/\d{8}\/eu-central-1\/ecs\/aws4_request/, 'signed for the Organization region');
  t.same(ecs.sleeps, [5000, 5000, 5000], 'one poll interval before each DescribeTasks');
});

t.test('a non-zero exit code and the container reason come back', async (t) => {
  const ecs = await fakeEcs(t, (req) =>
    req.target.endsWith('.RunTask')
      ? { body: task('PENDING') }
      : { body: task('STOPPED', { stoppedReason: 'Essential container in task exited', containers: [{ name: 'web', exitCode: 2, reason: 'migration 0042 failed' }] }) },
  );
  const result = await ecs.runner.run(input, new AbortController().signal);
  t.equal(result.exitCode, 2);
  t.equal(result.reason, 'migration 0042 failed; Essential container in task exited');
});

t.test('a task that cannot start: RunTask failures, or stopped without an exit code', async (t) => {
  const failing = await fakeEcs(t, () => ({ body: { tasks: [], failures: [{ arn: 'x', reason: 'RESOURCE:ENI', detail: 'no free addresses' }] } }));
  t.same(await failing.runner.run(input, new AbortController().signal), { exitCode: null, reason: 'RESOURCE:ENI (no free addresses)' });
  t.equal(failing.requests.length, 1, 'no DescribeTasks without a task');

  const pull = await fakeEcs(t, (req) =>
    req.target.endsWith('.RunTask')
      ? { body: task('PENDING') }
      : { body: task('STOPPED', { stoppedReason: 'CannotPullContainerError: pull image manifest has been retried 5 time(s)', containers: [{ name: 'web' }] }) },
  );
  const r = await pull.runner.run(input, new AbortController().signal);
  t.equal(r.exitCode, null);
  t.match(r.reason, /^CannotPullContainerError/);
});

t.test('an ECS error is an EngineError naming the app and the call; never the credentials', async (t) => {
  const ecs = await fakeEcs(t, () => ({ status: 400, body: { __type: 'com.amazonaws.ecs#AccessDeniedException', message: 'User is not authorized to perform: ecs:RunTask' } }));
  const err = await ecs.runner.run(input, new AbortController().signal).then(
    () => undefined,
    (e: unknown) => e as Error & { code?: string; data?: Record<string, unknown> },
  );
  t.match(err, { name: 'EngineError', code: 'E_AWS_ECS', data: { error: 'AccessDeniedException', status: 400 } });
  t.match(err?.message, /^app\/web in acme\/shop\/production: ECS RunTask failed: AccessDeniedException: User is not authorized to perform: ecs:RunTask; check the AWS credentials/);
  t.notMatch(JSON.stringify({ m: err?.message, d: err?.data }), /test-only-secret/);
});

t.test('an abort while the task runs is a CanceledError (the signal reaches the SDK)', async (t) => {
  const ac = new AbortController();
  const ecs = await fakeEcs(t, (req) => {
    if (req.target.endsWith('.DescribeTasks')) ac.abort();
    return { body: task('RUNNING') };
  });
  await t.rejects(ecs.runner.run(input, ac.signal), { name: 'CanceledError', code: 'E_CANCELED', message: /^app\/web in acme\/shop\/production: canceled while DescribeTasks/ });

  const waiting = new AbortController();
  const slow = await fakeEcs(t, () => ({ body: task('RUNNING') }));
  waiting.abort();
  const startedThenAborted = slow.runner.run(input, waiting.signal);
  await t.rejects(startedThenAborted, { name: 'CanceledError' }, 'an aborted signal stops before or at the first call');
});

t.test('an abort between polls names the task and how to stop it', async (t) => {
  const ac = new AbortController();
  const { url } = await fakeAws(t, () => ({ body: task('PENDING') }));
  const runner = createEcsTaskRunner({
    client: { region: 'eu-central-1', endpoint: url, credentials: DUMMY_CREDENTIALS, maxAttempts: 1 },
    sleep: async () => {
      ac.abort();
      throw new Error('sleep aborted');
    },
  });
  await t.rejects(runner.run(input, ac.signal), {
    name: 'CanceledError',
    message: `app/web in acme/shop/production: canceled while waiting for the pre-deploy task ${taskArn}; it may still be running in ECS (stop it with \`aws ecs stop-task --cluster acme-shop-production --task ${taskArn}\`)`,
  });
});

t.test('a one-off task (stopOnCancel): a cancel stops it with StopTask and says so; a refused StopTask says how to stop it', async (t) => {
  const ac = new AbortController();
  const ecs = await fakeEcs(t, (req) => {
    if (req.target.endsWith('.RunTask')) return { body: task('PENDING') };
    if (req.target.endsWith('.DescribeTasks')) {
      ac.abort();
      return { body: task('RUNNING') };
    }
    if (req.target.endsWith('.StopTask')) return { body: { task: { taskArn, lastStatus: 'RUNNING', desiredStatus: 'STOPPED' } } };
    return { status: 400, body: { __type: 'InvalidParameterException', message: req.target } };
  });
  const oneOff = { ...input, command: ['node', 'migrate.js'], stopOnCancel: 'setopsd task run canceled (SIGINT)' };
  await t.rejects(ecs.runner.run(oneOff, ac.signal), { name: 'CanceledError', code: 'E_CANCELED', message: `app/web in acme/shop/production: canceled; the task ${taskArn} was stopped (ECS StopTask)` });
  const stop = ecs.requests.find((r) => r.target.endsWith('.StopTask'));
  t.match(stop?.body, { cluster: 'acme-shop-production', task: taskArn, reason: 'setopsd task run canceled (SIGINT)' });

  const refusing = new AbortController();
  const denied = await fakeEcs(t, (req) => {
    if (req.target.endsWith('.StopTask')) return { status: 400, body: { __type: 'com.amazonaws.ecs#AccessDeniedException', message: 'not authorized to perform: ecs:StopTask' } };
    if (req.target.endsWith('.DescribeTasks')) refusing.abort();
    return { body: task('RUNNING') };
  });
  await t.rejects(denied.runner.run(oneOff, refusing.signal), { name: 'CanceledError', message: /stopping the task .* failed \(AccessDeniedException\), it may still be running in ECS \(stop it with `aws ecs stop-task --cluster acme-shop-production --task / });

  const predeploy = new AbortController();
  const kept = await fakeEcs(t, (req) => {
    if (req.target.endsWith('.DescribeTasks')) predeploy.abort();
    return { body: task('RUNNING') };
  });
  await t.rejects(kept.runner.run(input, predeploy.signal), { name: 'CanceledError' });
  t.notOk(kept.requests.some((r) => r.target.endsWith('.StopTask')), 'a pre-deploy task is not stopped');
});
