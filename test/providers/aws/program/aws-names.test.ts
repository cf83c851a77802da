/**
 * Names AWS rejects: for every name the schema accepts, each AWS identifier the program sets
 * or lets Pulumi generate satisfies its AWS rule (length, charset, first/last character,
 * reserved prefixes); names that cannot be made valid are refused by the schema with the AWS rule
 * in the message.
 *
 * Pulumi's auto-names (RDS, DocumentDB, ElastiCache, parameter groups) are modelled as the
 * provider makes them: the logical name, `-`, seven random hex characters.
 */
import fc from 'fast-check';
import t from 'tap';
import { NAME_LIMITS } from '../../../../src/schema/kinds.js';
import { SERVICE_NAME_PATTERN } from '../../../../src/schema/name-rules.js';
import { compileValidators } from '../../../../src/schema/validate.js';
import { AWS_NAME_RULES, awsNameProblems, snapshotIdentifier } from '../../../../src/providers/aws/program/aws-names.js';
import { stageNames } from '../../../../src/providers/aws/program/names.js';
import { stage } from '../../../helpers/models.js';
import { AWS_ORG } from './edge-cases.js';

/** Names the schema accepts for a kind: `^[a-z][a-z0-9-]*$` in its length limits (services: `SERVICE_NAME_PATTERN`). */
const nameArb = (kind: keyof typeof NAME_LIMITS): fc.Arbitrary<string> => {
  const [min, max] = NAME_LIMITS[kind];
  const base = fc.stringMatching(new RegExp(`^[a-z][a-z0-9-]{${min - 1},${max - 1}}$`));
  // Bias towards the troublesome shapes: hyphen runs, trailing hyphens, the reserved `internal` prefix.
  const tricky = fc.constantFrom('internal', 'internal-api', 'a--b', 'ab-', 'x-y-', 'abc--', 'internal--');
  const any = fc.oneof(base, tricky.filter((s) => s.length >= min && s.length <= max));
  return kind === 'Service' ? any.filter((s) => new RegExp(SERVICE_NAME_PATTERN).test(s)) : any;
};
const autoName = (logical: string, hex: string): string => `${logical}-${hex}`;

t.test('every AWS identifier derived from schema-valid names passes its AWS rule', async (t) => {
  fc.assert(
    fc.property(
      nameArb('Organization'),
      nameArb('Project'),
      nameArb('Stage'),
      nameArb('App'),
      nameArb('Service'),
      // Schedule names: the App schema's pattern, at most 40 characters.
      fc.stringMatching(/^[a-z][a-z0-9-]{0,39}$/),
      fc.stringMatching(/^[0-9a-f]{7}$/),
      fc.date({ min: new Date(Date.UTC(2000, 0, 1)), max: new Date(Date.UTC(2099, 11, 31)), noInvalidDate: true }),
      (org, project, stageName, appName, service, schedule, hex, when) => {
        const names = stageNames(stage({ name: stageName, organization: { ...AWS_ORG, name: org }, project: { name: project } }));
        const stamp = when.toISOString().replace(/[^0-9]/g, '').slice(0, 14);
        const snapshot = snapshotIdentifier(`${names.prefix}-${service}-final-${stamp}`);
        const checks: [string, (typeof AWS_NAME_RULES)[keyof typeof AWS_NAME_RULES]][] = [
          [names.alb, AWS_NAME_RULES.loadBalancer],
          [names.nlb, AWS_NAME_RULES.loadBalancer],
          [names.targetGroup(appName, ['HTTP', '3000', 'vpc']), AWS_NAME_RULES.targetGroup],
          [names.searchDomain(service), AWS_NAME_RULES.searchDomain],
          [snapshot, AWS_NAME_RULES.dbSnapshot],
          [snapshot, AWS_NAME_RULES.cacheSnapshot],
          [autoName(`svc-${service}-db`, hex), AWS_NAME_RULES.dbInstance],
          [autoName(`svc-${service}-params`, hex), AWS_NAME_RULES.dbParameterGroup],
          [autoName(`svc-${service}-docdb`, hex), AWS_NAME_RULES.docdbCluster],
          [autoName(`svc-${service}-redis`, hex), AWS_NAME_RULES.cacheReplicationGroup],
          [names.scheduleStateMachine(appName, schedule), AWS_NAME_RULES.stateMachine],
          [names.scheduleStarterRole(appName, schedule), AWS_NAME_RULES.iamRole],
          [autoName(`app-${appName}-schedule-runner-role`, hex), AWS_NAME_RULES.iamRole],
          [autoName(`app-${appName}-scheduler-role`, hex), AWS_NAME_RULES.iamRole],
        ];
        for (const [name, rule] of checks) {
          const problems = awsNameProblems(name, rule);
          if (problems.length > 0) throw new Error(`${name}: ${problems.join('; ')}`);
        }
      },
    ),
    { numRuns: 500 },
  );
});

t.test('a project named internal does not give an ALB name starting internal-', async (t) => {
  for (const project of ['internal', 'internal-api']) {
    const names = stageNames(stage({ name: 'prod', organization: AWS_ORG, project: { name: project } }));
    t.notMatch(names.alb, /^internal-/, `${project}: ${names.alb}`);
    t.notMatch(names.nlb, /^internal-/, `${project}: ${names.nlb}`);
    t.same(awsNameProblems(names.alb, AWS_NAME_RULES.loadBalancer), []);
  }
  t.same(awsNameProblems('internal-shop-prod-12345678', AWS_NAME_RULES.loadBalancer), ['Elastic Load Balancing load balancer name must not start with "internal-"'], 'the rule itself');
});

t.test('the schema refuses service names AWS identifiers cannot hold, naming the AWS rule', async (t) => {
  const v = compileValidators();
  const doc = (name: string) => ({ apiVersion: 'setopsd/v1', kind: 'Service', metadata: { name, project: 'shop' }, spec: { type: 'postgresql' } });
  for (const bad of ['orders--db', 'orders-']) {
    const problems = v.document('Service', doc(bad));
    t.match(problems, [{ pointer: '/metadata/name', message: /no "--" and no trailing "-"/ }], bad);
  }
  for (const good of ['orders-db', 'db1', 'a-b-c']) t.same(v.document('Service', doc(good)), [], good);
});

t.test('the rules themselves: each part of an identifier is checked', async (t) => {
  const r = AWS_NAME_RULES.dbInstance;
  t.same(awsNameProblems('svc-a-db-1234567', r), []);
  t.match(awsNameProblems('svc-a--db', r), [/must not contain "--"/]);
  t.match(awsNameProblems('svc-a-', r), [/must end with/]);
  t.match(awsNameProblems('1svc', r), [/must start with/]);
  t.match(awsNameProblems('svc_a', r), [/allows only/]);
  t.match(awsNameProblems('a'.repeat(64), r), [/1–63 characters/]);
  t.equal(snapshotIdentifier('acme--shop-prod-db-final-'), 'acme-shop-prod-db-final');
});
