/**
 * Protected stages get the production posture whatever the plan says: multi-AZ RDS and Redis,
 * ALB deletion protection and access logs to an encrypted bucket with retention, VPC flow logs
 * with retention, HTTP → HTTPS by default; unprotected stages keep the cheap defaults.
 * OpenSearch: the service-linked role is required and the domain policy admits linked apps'
 * task roles only.
 */
import t from 'tap';
import { service, stage } from '../../../helpers/models.js';
import { AWS_ORG } from './edge-cases.js';
import { mock, runProgram } from './run-program.js';
import { shopStage } from './stages.js';

const shop = shopStage;
const find = (r: { name: string }[], name: string) => r.find((x) => x.name === name) as { type: string; name: string; inputs: Record<string, any> } | undefined;

t.test('protected stage: multi-AZ, ALB deletion protection and access logs, VPC flow logs', async (t) => {
  const { resources } = await runProgram(shop(true));
  t.equal(find(resources, 'svc-database-db')!.inputs.multiAz, true, 'RDS multi-AZ without a .ha plan');
  const redis = find(resources, 'svc-cache-redis')!.inputs;
  t.same([redis.numCacheClusters, redis.automaticFailoverEnabled, redis.multiAzEnabled], [2, true, true], 'Redis replica with failover');
  const alb = find(resources, 'alb')!.inputs;
  t.equal(alb.enableDeletionProtection, true, 'ALB deletion protection');
  t.equal(alb.accessLogs?.enabled, true, 'access logs on');
  t.match(alb.accessLogs?.bucket, /^alb-logs-/, 'to the logs bucket (its mocked auto-name)');
  t.ok(find(resources, 'alb-logs'), 'the logs bucket exists');
  t.same(find(resources, 'alb-logs-encryption')!.inputs.rules, [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }], 'encrypted (SSE-S3, what ELB log delivery supports)');
  t.equal(find(resources, 'alb-logs-lifecycle')!.inputs.rules[0].expiration.days, 90, 'kept 90 days');
  const pab = find(resources, 'alb-logs-public-access')!.inputs;
  t.same([pab.blockPublicAcls, pab.blockPublicPolicy, pab.ignorePublicAcls, pab.restrictPublicBuckets], [true, true, true, true]);
  const policy = find(resources, 'alb-logs-policy')!.inputs.policy;
  t.same(policy.Statement[0].Principal, { AWS: 'arn:aws:iam::156460612806:root' }, "the region's ELB account writes the logs");
  t.match(policy.Statement[0].Resource[0], /\/AWSLogs\/123456789012\/\*$/, 'under AWSLogs/<account> only');
  const flow = find(resources, 'vpc-flow-log')!.inputs;
  t.same([flow.trafficType, flow.logDestinationType], ['ALL', 'cloud-watch-logs'], 'VPC flow logs to CloudWatch');
  t.equal(find(resources, 'vpc-flow-logs')!.inputs.retentionInDays, 30, 'with the stage log retention');
  t.same(find(resources, 'vpc-flow-logs-role')!.inputs.assumeRolePolicy.Statement[0].Principal, { Service: 'vpc-flow-logs.amazonaws.com' });
});

t.test('unprotected stage: the cheap defaults', async (t) => {
  const { resources } = await runProgram(shop(false));
  t.equal(find(resources, 'svc-database-db')!.inputs.multiAz, false);
  t.equal(find(resources, 'svc-cache-redis')!.inputs.numCacheClusters, 1);
  t.equal(find(resources, 'alb')!.inputs.enableDeletionProtection, false);
  t.notOk(find(resources, 'alb')!.inputs.accessLogs, 'no access logs');
  t.notOk(find(resources, 'alb-logs'), 'no logs bucket');
  t.notOk(find(resources, 'vpc-flow-log'), 'no flow logs');
  const ha = await runProgram(stage({ name: 'staging', organization: AWS_ORG, services: { database: service('postgresql', { plan: 'db.t4g.small.ha' }) } }));
  t.equal(find(ha.resources, 'svc-database-db')!.inputs.multiAz, true, 'a .ha plan still asks for multi-AZ');
});

t.test('an existing VPC gets no flow logs from the stage (its owner decides)', async (t) => {
  const { resources } = await runProgram(shop(true, { vpcId: 'vpc-0abc1234' }));
  t.notOk(find(resources, 'vpc-flow-log'));
});

t.test('the HTTP listener redirects to HTTPS by default when apps have domains', async (t) => {
  const { resources } = await runProgram(shop(false));
  t.same(find(resources, 'alb-http')!.inputs.defaultActions, [{ type: 'redirect', redirect: { protocol: 'HTTPS', port: '443', statusCode: 'HTTP_301' } }]);
});

t.test('OpenSearch: the service-linked role is required, the domain admits linked task roles only', async (t) => {
  const { resources } = await runProgram(shop(true));
  t.ok(mock.calls.some((c) => c.token === 'aws:iam/getRole:getRole' && c.inputs.name === 'AWSServiceRoleForAmazonOpenSearchService'), 'the role is looked up');
  const policy = find(resources, 'svc-search-opensearch-policy')!.inputs.accessPolicies;
  const principals = policy.Statement.flatMap((s: any) => s.Principal.AWS);
  t.equal(principals.length, 1, 'one linked app');
  t.match(principals[0], /app-web-task-role/, "web's task role");
  t.notOk(JSON.stringify(policy).includes('"*"'), 'no wildcard principal');
  const links = find(resources, 'app-web-links-policy')!.inputs.policy;
  t.ok(links.Statement.some((s: any) => s.Action.includes('es:ESHttp*')), 'the task role may call the domain');
});
