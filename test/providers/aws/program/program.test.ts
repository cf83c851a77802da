/**
 * The inline AWS program under Pulumi mocks: the real @pulumi/aws classes run, a mocked
 * "cloud" answers (see mocks.ts). Every case is snapshotted as a resource graph golden under
 * test/fixtures/aws-program/<case>.json (regenerate with UPDATE_GOLDEN=1, then review), and the
 * invariants a platform engineer relies on are checked on every case.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as pulumi from '@pulumi/pulumi';
import t from 'tap';
import { canonicalJson } from '../../../../src/model/canonical.js';
import { isSecretRef, type StageModel } from '../../../../src/model/stage-model.js';
import { readDirectory } from '../../../../src/manifests/source-dir.js';
import { loadDesired } from '../../../../src/manifests/load.js';
import { EngineError } from '../../../../src/errors.js';
import type { ProgramOptions, StageProgramOutputs } from '../../../../src/providers/aws/program/index.js';
import { CALLER_ACCOUNT, FAKE_GENERATED_PASSWORD, type RecordedResource } from './mocks.js';
import { mock, runProgram, type ProgramRun } from './run-program.js';
import { app, service, stage } from '../../../helpers/models.js';
import { AWS_ORG, IMAGE, edgeCases } from './edge-cases.js';
import { exampleStages } from './stages.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../../../..');
const goldenDir = join(root, 'test/fixtures/aws-program');

const { stageProgram } = await import('../../../../src/providers/aws/program/index.js');

type Run = ProgramRun;
const run = (model: StageModel, opts: ProgramOptions = {}): Promise<Run> => runProgram(model, opts);

async function checkGolden(tt: Tap, name: string, text: string): Promise<void> {
  const file = join(goldenDir, `${name}.json`);
  if (process.env.UPDATE_GOLDEN === '1') {
    await mkdir(goldenDir, { recursive: true });
    await writeFile(file, text);
  }
  const want = await readFile(file, 'utf8').catch(() => '');
  tt.equal(text, want, `resource graph matches ${name}.json (UPDATE_GOLDEN=1 regenerates it)`);
}

type Tap = Pick<typeof t, 'equal' | 'ok' | 'notOk' | 'same' | 'match'>;
const all = (r: RecordedResource[], type: string): RecordedResource[] => r.filter((x) => x.type === type);
const named = (r: RecordedResource[], name: string): RecordedResource | undefined => r.find((x) => x.name === name);
const containers = (td: RecordedResource): Record<string, any>[] => td.inputs.containerDefinitions as Record<string, any>[];

/** Invariants that hold for every stage. */
function checkInvariants(tt: Tap, model: StageModel, { resources, outputs, golden }: Run): void {
  tt.equal(outputs.setopsdStageModel, canonicalJson(model), 'setopsdStageModel is the canonical JSON of the model');
  tt.notOk(golden.includes(FAKE_GENERATED_PASSWORD), 'no generated password in the recorded graph');
  tt.notOk(JSON.stringify(outputs).includes(FAKE_GENERATED_PASSWORD), 'no generated password in the outputs');
  tt.notOk(/password"\s*:\s*"(?!\(secret\))/i.test(golden), 'every password field is a masked secret');

  for (const key of ['stage', 'region', 'vpcId', 'publicSubnetIds', 'privateSubnetIds', 'cluster', 'apps', 'services', 'preDeployTaskDefinitions', 'taskNetwork', 'secretParameters']) {
    tt.ok(outputs[key] !== undefined, `output ${key} (StageProgramOutputs)`);
  }
  for (const [name, a] of Object.entries(outputs.apps as StageProgramOutputs['apps'])) {
    tt.same(Object.keys(a).filter((k) => k !== 'url').sort(), ['deployedTaskDefinitionArn', 'logGroup', 'privateDns', 'rolledBack', 'scale', 'service', 'taskDefinitionArn'], `apps.${name} output fields`);
  }
  const privateSubnets = outputs.privateSubnetIds as string[];
  tt.equal(privateSubnets.length, 2, 'two private subnets');

  // Apps: ECS services, task definitions, secrets.
  for (const [name, a] of Object.entries(model.apps)) {
    const svc = named(resources, `app-${name}-service`)!;
    tt.ok(svc, `app/${name} has an ECS service`);
    tt.equal(svc.inputs.desiredCount, a.scale, `app/${name}: desired count = scale`);
    tt.same(svc.inputs.deploymentCircuitBreaker, { enable: true, rollback: true }, `app/${name}: circuit breaker with rollback`);
    tt.equal(svc.inputs.deploymentMinimumHealthyPercent, 100, `app/${name}: minimum healthy 100%`);
    tt.same((svc.inputs.networkConfiguration as any).subnets, privateSubnets, `app/${name}: tasks in the private subnets`);
    tt.equal((svc.inputs.networkConfiguration as any).assignPublicIp, false, `app/${name}: no public IP`);
    tt.equal((outputs.apps as any)[name].rolledBack, false, `app/${name}: the deployed task definition is the requested one`);

    for (const tdName of [`app-${name}-task`, `app-${name}-predeploy-task`]) {
      const td = named(resources, tdName);
      if (!td) continue;
      const [c] = containers(td);
      const envNames = (c!.environment as { name: string; value: string }[]).map((e) => e.name);
      const secretNames = (c!.secrets as { name: string; valueFrom: string }[]).map((e) => e.name);
      for (const [key, value] of Object.entries(a.env)) {
        if (isSecretRef(value)) {
          tt.notOk(envNames.includes(key), `${tdName}: secret ${key} is not a plain env var`);
          const s = (c!.secrets as { name: string; valueFrom: string }[]).find((x) => x.name === key);
          tt.match(
            s?.valueFrom,
            new RegExp(`^arn:aws:ssm:[a-z0-9-]+:\\d{12}:parameter/setops/${model.organization.name}/${model.project.name}/${model.stage.name}/${value.secret}$`),
            `${tdName}: ${key} comes from SSM /setops/<org>/<project>/<stage>/${value.secret}`,
          );
        } else {
          tt.ok(envNames.includes(key), `${tdName}: plain ${key} in environment`);
        }
      }
      for (const e of c!.environment as { name: string; value: string }[]) {
        tt.notOk(/PASSWORD/.test(e.name), `${tdName}: no password in plain env (${e.name})`);
        tt.notOk(String(e.value).includes('{"secret"') || String(e.value).includes('secret:'), `${tdName}: no secret reference in plain env (${e.name})`);
      }
      tt.same(envNames, [...envNames].sort(), `${tdName}: environment sorted`);
      tt.same(secretNames, [...secretNames].sort(), `${tdName}: secrets sorted`);
    }
    const predeploy = named(resources, `app-${name}-predeploy-task`);
    if (a.preDeploy) {
      tt.ok(predeploy, `app/${name}: pre-deploy task definition`);
      tt.match(predeploy!.inputs.family, /-predeploy$/, `app/${name}: pre-deploy family`);
      tt.ok((outputs.preDeployTaskDefinitions as Record<string, string>)[name], `app/${name}: pre-deploy ARN exported`);
    } else {
      tt.notOk(predeploy, `app/${name}: no pre-deploy task definition`);
    }

    // Public apps get a target group; with domains: listener rules, certificate and alias records.
    const tg = named(resources, `app-${name}-tg`);
    const rules = all(resources, 'aws:lb/listenerRule:ListenerRule').filter((r) => r.name.startsWith(`app-${name}-`));
    const cert = named(resources, `app-${name}-cert`);
    if (!a.public) {
      tt.notOk(tg, `app/${name} (private): no target group`);
      tt.same(rules, [], `app/${name} (private): no listener rules`);
      tt.notOk(cert, `app/${name} (private): no certificate`);
      continue;
    }
    tt.ok(tg, `app/${name} (public): target group`);
    tt.ok(String(tg!.inputs.name).length <= 32, `app/${name}: target group name within 32 characters`);
    const domains = Object.keys(a.domains);
    if (a.protocol === 'http' && domains.length > 0) {
      const primary = domains.find((d) => a.domains[d]!.primary)!;
      tt.equal(cert?.inputs.domainName, primary, `app/${name}: certificate for the primary domain`);
      tt.same([...((cert?.inputs.subjectAlternativeNames as string[]) ?? [])].sort(), domains.filter((d) => d !== primary).sort(), `app/${name}: other domains as SANs`);
      const forward = named(resources, `app-${name}-https-forward`)!;
      tt.same((forward.inputs.conditions as any)[0].hostHeader.values, [primary], `app/${name}: host rule forwards the primary domain`);
      tt.match((forward.inputs.actions as any)[0].targetGroupArn, new RegExp(`:app-${name}-tg/`), `app/${name}: the rule forwards to its target group`);
      for (const d of domains) {
        tt.ok(named(resources, `domain-${d}-alias`), `app/${name}: alias record for ${d}`);
        tt.ok(named(resources, `app-${name}-cert-validation-${d}`), `app/${name}: validation record for ${d}`);
      }
      tt.equal((outputs.apps as any)[name].url, `https://${primary}`, `app/${name}: URL output`);
    } else {
      tt.notOk(cert, `app/${name}: no certificate without domains`);
      tt.same(rules.filter((r) => r.name.includes('https')), [], `app/${name}: no HTTPS rules without domains`);
      if (a.protocol === 'http') {
        const hostRule = named(resources, `app-${name}-http-host`);
        tt.same((hostRule?.inputs.conditions as any)?.[0].hostHeader.values, [`${name}.*`], `app/${name}: reachable at ${name}.* over HTTP`);
        tt.match((hostRule?.inputs.actions as any)?.[0].targetGroupArn, new RegExp(`:app-${name}-tg/`), `app/${name}: its target group is attached to the load balancer`);
      }
    }
  }

  // Load balancer names.
  for (const lb of all(resources, 'aws:lb/loadBalancer:LoadBalancer')) {
    tt.match(lb.inputs.name, /^[a-z0-9][a-z0-9-]{0,30}[a-z0-9]$/, `${lb.name}: valid name within 32 characters`);
  }

  // Private services are not reachable from outside.
  for (const db of all(resources, 'aws:rds/instance:Instance')) {
    tt.equal(db.inputs.publiclyAccessible, false, `${db.name}: not publicly accessible`);
    tt.equal(db.inputs.storageEncrypted, true, `${db.name}: encrypted`);
    tt.equal(db.inputs.manageMasterUserPassword, true, `${db.name}: password managed by RDS`);
    tt.notOk('password' in db.inputs, `${db.name}: no password input`);
  }
  for (const group of [
    ...all(resources, 'aws:rds/subnetGroup:SubnetGroup'),
    ...all(resources, 'aws:elasticache/subnetGroup:SubnetGroup'),
    ...all(resources, 'aws:docdb/subnetGroup:SubnetGroup'),
  ]) {
    tt.same(group.inputs.subnetIds, privateSubnets, `${group.name}: private subnets only`);
  }
  for (const mt of all(resources, 'aws:efs/mountTarget:MountTarget')) {
    tt.ok(privateSubnets.includes(mt.inputs.subnetId as string), `${mt.name}: in a private subnet`);
  }
  for (const d of all(resources, 'aws:opensearch/domain:Domain')) {
    for (const s of (d.inputs.vpcOptions as any).subnetIds) tt.ok(privateSubnets.includes(s), `${d.name}: in a private subnet`);
  }
  const serviceSgIds = new Set(
    all(resources, 'aws:ec2/securityGroup:SecurityGroup')
      .filter((sg) => sg.name.startsWith('svc-'))
      .map((sg) => {
        tt.notOk(sg.inputs.ingress && (sg.inputs.ingress as unknown[]).length > 0, `${sg.name}: no inline ingress`);
        return sg.name;
      }),
  );
  const appSgIds = new Set(all(resources, 'aws:ec2/securityGroup:SecurityGroup').filter((sg) => /^app-.*-sg$/.test(sg.name)).map((sg) => sg.name));
  for (const rule of all(resources, 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule')) {
    const target = String(rule.inputs.securityGroupId).replace(/-[0-9a-f]{8}$/, '');
    if (!serviceSgIds.has(target)) continue;
    tt.notOk(rule.inputs.cidrIpv4 ?? rule.inputs.cidrIpv6, `${rule.name}: no CIDR source into a service`);
    const source = String(rule.inputs.referencedSecurityGroupId).replace(/-[0-9a-f]{8}$/, '');
    tt.ok(appSgIds.has(source), `${rule.name}: source is an app security group`);
  }

  // Deletion protection and backups follow the model, and never go missing on protected stages.
  for (const [name, s] of Object.entries(model.services)) {
    const mustProtect = s.deletionProtection;
    if (s.type === 'postgresql') {
      const db = named(resources, `svc-${name}-db`)!;
      tt.equal(db.inputs.deletionProtection, mustProtect, `service/${name}: deletion protection`);
      if (model.stage.protected) {
        tt.ok((db.inputs.backupRetentionPeriod as number) >= 1, `service/${name}: backups on a protected stage`);
        tt.equal(db.inputs.skipFinalSnapshot, false, `service/${name}: final snapshot on a protected stage`);
      }
    }
    if (s.type === 'documentdb') {
      const c = named(resources, `svc-${name}-docdb`)!;
      tt.equal(c.inputs.deletionProtection, mustProtect, `service/${name}: deletion protection`);
      tt.ok((c.inputs.backupRetentionPeriod as number) >= 1, `service/${name}: backups`);
    }
    if (s.type === 'redis') {
      const g = named(resources, `svc-${name}-redis`)!;
      tt.equal(g.inputs.transitEncryptionEnabled, true, `service/${name}: TLS`);
      tt.equal(g.inputs.authToken, '(secret)', `service/${name}: AUTH token set`);
      if (model.stage.protected) tt.ok((g.inputs.snapshotRetentionLimit as number) >= 1, `service/${name}: snapshots on a protected stage`);
    }
    if (s.type === 'volume' && model.stage.protected) {
      tt.same(named(resources, `svc-${name}-backup`)!.inputs.backupPolicy, { status: 'ENABLED' }, `service/${name}: EFS backups on a protected stage`);
    }
    if (s.type === 's3') {
      tt.same(named(resources, `svc-${name}-versioning`)!.inputs.versioningConfiguration, { status: 'Enabled' }, `service/${name}: versioned`);
      tt.equal(named(resources, `svc-${name}-bucket`)!.inputs.forceDestroy, !mustProtect, `service/${name}: not emptied when protected`);
      const block = named(resources, `svc-${name}-public-access`)!.inputs;
      const want = s.options.blockPublicAccess !== false;
      tt.same([block.blockPublicAcls, block.blockPublicPolicy, block.ignorePublicAcls, block.restrictPublicBuckets], [want, want, want, want], `service/${name}: public access block`);
    }
  }
}

const cases = { ...(await exampleStages()), ...edgeCases() };

t.test('the examples/aws manifests hold the stages the AWS example promises', async (tt) => {
  tt.same(Object.keys(await exampleStages()).sort(), ['example-production', 'example-staging']);
});

for (const [name, model] of Object.entries(cases)) {
  t.test(`stage program: ${name}`, async (tt) => {
    const result = await run(model);
    checkInvariants(tt, model, result);
    await checkGolden(tt, name, result.golden);
  });
}

t.test('example production: HA, protection and notifications', async (tt) => {
  const { resources, outputs } = await run(cases['example-production']!);
  const db = named(resources, 'svc-database-db')!.inputs;
  tt.equal(db.multiAz, true, '.ha plan → multi-AZ');
  tt.equal(db.instanceClass, 'db.m6g.large', 'instance class without .ha');
  tt.equal(db.maxAllocatedStorage, 500, 'storage autoscaling bound from the production override');
  tt.equal(db.backupRetentionPeriod, 14);
  tt.equal(named(resources, 'svc-cache-redis')!.inputs.numCacheClusters, 2, 'redis .ha → a replica');
  tt.equal(all(resources, 'aws:ec2/natGateway:NatGateway').length, 2, 'one NAT gateway per zone on a protected stage');
  tt.same(
    all(resources, 'aws:sns/topicSubscription:TopicSubscription').map((s) => [s.inputs.protocol, s.inputs.endpoint]).sort(),
    [['email', 'ops@globex.example'], ['https', 'https://hooks.globex.example/setopsd']],
  );
  const alarms = all(resources, 'aws:cloudwatch/metricAlarm:MetricAlarm').map((a) => a.name).sort();
  for (const want of ['alb-alarm-5xx', 'app-web-alarm-5xx', 'app-web-alarm-running', 'app-worker-alarm-running', 'svc-database-alarm-storage']) {
    tt.ok(alarms.includes(want), `alarm ${want}`);
  }
  const running = named(resources, 'app-web-alarm-running')!.inputs;
  tt.equal(running.threshold, 3, 'running < desired (3)');
  tt.equal(running.comparisonOperator, 'LessThanThreshold');
  tt.same((outputs.secretParameters as string[]), ['/setops/globex/storefront/production/STRIPE_KEY']);
  tt.equal(mock.calls.filter((c) => c.token === 'aws:route53/getZone:getZone').length, 1, 'one hosted zone lookup for both domains of globex.example');
  const web = containers(named(resources, 'app-web-task')!)[0]!;
  const env = Object.fromEntries((web.environment as { name: string; value: string }[]).map((e) => [e.name, e.value]));
  tt.match(env.DATABASE_URL, /^postgresql:\/\/setops@[^:@]+:5432\/database\?sslmode=require$/, 'DATABASE_URL without a password');
  tt.match(env.REDIS_URL, /^rediss:\/\/[^:@]+:6379$/, 'REDIS_URL over TLS without a password');
  tt.equal(env.S3_BUCKET, (outputs.services as any).uploads.bucket, 'S3_BUCKET is the bucket\'s name');
  tt.equal(env.VOLUME_PATH, '/mnt/shared');
  const secrets = Object.fromEntries((web.secrets as { name: string; valueFrom: string }[]).map((e) => [e.name, e.valueFrom]));
  tt.match(secrets.DATABASE_PASSWORD, /^arn:aws:secretsmanager:.*:password::$/, 'database password from the RDS-managed secret');
  tt.equal(secrets.PGPASSWORD, secrets.DATABASE_PASSWORD);
  tt.match(secrets.REDIS_PASSWORD, /^arn:aws:secretsmanager:.*:password::$/);
  tt.same(web.mountPoints, [{ sourceVolume: 'shared', containerPath: '/mnt/shared', readOnly: false }]);
  const worker = containers(named(resources, 'app-worker-task')!)[0]!;
  tt.same(worker.mountPoints, [{ sourceVolume: 'shared', containerPath: '/mnt/shared', readOnly: true }], 'worker mounts read-only');
  const execPolicy = named(resources, 'task-execution-role-secrets')!.inputs.policy as any;
  tt.same(execPolicy.Statement[0].Resource, ['arn:aws:ssm:eu-central-1:123456789012:parameter/setops/globex/storefront/production/*'], 'execution role reads only this stage\'s parameters');
  const provider = all(resources, 'pulumi:providers:aws')[0]!.inputs;
  tt.match(JSON.stringify(provider), /123456789012/, 'the provider is pinned to the organization account');
});

t.test('ECS services wait for what their tasks need at start', async (tt) => {
  const { dependsOn } = await run(cases['example-production']!);
  const web = dependsOn['app-web-service'] ?? [];
  for (const need of [
    'alb-http', 'alb-https', 'app-web-https-forward',
    'task-execution-role-managed', 'task-execution-role-secrets', 'app-web-links-policy',
    'svc-shared-mount-a', 'svc-shared-mount-b', 'link-web-database-ingress', 'svc-cache-auth-value',
  ]) tt.ok(web.includes(need), `app-web-service waits for ${need}`);
  tt.ok((dependsOn['app-worker-service'] ?? []).includes('svc-shared-mount-a'), 'worker waits for the EFS mount targets');
  tt.notOk((dependsOn['app-worker-service'] ?? []).includes('alb-http'), 'a private app does not wait for the load balancer');
});

t.test('edge cases', async (tt) => {
  tt.test('public apps without domains: the first is the HTTP default, no HTTPS', async (t2) => {
    const { resources, outputs } = await run(cases['no-domains']!);
    t2.notOk(named(resources, 'alb-https'), 'no HTTPS listener without certificates');
    const http = named(resources, 'alb-http')!.inputs;
    t2.equal((http.defaultActions as any)[0].type, 'forward');
    t2.match((http.defaultActions as any)[0].targetGroupArn, /^arn:.*app-admin-tg/, 'admin (first by name) is the default');
    t2.match((outputs.apps as any).admin.url, /^http:\/\//);
    t2.notOk((outputs.apps as any).api.url, 'api has no URL');
    const tg = named(resources, 'app-api-tg')!.inputs.healthCheck as any;
    t2.same([tg.path, tg.matcher, tg.interval, tg.timeout, tg.unhealthyThreshold], ['/health', '200', 30, 5, 3], 'health check path and status');
    const jobs = containers(named(resources, 'app-jobs-task')!)[0]!;
    t2.same(jobs.command, ['/bin/sh', '-c', 'bundle exec sidekiq'], 'shell-form command');
    t2.same(jobs.entryPoint, ['/usr/bin/tini', '--'], 'exec-form entrypoint');
    t2.same((named(resources, 'alb-sg')!.inputs.ingress as { fromPort: number }[]).map((r) => r.fromPort), [80, 443], 'the load balancer takes HTTP and HTTPS');
  });
  tt.test('tcp apps: network load balancer, no HTTP routing', async (t2) => {
    const { resources, outputs } = await run(cases['tcp-app']!);
    t2.notOk(named(resources, 'alb'), 'no application load balancer');
    t2.equal(named(resources, 'nlb')!.inputs.loadBalancerType, 'network');
    t2.equal(named(resources, 'app-mqtt-tg')!.inputs.protocol, 'TCP');
    t2.same(all(resources, 'aws:lb/listenerRule:ListenerRule'), []);
    t2.same(all(resources, 'aws:acm/certificate:Certificate'), []);
    t2.match((outputs.apps as any).mqtt.url, /^tcp:\/\/.*:1883$/);
  });
  tt.test('scale 0: stopped, no steady-state wait, no running alarm', async (t2) => {
    const { resources } = await run(cases['scale-zero']!);
    const svc = named(resources, 'app-web-service')!.inputs;
    t2.equal(svc.desiredCount, 0);
    t2.equal(svc.waitForSteadyState, false);
    t2.notOk(named(resources, 'app-web-alarm-running'));
    t2.ok(named(resources, 'app-web-alarm-certificate'), 'a stopped app\'s certificate is still watched');
    t2.ok(named(resources, 'notifications'), 'the topic exists for the stage notifications');
  });
  tt.test('existing VPC: looked up, nothing created, tagged subnets sorted', async (t2) => {
    const { resources, outputs } = await run(cases['existing-vpc']!);
    t2.same(all(resources, 'aws:ec2/vpc:Vpc'), []);
    t2.same(all(resources, 'aws:ec2/subnet:Subnet'), []);
    t2.same(all(resources, 'aws:ec2/natGateway:NatGateway'), []);
    t2.equal(outputs.vpcId, 'vpc-0abc1234');
    t2.same(outputs.privateSubnetIds, ['subnet-priv-a', 'subnet-priv-b']);
    t2.same(outputs.publicSubnetIds, ['subnet-pub-a', 'subnet-pub-b']);
    t2.same(named(resources, 'alb')!.inputs.subnets, ['subnet-pub-a', 'subnet-pub-b']);
    const env = containers(named(resources, 'app-web-task')!)[0]!;
    t2.match(JSON.stringify(env), new RegExp(`awslogs-region":"us-east-2`));
    const exec = named(resources, 'task-execution-role-secrets')!.inputs.policy as any;
    t2.match(exec.Statement[0].Resource[0], new RegExp(`:${CALLER_ACCOUNT}:parameter/setops/acme/shop/sandbox/\\*$`), 'account from the caller identity');
  });
  tt.test('every service type', async (t2) => {
    const { resources, outputs } = await run(cases['all-services']!);
    const types = new Set(resources.map((r) => r.type));
    for (const type of [
      'aws:rds/instance:Instance',
      'aws:elasticache/replicationGroup:ReplicationGroup',
      'aws:s3/bucket:Bucket',
      'aws:efs/fileSystem:FileSystem',
      'aws:efs/accessPoint:AccessPoint',
      'aws:docdb/cluster:Cluster',
      'aws:opensearch/domain:Domain',
    ]) t2.ok(types.has(type), type);
    t2.equal(all(resources, 'aws:docdb/clusterInstance:ClusterInstance').length, 2, 'documentdb scale 2 → two instances');
    t2.equal(named(resources, 'svc-analytics-db')!.inputs.backupRetentionPeriod, 1, 'backups are never off on a protected stage');
    const params = named(resources, 'svc-database-params')!.inputs.parameters as { name: string; value: string }[];
    t2.same(params.find((p) => p.name === 'shared_preload_libraries')?.value, 'pg_stat_statements', 'preloaded extension');
    const web = containers(named(resources, 'app-web-task')!)[0]!;
    const env = Object.fromEntries((web.environment as { name: string; value: string }[]).map((e) => [e.name, e.value]));
    const secretNames = (web.secrets as { name: string }[]).map((s) => s.name);
    t2.same(secretNames, ['ANALYTICS_PASSWORD', 'CATALOG_PASSWORD', 'DATABASE_PASSWORD', 'PGPASSWORD', 'REDIS_PASSWORD', 'SENTRY_DSN', 'STRIPE_KEY']);
    t2.match(env.ANALYTICS_URL, /^postgresql:\/\/setops@/);
    t2.equal(env.PGHOST?.startsWith('svc-database-db'), true, 'libpq variables point at the default-key database');
    t2.match(env.CATALOG_URL, /^mongodb:\/\/setops@.*tls=true/);
    t2.match(env.ELASTICSEARCH_URL, /^https:\/\//);
    t2.equal(env.VOLUME_PATH, '/data');
    t2.same(web.healthCheck.command, ['CMD-SHELL', 'curl -fs http://localhost:3000/healthz']);
    t2.same(named(resources, 'app-web-task')!.inputs.cpu, '512', 'cpu 384 → Fargate size 512');
    t2.same(named(resources, 'app-web-task')!.inputs.memory, '1024', 'memory 700 → 1024');
    t2.equal(web.cpu, 384, 'container keeps the exact cpu');
    const redirect = named(resources, 'app-web-https-redirect-1')!.inputs;
    t2.same((redirect.conditions as any)[0].hostHeader.values, ['acme.example', 'www.shop.acme.example']);
    t2.equal((redirect.actions as any)[0].redirect.host, 'shop.acme.example', 'other domains redirect to the primary');
    const linksPolicy = named(resources, 'app-web-links-policy')!.inputs.policy as any;
    t2.same(linksPolicy.Statement.map((s: any) => s.Sid), ['Mountfiles', 'Searchsearch', 'Listuploads', 'Objectsuploads']);
    t2.same((named(resources, 'app-worker-links-policy')!.inputs.policy as any).Statement[0].Action, ['elasticfilesystem:ClientMount'], 'read-only mount cannot write');
    t2.same(Object.keys(outputs.preDeployTaskDefinitions as object), ['web']);
    t2.ok(named(resources, 'link-web-search-ingress') && named(resources, 'link-worker-files-ingress'), 'ingress rules per link');
    t2.notOk(named(resources, 'link-worker-cache-ingress'), 'no ingress for services the app does not link');
  });
});

/** A deep copy of `value` with every object's keys in reverse insertion order. */
function reverseKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => reverseKeys(v)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as object).reverse().map(([k, v]) => [k, reverseKeys(v)])) as T;
  }
  return value;
}

t.test('the resource graph does not depend on key insertion order', async (tt) => {
  const model = cases['all-services']!;
  const a = await run(model);
  const b = await run(reverseKeys(model));
  tt.equal(b.golden, a.golden);
});

t.test('program options: parameter prefix, hosted zone ids, log retention', async (tt) => {
  const { resources, outputs } = await run(cases['scale-zero']!, {
    parameterPrefix: '/platform/',
    hostedZoneIds: { 'shop.acme.example': 'ZSHOPZONE' },
    logRetentionDays: 90,
  });
  tt.equal(named(resources, 'app-web-logs')!.inputs.retentionInDays, 90);
  tt.equal(named(resources, 'domain-qa.shop.acme.example-alias')!.inputs.zoneId, 'ZSHOPZONE', 'explicit zone id wins over the lookup');
  tt.notOk(mock.calls.some((c) => c.token === 'aws:route53/getZone:getZone'), 'no zone lookup when the id is given');
  const policy = named(resources, 'task-execution-role-secrets')!.inputs.policy as any;
  tt.match(policy.Statement[0].Resource[0], /:parameter\/platform\/acme\/shop\/qa\/\*$/);
  tt.same(outputs.secretParameters, []);
  const defaults = await run(cases['scale-zero']!);
  tt.equal(named(defaults.resources, 'app-web-logs')!.inputs.retentionInDays, 14, '14 days on unprotected stages');
  const prod = await run(cases['all-services']!);
  tt.equal(named(prod.resources, 'app-web-logs')!.inputs.retentionInDays, 30, '30 days on protected stages');
});

t.test('preview (unknown computed values) declares the same resources as an update', async (tt) => {
  for (const name of ['example-production', 'existing-vpc', 'tcp-app']) {
    const model = cases[name]!;
    const update = (await run(model)).resources.map((r) => `${r.type} ${r.name}`).sort();
    mock.reset(model.organization.aws?.region ?? 'us-east-1');
    await pulumi.runtime.setMocks(mock, `setops-${model.organization.name}-${model.project.name}`, model.stage.name, true);
    const program = stageProgram(model);
    // Outputs that stay unknown in a preview never resolve under mocks: run the program, not its outputs.
    await pulumi.runtime.runInPulumiStack(async () => {
      await program();
      return {};
    });
    await pulumi.runtime.disconnect();
    tt.same(mock.resources.map((r) => `${r.type} ${r.name}`).sort(), update, `${name}: same resources in preview`);
  }
});

t.test('pinned task definitions: new revisions registered, services kept on the pinned one', async (tt) => {
  const pinned = 'arn:aws:ecs:eu-central-1:123456789012:task-definition/globex-storefront-production-web:41';
  const { resources, outputs } = await run(cases['example-production']!, { pinnedTaskDefinitions: { web: pinned } });
  tt.equal(named(resources, 'app-web-service')!.inputs.taskDefinition, pinned, 'web stays on the pinned revision');
  tt.ok(named(resources, 'app-web-task'), 'its new task definition is still registered');
  tt.ok(named(resources, 'app-web-predeploy-task'), 'and the pre-deploy one to run first');
  tt.match(named(resources, 'app-worker-service')!.inputs.taskDefinition, /app-worker-task/, 'worker rolls forward');
  tt.equal((outputs.apps as any).web.rolledBack, false, 'a pinned service is not a rollback');
  tt.equal((outputs.apps as any).web.deployedTaskDefinitionArn, pinned);
  const recorded = JSON.parse(outputs.setopsdStageModel as string) as StageModel;
  tt.notOk(recorded.apps.web, 'without a previous model, the pinned app is left out of the recorded model');
  tt.same(recorded.apps.worker, cases['example-production']!.apps.worker, 'apps that rolled forward are recorded as desired');
});

t.test('held apps: the service is created without tasks and not recorded as applied', async (tt) => {
  const { resources, outputs } = await run(cases['example-production']!, { heldApps: ['web'] });
  const web = named(resources, 'app-web-service')!.inputs;
  tt.equal(web.desiredCount, 0, 'no task starts before the pre-deploy task ran');
  tt.equal(web.waitForSteadyState, false);
  tt.ok((named(resources, 'app-worker-service')!.inputs.desiredCount as number) > 0, 'other apps keep their scale');
  tt.notOk((JSON.parse(outputs.setopsdStageModel as string) as StageModel).apps.web, 'a held new app is not recorded as applied');
});

t.test('pinned or rolled back apps are recorded with their previous model entry', async (tt) => {
  const desired = cases['example-production']!;
  const previous: StageModel = { ...desired, apps: { ...desired.apps, web: { ...desired.apps.web!, image: 'registry.example.com/web:previous' } } };
  const pinned = 'arn:aws:ecs:eu-central-1:123456789012:task-definition/globex-storefront-production-web:41';
  const first = await run(desired, { pinnedTaskDefinitions: { web: pinned }, previousModel: previous });
  tt.equal(first.outputs.setopsdStageModel, canonicalJson({ ...desired, apps: { ...desired.apps, web: previous.apps.web } }), 'pinned web: its previous entry');

  mock.rollBack.add('app-web-service');
  tt.teardown(() => mock.rollBack.clear());
  const rolled = await run(desired, { previousModel: previous });
  tt.equal(rolled.outputs.setopsdStageModel, canonicalJson({ ...desired, apps: { ...desired.apps, web: previous.apps.web } }), 'rolled back web: its previous entry');
  mock.rollBack.clear();
  const done = await run(desired, { previousModel: previous });
  tt.equal(done.outputs.setopsdStageModel, canonicalJson(desired), 'a rollout that went through records the desired model');
});

t.test('a deployment the circuit breaker rolled back is reported in the outputs', async (tt) => {
  mock.rollBack.add('app-web-service');
  tt.teardown(() => mock.rollBack.clear());
  const { outputs } = await run(cases['scale-zero']!);
  tt.equal((outputs.apps as any).web.rolledBack, true);
  tt.match((outputs.apps as any).web.deployedTaskDefinitionArn, /task-definition\/previous:1$/);
  tt.notOk((JSON.parse(outputs.setopsdStageModel as string) as StageModel).apps.web, 'the new app is not recorded as applied');
});

t.test('models the program cannot build fail before any resource', async (tt) => {
  const noImage = stage({ name: 'dev', organization: AWS_ORG, apps: { web: app() } });
  tt.throws(() => stageProgram(noImage), { name: 'EngineError', code: 'E_AWS_PROGRAM', message: /^app\/web in acme\/shop\/dev: image is required on AWS/ });
  const clash = stage({
    name: 'dev',
    organization: AWS_ORG,
    apps: { web: app({ image: IMAGE, env: { REDIS_URL: 'redis://elsewhere' }, links: { cache: {} } }) },
    services: { cache: service('redis') },
  });
  try {
    stageProgram(clash);
    tt.fail('expected an error');
  } catch (err) {
    tt.ok(err instanceof EngineError);
    tt.match((err as Error).message, /env var REDIS_URL is set by both spec.env and link\/web\/cache; rename it in spec.env or give the link another envKey/);
    tt.equal((err as EngineError).retryable, false, 'terminal');
  }
  const local = stage({ name: 'dev', organization: { provider: 'local' } });
  tt.throws(() => stageProgram(local), { message: /needs provider: aws and aws.region/ });
});
