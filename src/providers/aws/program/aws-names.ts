/**
 * The rules AWS applies to the identifiers the program sets or lets Pulumi generate, and the
 * functions that make a name derived from manifest names satisfy them. Manifest names are
 * lowercase letters, digits and hyphens starting with a letter (the schema); service names also
 * have no `--` and no trailing `-` (`src/schema/name-rules.ts`), because Pulumi derives RDS,
 * DocumentDB and ElastiCache identifiers from them.
 */

/** One AWS naming rule: a maximum length, a character set and what may start or end it. */
export interface AwsNameRule {
  /** What the rule names, as the AWS documentation does. */
  what: string;
  max: number;
  /** Every character matches. */
  charset: RegExp;
  /** The first character matches. */
  first: RegExp;
  /** The last character matches. */
  last: RegExp;
  /** No two hyphens in a row. */
  noDoubleHyphen: boolean;
  /** Prefixes AWS reserves. */
  reservedPrefixes: readonly string[];
}

const lowerAlnumHyphen = /^[a-z0-9-]$/;
const alnumHyphen = /^[A-Za-z0-9-]$/;
const letter = /^[A-Za-z]$/;
const alnum = /^[A-Za-z0-9]$/;
const iamName = /^[A-Za-z0-9+=,.@_-]$/;
const sfnName = /^[A-Za-z0-9_-]$/;
const schedulerName = /^[A-Za-z0-9._-]$/;

/** The identifier rules of the AWS resources whose names come from manifest names. */
export const AWS_NAME_RULES = {
  /** RDS DB instance identifier (and DocumentDB cluster identifier): 1–63, letter first, no `--`, no trailing `-`. */
  dbInstance: { what: 'RDS DB instance identifier', max: 63, charset: alnumHyphen, first: letter, last: alnum, noDoubleHyphen: true, reservedPrefixes: [] },
  docdbCluster: { what: 'DocumentDB cluster identifier', max: 63, charset: alnumHyphen, first: letter, last: alnum, noDoubleHyphen: true, reservedPrefixes: [] },
  /** RDS / DocumentDB snapshot identifier: 1–255, letter first, no `--`, no trailing `-`. */
  dbSnapshot: { what: 'RDS DB snapshot identifier', max: 255, charset: alnumHyphen, first: letter, last: alnum, noDoubleHyphen: true, reservedPrefixes: [] },
  /** RDS parameter group name: 1–255, letter first, no `--`, no trailing `-`. */
  dbParameterGroup: { what: 'RDS DB parameter group name', max: 255, charset: alnumHyphen, first: letter, last: alnum, noDoubleHyphen: true, reservedPrefixes: [] },
  /** ElastiCache replication group id: 1–40, letter first, no `--`, no trailing `-`. */
  cacheReplicationGroup: { what: 'ElastiCache replication group id', max: 40, charset: lowerAlnumHyphen, first: /^[a-z]$/, last: /^[a-z0-9]$/, noDoubleHyphen: true, reservedPrefixes: [] },
  /** ElastiCache snapshot name: 1–255, letter first, no `--`, no trailing `-`. */
  cacheSnapshot: { what: 'ElastiCache snapshot name', max: 255, charset: alnumHyphen, first: letter, last: alnum, noDoubleHyphen: true, reservedPrefixes: [] },
  /** Load balancer name: 1–32, letters, digits, hyphens, no hyphen first or last, not `internal-…`. */
  loadBalancer: { what: 'Elastic Load Balancing load balancer name', max: 32, charset: alnumHyphen, first: alnum, last: alnum, noDoubleHyphen: false, reservedPrefixes: ['internal-'] },
  /** Target group name: 1–32, letters, digits, hyphens, no hyphen first or last. */
  targetGroup: { what: 'target group name', max: 32, charset: alnumHyphen, first: alnum, last: alnum, noDoubleHyphen: false, reservedPrefixes: [] },
  /** OpenSearch domain name: 3–28, lowercase letter first, lowercase letters, digits, hyphens. */
  searchDomain: { what: 'OpenSearch domain name', max: 28, charset: lowerAlnumHyphen, first: /^[a-z]$/, last: /^[a-z0-9-]$/, noDoubleHyphen: false, reservedPrefixes: [] },
  /** IAM role name: 1–64, letters, digits and `+=,.@_-`. */
  iamRole: { what: 'IAM role name', max: 64, charset: iamName, first: iamName, last: iamName, noDoubleHyphen: false, reservedPrefixes: [] },
  /** IAM inline policy name (a role's `aws.iam.RolePolicy`): 1–128, letters, digits and `+=,.@_-`. */
  iamInlinePolicy: { what: 'IAM inline policy name', max: 128, charset: iamName, first: iamName, last: iamName, noDoubleHyphen: false, reservedPrefixes: [] },
  /** EventBridge Scheduler schedule name: 1–64, letters, digits, `.`, `_` and `-`. */
  schedule: { what: 'EventBridge Scheduler schedule name', max: 64, charset: schedulerName, first: schedulerName, last: schedulerName, noDoubleHyphen: false, reservedPrefixes: [] },
  /** Step Functions state machine name: 1–80, letters, digits, `-` and `_` (what Step Functions' logging accepts). */
  stateMachine: { what: 'Step Functions state machine name', max: 80, charset: sfnName, first: sfnName, last: sfnName, noDoubleHyphen: false, reservedPrefixes: [] },
} as const satisfies Record<string, AwsNameRule>;

/** What Pulumi appends to a logical name when it auto-names a resource: `-` and seven random hex digits. */
export const PULUMI_AUTONAME_SUFFIX_LENGTH = 8;

/**
 * The `name` input of a resource Pulumi would auto-name from `logical`: none while that auto-name
 * fits `rule` (a resource created with an auto-name keeps it: a `name` input where there was none
 * would replace it), `explicit()` where the auto-name would be too long for AWS.
 */
export function nameWhereAutoNameTooLong(logical: string, rule: AwsNameRule, explicit: () => string): { name?: string } {
  return logical.length + PULUMI_AUTONAME_SUFFIX_LENGTH <= rule.max ? {} : { name: explicit() };
}

/** What is wrong with `name` under `rule`; empty when AWS accepts it. */
export function awsNameProblems(name: string, rule: AwsNameRule): string[] {
  const problems: string[] = [];
  if (name.length === 0 || name.length > rule.max) problems.push(`${rule.what} must be 1–${rule.max} characters (has ${name.length})`);
  if ([...name].some((c) => !rule.charset.test(c))) problems.push(`${rule.what} allows only ${String(rule.charset)}`);
  if (name.length > 0 && !rule.first.test(name[0]!)) problems.push(`${rule.what} must start with ${String(rule.first)}`);
  if (name.length > 0 && !rule.last.test(name[name.length - 1]!)) problems.push(`${rule.what} must end with ${String(rule.last)}`);
  if (rule.noDoubleHyphen && name.includes('--')) problems.push(`${rule.what} must not contain "--"`);
  for (const p of rule.reservedPrefixes) if (name.startsWith(p)) problems.push(`${rule.what} must not start with "${p}"`);
  return problems;
}

/**
 * `text` as an RDS / DocumentDB / ElastiCache snapshot identifier: hyphen runs collapsed, no
 * trailing hyphen, at most 255 characters (manifest names start with a letter already).
 */
export function snapshotIdentifier(text: string): string {
  return text.replace(/-{2,}/g, '-').slice(0, 255).replace(/-+$/, '');
}

/**
 * The readable part of a load balancer name: never `internal-…` (AWS reserves that prefix for
 * internal load balancers), so a project named `internal` gets `lb-internal-…`.
 */
export function loadBalancerReadable(readable: string): string {
  return readable.startsWith('internal-') ? `lb-${readable}` : readable;
}
