/**
 * One-off tasks on AWS: `runTask` asks ECS (the real `@aws-sdk/client-ecs` client, against a fake
 * ECS JSON endpoint on 127.0.0.1) to RunTask the app's current task definition from the stack
 * outputs, in the stage network, with the command and `--env` as a container override; the exit
 * code comes from the stopped task, and the run is recorded with where its output is.
 */
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createEcsTaskRunner } from '../../src/providers/aws/engine/ecs-tasks.js';
import { runTask, listTasks } from '../../src/operations/tasks.js';
import { StateStore } from '../../src/state/store.js';
import { testDeps } from '../helpers/deps.js';
import { app, stage } from '../helpers/models.js';
import { checkpointText, fakeStack, org, ref, stackOutputs } from '../providers/aws/engine/fake-stack.js';
import { DUMMY_CREDENTIALS, fakeAws } from '../providers/aws/engine/fake-aws.js';

const td = 'arn:aws:ecs:eu-central-1:123456789012:task-definition/acme-shop-production-web:5';
const taskArn = 'arn:aws:ecs:eu-central-1:123456789012:task/acme-shop-production/9a8b7c';
const model = stage({ name: ref.stage, organization: org, apps: { web: app({ image: 'ghcr.io/acme/web:2.0.0' }) } });

t.test('task run on AWS: RunTask with a command override, the exit code of the stopped task', async (t) => {
  const ecs = await fakeAws(t, (req, n) =>
    req.target.endsWith('.RunTask')
      ? { body: { tasks: [{ taskArn, lastStatus: 'PROVISIONING' }], failures: [] } }
      : { body: n < 3 ? { tasks: [{ taskArn, lastStatus: 'RUNNING' }] } : { tasks: [{ taskArn, lastStatus: 'STOPPED', stoppedReason: 'Essential container in task exited', containers: [{ name: 'web', exitCode: 4 }] }] } },
  );
  const runner = createEcsTaskRunner({ region: 'eu-central-1', client: { endpoint: ecs.url, credentials: DUMMY_CREDENTIALS, maxAttempts: 1 }, sleep: async () => {}, pollMs: 1 });
  const s = await fakeStack(t, { engine: { taskRunner: runner } });
  mkdirSync(dirname(s.checkpoint), { recursive: true });
  writeFileSync(
    s.checkpoint,
    checkpointText(
      stackOutputs(model, { web: { taskDefinitionArn: td, deployedTaskDefinitionArn: td, logGroup: '/setops/acme/shop/production/web' } }, {
        cluster: 'acme-shop-production',
        taskNetwork: { subnets: ['subnet-a'], securityGroups: { web: ['sg-web'] }, assignPublicIp: false },
      }),
    ),
  );
  await new StateStore(s.stateDir).write(ref, model);
  let out = '';
  const record = await runTask(
    testDeps(),
    { stateDir: s.stateDir, ref, app: 'web', argv: ['bin/rake', 'db:seed'], env: { SEED: 'demo' }, configRoot: s.stateDir, write: (c) => (out += c), engineOf: async () => s.engine },
    new AbortController().signal,
  );
  t.match(record, { status: 'failed', exitCode: 4, command: ['bin/rake', 'db:seed'], envKeys: ['SEED'], log: 'cloudwatch /setops/acme/shop/production/web web/web/9a8b7c' });
  const { clientToken: _token, ...run } = ecs.requests[0]!.body;
  t.same(run, {
    cluster: 'acme-shop-production',
    count: 1,
    launchType: 'FARGATE',
    networkConfiguration: { awsvpcConfiguration: { assignPublicIp: 'DISABLED', securityGroups: ['sg-web'], subnets: ['subnet-a'] } },
    startedBy: 'setopsd',
    taskDefinition: td,
    overrides: { containerOverrides: [{ name: 'web', command: ['bin/rake', 'db:seed'], environment: [{ name: 'SEED', value: 'demo' }] }] },
  });
  t.match(out, /task arn:aws:ecs:\S+: exited with 4 \(Essential container in task exited\)\noutput: aws logs tail \/setops\/acme\/shop\/production\/web --log-stream-names web\/web\/9a8b7c/);
  t.equal((await listTasks(s.stateDir, ref))[0]!.id, record.id, 'recorded per stage');
});

t.test('an app the stack does not record is refused before anything runs', async (t) => {
  const s = await fakeStack(t, { engine: { taskRunner: { run: async () => t.fail('no task may run') as never } } });
  mkdirSync(dirname(s.checkpoint), { recursive: true });
  writeFileSync(s.checkpoint, checkpointText(stackOutputs(model, {}, {})));
  await new StateStore(s.stateDir).write(ref, model);
  await t.rejects(
    runTask(testDeps(), { stateDir: s.stateDir, ref, app: 'web', argv: ['true'], env: {}, configRoot: s.stateDir, write: () => {}, engineOf: async () => s.engine }, new AbortController().signal),
    { code: 'E_NOT_DEPLOYED', message: /app\/web in acme\/shop\/production: the stack records no task definition or task network for this app/ },
  );
});
