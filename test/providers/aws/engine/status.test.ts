/**
 * `setopsd status` for an AWS stage: read from the stack outputs of the last update (the file
 * backend's checkpoint; no CLI, no AWS call): URLs, the task definition each service runs vs the
 * one asked for, rollbacks, service endpoints, never a password. Golden text, JSON checked.
 */
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StateStore } from '../../../../src/state/store.js';
import { runCli } from '../../../helpers/deps.js';
import { app, service, stage } from '../../../helpers/models.js';
import { checkpointText, org, ref, stackOutputs } from './fake-stack.js';
import { tempDir } from '../../../helpers/temp.js';

const golden = join(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/aws-status/status.txt');
const td = (family: string, n: number): string => `arn:aws:ecs:eu-central-1:123456789012:task-definition/acme-shop-production-${family}:${n}`;

t.test('status of an AWS stage comes from the stack outputs', async (t) => {
  const stateDir = tempDir(t, 'setopsd-aws-status-');
  const model = stage({
    name: ref.stage,
    organization: org,
    apps: { web: app({ public: true, scale: 3 }), worker: app({ scale: 1 }), jobs: app({ scale: 1 }) },
    services: { db: service('postgresql'), media: service('s3') },
  });
  const outputs = stackOutputs(
    model,
    {
      web: { service: 'web', url: 'https://shop.acme.example', taskDefinitionArn: td('web', 8), deployedTaskDefinitionArn: td('web', 7), rolledBack: true, scale: 3 },
      worker: { service: 'worker', taskDefinitionArn: td('worker', 4), deployedTaskDefinitionArn: td('worker', 4), rolledBack: false, scale: 1 },
      jobs: { service: 'jobs', taskDefinitionArn: td('jobs', 2), deployedTaskDefinitionArn: td('jobs', 1), rolledBack: false, scale: 1 },
    },
    {
      region: 'eu-central-1',
      loadBalancer: { dnsName: 'shop-production-1a2b3c4d-123.eu-central-1.elb.amazonaws.com', zoneId: 'Z215JYRZR1TBD5' },
      services: {
        db: { type: 'postgresql', host: 'db.abc.eu-central-1.rds.amazonaws.com', port: 5432, database: 'db', username: 'setops', credentialsSecretArn: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:rds!db-1', password: 'NEVER-SHOWN-PASSWORD' },
        media: { type: 's3', bucket: 'media-1a2b3c', region: 'eu-central-1' },
      },
    },
  );
  const checkpoint = join(stateDir, 'stages/acme/shop/production/pulumi/backend/.pulumi/stacks/setops-acme-shop/production.json');
  mkdirSync(dirname(checkpoint), { recursive: true });
  writeFileSync(checkpoint, checkpointText(outputs));
  await new StateStore(stateDir).write(ref, model);

  const env = { PATH: '/nonexistent', HOME: process.env.HOME };
  const text = await runCli(['status', '--state-dir', stateDir], { env, cwd: stateDir });
  t.equal(text.code, 0, text.stderr || 'status');
  t.notMatch(text.stdout, /healthy/, 'no process health count for a view that is not live');
  t.notMatch(text.stdout, /NEVER-SHOWN-PASSWORD|secretsmanager/, 'never a password, nor the secret ARN');
  if (process.env.UPDATE_GOLDEN === '1') {
    await mkdir(dirname(golden), { recursive: true });
    await writeFile(golden, text.stdout);
  }
  t.equal(text.stdout, await readFile(golden, 'utf8'), 'golden status text (UPDATE_GOLDEN=1 regenerates)');

  const json = await runCli(['status', '--state-dir', stateDir, '--format', 'json'], { env, cwd: stateDir });
  const runtime = (JSON.parse(json.stdout) as { stages: { runtime: any }[] }).stages[0]!.runtime;
  t.same(runtime.apps.web, { processes: [], url: 'https://shop.acme.example', note: 'ECS service web runs acme-shop-production-web:7: the last update asked for acme-shop-production-web:8 and ECS rolled it back (failed health checks)' });
  t.same(runtime.services.db, { type: 'postgresql', status: 'unknown', detail: 'database db, host db.abc.eu-central-1.rds.amazonaws.com, port 5432, username setops' });
  t.notMatch(json.stdout, /NEVER-SHOWN-PASSWORD/);
});

t.test('a stage with no recorded deployment has no runtime view', async (t) => {
  const stateDir = tempDir(t, 'setopsd-aws-status-');
  await new StateStore(stateDir).write(ref, stage({ name: ref.stage, organization: org, apps: { web: app() } }));
  const json = await runCli(['status', '--state-dir', stateDir, '--format', 'json'], { env: { PATH: '/nonexistent' }, cwd: stateDir });
  t.equal(json.code, 0, json.stderr || 'status');
  t.equal((JSON.parse(json.stdout) as { stages: { runtime: unknown }[] }).stages[0]!.runtime, null);
});
