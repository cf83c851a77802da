/**
 * `@pulumi/awsguard`'s resource policies over the mocked resources of every stage the program
 * tests build (examples/aws, the edge cases, the posture stages; see stages.ts).
 *
 * awsguard 0.3.1 targets `@pulumi/aws` 4: its policies match resources by the v4 type tokens.
 * The program's types are mapped to them (TYPE_MAP):
 * - `aws:lb/loadBalancer:LoadBalancer` → `aws:elasticloadbalancingv2/loadBalancer:LoadBalancer`
 *   and, for application load balancers, `aws:applicationloadbalancing/loadBalancer:LoadBalancer`
 *   (elb-logging-enabled, elb-deletion-protection-enabled);
 * - `aws:lb/listener:Listener` → `aws:elasticloadbalancingv2/listener:Listener` (alb-http-to-https-redirection);
 * - `aws:opensearch/domain:Domain` → `aws:elasticsearch/domain:Domain` (elasticsearch-encrypted-at-rest,
 *   elasticsearch-in-vpc-only; the fields they read have the same names);
 * - `aws:rds/instance:Instance`, `aws:efs/fileSystem:FileSystem`, `aws:s3/bucket:Bucket`: unchanged.
 * Stack policies (acm-certificate-expiration calls ACM) are not run: they need a live account.
 * Every violation must be on ALLOWED, each with the reason we deliberately do not follow the rule.
 */
import t from 'tap';
import { createRequire } from 'node:module';
import type { StageModel } from '../../../../src/model/stage-model.js';
import type { RecordedResource } from './mocks.js';
import { runProgram } from './run-program.js';
import { allTestStages } from './stages.js';

interface ResourcePolicy {
  name: string;
  validateResource?: ((args: unknown, report: (message: string) => void) => unknown) | ((args: unknown, report: (message: string) => void) => unknown)[];
}

const require = createRequire(import.meta.url);
const MODULES = ['apiGateway', 'compute', 'database', 'elasticsearch', 'network', 'security', 'storage'];
const policies: ResourcePolicy[] = MODULES.flatMap((m) =>
  Object.values(require(`@pulumi/awsguard/${m}`) as Record<string, ResourcePolicy>).filter((p) => p && typeof p === 'object' && 'validateResource' in p),
);

/** Program type → the `@pulumi/aws` 4 type tokens awsguard's policies match. */
const TYPE_MAP: Record<string, (r: RecordedResource) => string[]> = {
  'aws:lb/loadBalancer:LoadBalancer': (r) => [
    'aws:elasticloadbalancingv2/loadBalancer:LoadBalancer',
    ...(r.inputs.loadBalancerType === 'application' ? ['aws:applicationloadbalancing/loadBalancer:LoadBalancer'] : []),
  ],
  'aws:lb/listener:Listener': () => ['aws:elasticloadbalancingv2/listener:Listener'],
  'aws:opensearch/domain:Domain': () => ['aws:elasticsearch/domain:Domain'],
};

interface Finding {
  stage: StageModel;
  resource: RecordedResource;
  policy: string;
  message: string;
}

/**
 * The rules we deliberately do not follow, and where. A finding not allowed here fails the test.
 */
const ALLOWED: { policy: string; why: string; when: (f: Finding) => boolean }[] = [
  // S3 server access logs: service buckets are the apps' data (CloudTrail data events are the
  // audit trail where wanted), and the ALB log bucket cannot log to itself.
  { policy: 's3-bucket-logging-enabled', why: 'no S3 server access logs', when: () => true },
  // EFS is encrypted with the AWS-managed key (`encrypted: true`); a customer managed KMS key per
  // stage is a cost and an operational burden we do not impose.
  { policy: 'efs-encrypted', why: 'AWS-managed key, not a customer managed one', when: (f) => f.resource.inputs.encrypted === true },
  // Unprotected stages keep the cheap defaults: single-AZ databases, no ALB access logs, no
  // deletion protection. Protected stages must pass these rules.
  { policy: 'rds-instance-multi-az-enabled', why: 'single-AZ on unprotected stages', when: (f) => !f.stage.stage.protected },
  { policy: 'elb-logging-enabled', why: 'no access logs on unprotected stages', when: (f) => !f.stage.stage.protected },
  { policy: 'elb-deletion-protection-enabled', why: 'deletable load balancers on unprotected stages', when: (f) => !f.stage.stage.protected },
  // NLB access logs exist only for TLS listeners; setopsd's tcp apps have TCP listeners.
  { policy: 'elb-logging-enabled', why: 'NLB with TCP listeners writes no access logs', when: (f) => f.resource.inputs.loadBalancerType === 'network' },
  // A public app without domains has no certificate: the HTTP listener serves it (the program
  // warns and says to add domains for HTTPS).
  {
    policy: 'alb-http-to-https-redirection',
    why: 'HTTP default for a public app without domains',
    when: (f) => Object.values(f.stage.apps).some((a) => a.public && a.protocol === 'http' && Object.keys(a.domains).length === 0),
  },
  // Backups follow the model: `backup.retentionDays: 0` turns them off, on unprotected stages only.
  { policy: 'rds-instance-backup-enabled', why: 'backups off by the model on unprotected stages', when: (f) => !f.stage.stage.protected },
];

function argsFor(type: string, r: RecordedResource) {
  return {
    type,
    props: r.inputs,
    urn: `urn:pulumi:stage::setops::${r.type}::${r.name}`,
    name: r.name,
    opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
    isType: (cls: { __pulumiType?: string }) => cls.__pulumiType === type,
    asType: (cls: { __pulumiType?: string }) => (cls.__pulumiType === type ? r.inputs : undefined),
    getConfig: () => ({}),
    // Newer @pulumi/policy reports a type mismatch this way: nothing to check then.
    notApplicable: () => undefined,
  };
}

async function findings(stage: StageModel, resources: RecordedResource[]): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const resource of resources) {
    const types = TYPE_MAP[resource.type]?.(resource) ?? [resource.type];
    for (const type of types) {
      for (const policy of policies) {
        const checks = ([] as unknown[]).concat(policy.validateResource ?? []) as ((a: unknown, r: (m: string) => void) => unknown)[];
        for (const check of checks) await check(argsFor(type, resource), (message) => out.push({ stage, resource, policy: policy.name, message }));
      }
    }
  }
  return out;
}

t.test('awsguard loads its resource policies', async (t) => {
  const names = policies.map((p) => p.name).sort();
  for (const n of ['alb-http-to-https-redirection', 'elb-deletion-protection-enabled', 'elb-logging-enabled', 'rds-instance-multi-az-enabled', 'rds-storage-encrypted', 'elasticsearch-in-vpc-only', 'efs-encrypted']) {
    t.ok(names.includes(n), n);
  }
});

const stages = await allTestStages();
for (const [name, stage] of Object.entries(stages)) {
  t.test(`awsguard on ${name}`, async (t) => {
    const { resources } = await runProgram(stage);
    const all = await findings(stage, resources);
    const unexpected = all.filter((f) => !ALLOWED.some((a) => a.policy === f.policy && a.when(f)));
    t.same(unexpected.map((f) => `${f.policy} on ${f.resource.type} ${f.resource.name}: ${f.message}`), [], 'no violation outside the allow-list');
  });
}

t.test('the mapping is live: a violating resource is found under its mapped type', async (t) => {
  const stage = stages['shop-unprotected']!;
  const { resources } = await runProgram(stage);
  const all = await findings(stage, resources);
  t.ok(all.some((f) => f.policy === 'elb-deletion-protection-enabled' && f.resource.name === 'alb'), 'the unprotected ALB is seen by an elasticloadbalancingv2 rule');
  t.ok(all.some((f) => f.policy === 'rds-instance-multi-az-enabled'), 'single-AZ RDS is seen');
  const bad = { type: 'aws:opensearch/domain:Domain', name: 'x', inputs: { domainName: 'x', encryptAtRest: { enabled: false } } };
  t.same((await findings(stage, [bad])).map((f) => f.policy).sort(), ['elasticsearch-encrypted-at-rest', 'elasticsearch-in-vpc-only'], 'an OpenSearch domain is checked by the elasticsearch rules');
});
