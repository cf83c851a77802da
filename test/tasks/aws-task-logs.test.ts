/**
 * Streamed output of one-off tasks on AWS: while the ECS task runs, its CloudWatch Logs stream is
 * read with GetLogEvents from the head, following nextForwardToken (the real
 * `@aws-sdk/client-cloudwatch-logs` and `@aws-sdk/client-ecs` clients against fake JSON
 * endpoints on 127.0.0.1); after it stopped the stream is read to its end, then the exit code
 * of the stopped task is the run's. A stream that does not exist yet is waited for; a log read
 * that fails never changes the task's outcome.
 */
import t, { type Test } from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createEcsTaskRunner } from '../../src/providers/aws/engine/ecs-tasks.js';
import { createCloudWatchLogReader } from '../../src/providers/aws/engine/cloudwatch-log-reader.js';
import { runTask } from '../../src/operations/tasks.js';
import { StateStore } from '../../src/state/store.js';
import { testDeps } from '../helpers/deps.js';
import { app, stage } from '../helpers/models.js';
import { checkpointText, fakeStack, org, ref, stackOutputs } from '../providers/aws/engine/fake-stack.js';
import { DUMMY_CREDENTIALS, fakeAws, type AwsAnswer, type AwsRequest } from '../providers/aws/engine/fake-aws.js';

const td = 'arn:aws:ecs:eu-central-1:123456789012:task-definition/acme-shop-production-web:5';
const taskArn = 'arn:aws:ecs:eu-central-1:123456789012:task/acme-shop-production/9a8b7c';
const group = '/setops/acme/shop/production/web';
const model = stage({ name: ref.stage, organization: org, apps: { web: app({ image: 'ghcr.io/acme/web:2.0.0' }) } });

/** ECS: RUNNING for `running` DescribeTasks calls, then STOPPED with `exitCode`. */
function ecsAnswers(running: number, exitCode: number): (req: AwsRequest, n: number) => AwsAnswer {
  let described = 0;
  return (req) => {
    if (req.target.endsWith('.RunTask')) return { body: { tasks: [{ taskArn, lastStatus: 'PROVISIONING' }], failures: [] } };
    described += 1;
    return described <= running
      ? { body: { tasks: [{ taskArn, lastStatus: 'RUNNING' }] } }
      : { body: { tasks: [{ taskArn, lastStatus: 'STOPPED', stoppedReason: 'Essential container in task exited', containers: [{ name: 'web', exitCode }] }] } };
  };
}

async function setup(t: Test, ecsAnswer: (req: AwsRequest, n: number) => AwsAnswer, logsAnswer: (req: AwsRequest, n: number) => AwsAnswer) {
  const ecs = await fakeAws(t, ecsAnswer);
  const logs = await fakeAws(t, logsAnswer);
  const runner = createEcsTaskRunner({ region: 'eu-central-1', client: { endpoint: ecs.url, credentials: DUMMY_CREDENTIALS, maxAttempts: 1 }, sleep: async () => {}, pollMs: 1 });
  const logReader = createCloudWatchLogReader({ client: { region: 'eu-central-1', endpoint: logs.url, credentials: DUMMY_CREDENTIALS, maxAttempts: 1 } });
  const s = await fakeStack(t, { engine: { taskRunner: runner, logReader } });
  mkdirSync(dirname(s.checkpoint), { recursive: true });
  writeFileSync(
    s.checkpoint,
    checkpointText(
      stackOutputs(model, { web: { taskDefinitionArn: td, deployedTaskDefinitionArn: td, logGroup: group } }, {
        cluster: 'acme-shop-production',
        taskNetwork: { subnets: ['subnet-a'], securityGroups: { web: ['sg-web'] }, assignPublicIp: false },
      }),
    ),
  );
  await new StateStore(s.stateDir).write(ref, model);
  return { ecs, logs, s };
}

t.test('the log stream is written while the task runs, then to its end, then the exit code', async (t) => {
  // Page by page: the stream is not there yet, then two lines, nothing new, one line, and after
  // the task stopped the last line and the end (the same token back).
  const pages: AwsAnswer[] = [
    { status: 400, body: { __type: 'ResourceNotFoundException', message: 'The specified log stream does not exist.' } },
    { body: { events: [{ timestamp: 1, message: 'migrating 1/2' }, { timestamp: 2, message: 'migrating 2/2\n' }], nextForwardToken: 'f/2', nextBackwardToken: 'b/0' } },
    { body: { events: [], nextForwardToken: 'f/2', nextBackwardToken: 'b/2' } },
    { body: { events: [{ timestamp: 3, message: 'seeding' }], nextForwardToken: 'f/3', nextBackwardToken: 'b/2' } },
    { body: { events: [{ timestamp: 4, message: 'failed: constraint violated' }], nextForwardToken: 'f/4', nextBackwardToken: 'b/3' } },
    { body: { events: [], nextForwardToken: 'f/4', nextBackwardToken: 'b/4' } },
  ];
  const { ecs, logs, s } = await setup(t, ecsAnswers(4, 3), (_req, n) => pages[Math.min(n, pages.length) - 1]!);
  const writes: { text: string; ecsCalls: number }[] = [];
  const record = await runTask(
    testDeps(),
    { stateDir: s.stateDir, ref, app: 'web', argv: ['bin/rake', 'db:migrate'], env: {}, configRoot: s.stateDir, write: (c) => writes.push({ text: c, ecsCalls: ecs.requests.length }), engineOf: async () => s.engine },
    new AbortController().signal,
  );
  t.match(record, { status: 'failed', exitCode: 3, log: `cloudwatch ${group} web/web/9a8b7c` });
  const out = writes.map((w) => w.text).join('');
  t.equal(
    out,
    'migrating 1/2\nmigrating 2/2\nseeding\nfailed: constraint violated\n' + `task ${taskArn}: exited with 3 (Essential container in task exited)\n`,
    'the output as it came (one line per event), then how the task ended; no "aws logs tail" hint',
  );
  const first = writes.find((w) => w.text.startsWith('migrating'))!;
  t.ok(first.ecsCalls < ecs.requests.length, 'the first lines were written before ECS reported the task stopped');
  t.same(
    logs.requests.map((r) => [r.target, r.body.nextToken ?? null]),
    [
      ['Logs_20140328.GetLogEvents', null],
      ['Logs_20140328.GetLogEvents', null],
      ['Logs_20140328.GetLogEvents', 'f/2'],
      ['Logs_20140328.GetLogEvents', 'f/2'],
      ['Logs_20140328.GetLogEvents', 'f/3'],
      ['Logs_20140328.GetLogEvents', 'f/4'],
    ],
    'each read asks from the last forward token',
  );
  t.same(logs.requests[0]!.body, { logGroupName: group, logStreamName: 'web/web/9a8b7c', startFromHead: true });
});

t.test('a log read that fails keeps the task running and its exit code; the output is pointed to', async (t) => {
  const { logs, s } = await setup(t, ecsAnswers(2, 0), () => ({ status: 400, body: { __type: 'AccessDeniedException', message: 'not authorized to perform: logs:GetLogEvents' } }));
  let out = '';
  const record = await runTask(
    testDeps(),
    { stateDir: s.stateDir, ref, app: 'web', argv: ['true'], env: {}, configRoot: s.stateDir, write: (c) => (out += c), engineOf: async () => s.engine },
    new AbortController().signal,
  );
  t.match(record, { status: 'succeeded', exitCode: 0 });
  t.ok(logs.requests.length >= 1, 'the stream was asked for');
  t.match(out, new RegExp(`exited with 0 .*\\noutput: aws logs tail ${group} --log-stream-names web/web/9a8b7c\\n$`), 'where the output is, since it could not be shown');
});
