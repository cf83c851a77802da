import { createHash } from 'node:crypto';
import type * as pulumi from '@pulumi/pulumi';
import { hashOf, sortKeys } from '../../../../src/model/canonical.js';

/** A resource the program registered, with its inputs as the engine would receive them. */
export interface RecordedResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

/** A data-source call the program made. */
export interface RecordedCall {
  token: string;
  inputs: Record<string, unknown>;
}

/** The value the mocked `GetRandomPassword` returns; it must never reach an env var, output or golden. */
export const FAKE_GENERATED_PASSWORD = 'MockGeneratedPassword0123456789abcdefMockGeneratedPassword012345';
/** The mocked caller identity (used when the Organization has no accountId). */
export const CALLER_ACCOUNT = '210987654321';
/** Subnets tagged in the mocked existing VPC, unsorted on purpose. */
export const EXISTING_SUBNETS = { public: ['subnet-pub-c', 'subnet-pub-a', 'subnet-pub-b'], private: ['subnet-priv-b', 'subnet-priv-a'] };

const h = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 8);

/** Fields whose values are credentials: masked in every recording. */
const SECRET_FIELDS = new Set(['authToken', 'secretString', 'password', 'masterPassword']);

/**
 * Pulumi mocks that play a plausible AWS: every resource gets a deterministic id, ARN and the
 * computed attributes the program reads (DNS names, endpoints, ACM validation options, RDS
 * managed secrets); data sources answer from fixed tables. Records everything for goldens.
 */
export class MockAws implements pulumi.runtime.Mocks {
  resources: RecordedResource[] = [];
  calls: RecordedCall[] = [];
  region = 'eu-central-1';
  /** ECS services (logical names) whose deployment the mocked circuit breaker rolls back. */
  rollBack = new Set<string>();

  reset(region: string): void {
    this.resources = [];
    this.calls = [];
    this.region = region;
  }

  newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
    const { type, name } = args;
    const inputs = args.inputs as Record<string, unknown>;
    this.resources.push({ type, name, inputs: structuredClone(inputs) });
    const id = `${name}-${h(type + name)}`;
    const service = type.split(':')[1]?.split('/')[0] ?? 'x';
    const autoName = (inputs.name as string | undefined) ?? `${name}-${h(name).slice(0, 7)}`;
    const arn = `arn:aws:${service}:${this.region}:123456789012:${name}/${id}`;
    const state: Record<string, unknown> = { ...inputs, arn, name: autoName };
    switch (type) {
      case 'aws:lb/loadBalancer:LoadBalancer':
        Object.assign(state, { dnsName: `${autoName}-1234567890.${this.region}.elb.amazonaws.com`, zoneId: 'Z215JYRZR1TBD5', arnSuffix: `app/${autoName}/${h(name)}` });
        break;
      case 'aws:lb/targetGroup:TargetGroup':
        state.arnSuffix = `targetgroup/${autoName}/${h(name)}`;
        break;
      case 'aws:rds/instance:Instance':
        Object.assign(state, {
          address: `${name}.abcdefghij.${this.region}.rds.amazonaws.com`,
          identifier: autoName,
          masterUserSecrets: [{ secretArn: `arn:aws:secretsmanager:${this.region}:123456789012:secret:rds!db-${h(name)}`, secretStatus: 'active', kmsKeyId: 'alias/aws/secretsmanager' }],
        });
        break;
      case 'aws:docdb/cluster:Cluster':
        Object.assign(state, {
          endpoint: `${name}.cluster-abcdefghij.${this.region}.docdb.amazonaws.com`,
          masterUserSecrets: [{ secretArn: `arn:aws:secretsmanager:${this.region}:123456789012:secret:rds!cluster-${h(name)}`, secretStatus: 'active', kmsKeyId: 'alias/aws/secretsmanager' }],
        });
        break;
      case 'aws:elasticache/replicationGroup:ReplicationGroup':
        state.primaryEndpointAddress = `master.${name}.abcdef.euc1.cache.amazonaws.com`;
        break;
      case 'aws:opensearch/domain:Domain':
        Object.assign(state, { domainName: (inputs.domainName as string | undefined) ?? autoName.slice(0, 28), endpoint: `vpc-${name}-${h(name)}.${this.region}.es.amazonaws.com` });
        break;
      case 'aws:s3/bucket:Bucket':
        state.bucket = autoName;
        break;
      case 'aws:acm/certificate:Certificate': {
        const domains = [inputs.domainName as string, ...((inputs.subjectAlternativeNames as string[] | undefined) ?? [])];
        // ACM returns the options as a set: reversed here so the program cannot rely on order.
        state.domainValidationOptions = domains.reverse().map((d) => ({
          domainName: d,
          resourceRecordName: `_${h(d)}.${d}.`,
          resourceRecordType: 'CNAME',
          resourceRecordValue: `_${h(d + 'v')}.acm-validations.aws.`,
        }));
        break;
      }
      case 'aws:route53/record:Record':
        state.fqdn = String(inputs.name).replace(/\.$/, '');
        break;
      case 'aws:ec2/vpc:Vpc':
        state.cidrBlock = inputs.cidrBlock;
        break;
      case 'aws:iam/role:Role':
        state.name = autoName;
        break;
      case 'aws:ecs/service:Service':
        if (this.rollBack.has(name)) state.taskDefinition = `arn:aws:ecs:${this.region}:123456789012:task-definition/previous:1`;
        break;
    }
    return { id, state };
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    const inputs = args.inputs as Record<string, unknown>;
    this.calls.push({ token: args.token, inputs: structuredClone(inputs) });
    switch (args.token) {
      case 'aws:index/getAvailabilityZones:getAvailabilityZones':
        return { names: ['a', 'b', 'c'].map((z) => `${this.region}${z}`), id: this.region };
      case 'aws:index/getCallerIdentity:getCallerIdentity':
        return { accountId: CALLER_ACCOUNT, arn: `arn:aws:iam::${CALLER_ACCOUNT}:user/ci`, userId: 'AIDAMOCK', id: CALLER_ACCOUNT };
      case 'aws:ec2/getVpc:getVpc':
        return { id: inputs.id, cidrBlock: '172.31.0.0/16', arn: `arn:aws:ec2:${this.region}:123456789012:vpc/${String(inputs.id)}` };
      case 'aws:ec2/getSubnets:getSubnets': {
        const filters = (inputs.filters as { name: string; values: string[] }[]) ?? [];
        const tier = filters.find((f) => f.name === 'tag:setops:tier')?.values[0] as 'public' | 'private';
        return { ids: EXISTING_SUBNETS[tier] ?? [], id: this.region };
      }
      case 'aws:route53/getZone:getZone':
        return { zoneId: `Z${h(String(inputs.name)).toUpperCase()}`, name: inputs.name, id: `Z${h(String(inputs.name)).toUpperCase()}` };
      case 'aws:elb/getServiceAccount:getServiceAccount':
        // Elastic Load Balancing's log delivery account of the region (eu-west-1's, whatever the region).
        return { arn: 'arn:aws:iam::156460612806:root', id: '156460612806' };
      case 'aws:iam/getRole:getRole':
        return { name: inputs.name, arn: `arn:aws:iam::123456789012:role/aws-service-role/opensearchservice.amazonaws.com/${String(inputs.name)}`, id: inputs.name };
      case 'aws:secretsmanager/getRandomPassword:getRandomPassword':
        return { randomPassword: FAKE_GENERATED_PASSWORD, id: 'random' };
      default:
        throw new Error(`mock: unexpected call ${args.token}`);
    }
  }
}

/** JSON-string inputs worth reading in a golden file. */
const JSON_FIELDS = new Set(['containerDefinitions', 'policy', 'assumeRolePolicy', 'accessPolicies', 'definition']);

function normalize(value: unknown, key = ''): unknown {
  if (SECRET_FIELDS.has(key)) return '(secret)';
  if (typeof value === 'string' && JSON_FIELDS.has(key)) {
    try {
      return normalize(JSON.parse(value));
    } catch {
      return value;
    }
  }
  if (Array.isArray(value)) return value.map((v) => normalize(v));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = normalize(v, k);
    return out;
  }
  return value;
}

/** A resource with its JSON-string inputs parsed and credential fields masked. */
export function readable(r: RecordedResource): RecordedResource {
  return { type: r.type, name: r.name, inputs: normalize(r.inputs) as Record<string, unknown> };
}

/** The stable snapshot of one run: resources and calls sorted, keys sorted, secrets masked. */
export function snapshot(mock: MockAws, outputs: Record<string, unknown>): string {
  const resources = mock.resources
    .map(readable)
    .sort((a, b) => (a.type + ' ' + a.name < b.type + ' ' + b.name ? -1 : a.type + ' ' + a.name > b.type + ' ' + b.name ? 1 : 0));
  const calls = [...new Set(mock.calls.map((c) => JSON.stringify(sortKeys(c))))].sort().map((s) => JSON.parse(s) as unknown);
  // The model output is checked exactly elsewhere; the golden keeps its hash to stay readable.
  const shown = { ...outputs, setopsdStageModel: `(canonical JSON, ${hashOf(JSON.parse(String(outputs.setopsdStageModel)))})` };
  return JSON.stringify(sortKeys({ resources, calls, outputs: normalize(shown) }), null, 2) + '\n';
}
