/**
 * Names AWS rejects: for every name the schema accepts, each AWS identifier the program sets
 * or lets Pulumi generate satisfies its AWS rule (length, charset, first/last character,
 * reserved prefixes); names that cannot be made valid are refused by the schema with the AWS rule
 * in the message.
 *
 * Pulumi's auto-names (RDS, DocumentDB, ElastiCache, parameter groups, IAM roles and policies,
 * schedules) are modelled as the provider makes them: the logical name, `-`, seven random hex
 * characters. Where the program sets a name only when the auto-name would be too long
 * (`nameWhereAutoNameTooLong`), the name AWS gets is that one or else the auto-name.
 */
import fc from 'fast-check';
import t from 'tap';
import { NAME_LIMITS } from '../../../../src/schema/kinds.js';
import { SERVICE_NAME_PATTERN } from '../../../../src/schema/name-rules.js';
import { compileValidators } from '../../../../src/schema/validate.js';
import { AWS_NAME_RULES, awsNameProblems, nameWhereAutoNameTooLong, snapshotIdentifier, type AwsNameRule } from '../../../../src/providers/aws/program/aws-names.js';
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
/** The name AWS gets for a resource named by `nameWhereAutoNameTooLong`: the explicit one, or else Pulumi's auto-name. */
const boundedOrAutoName = (logical: string, rule: AwsNameRule, explicit: () => string, hex: string): string =>
  nameWhereAutoNameTooLong(logical, rule, explicit).name ?? autoName(logical, hex);
/** Schedule names the App schema accepts: its pattern, at most 40 characters (half of them 30 or more, where auto-names stop fitting). */
const scheduleArb = fc.oneof(fc.stringMatching(/^[a-z][a-z0-9-]{0,39}$/), fc.stringMatching(/^[a-z][a-z0-9-]{29,39}$/));
/** The longest names the schema allows for the stage and app, and for a schedule. */
const LONGEST = { org: 'o'.repeat(NAME_LIMITS.Organization[1]), project: 'p'.repeat(NAME_LIMITS.Project[1]), stage: 's'.repeat(NAME_LIMITS.Stage[1]), app: 'a'.repeat(NAME_LIMITS.App[1]), schedule: 'x'.repeat(40) };
const longestStage = () => stageNames(stage({ name: LONGEST.stage, organization: { ...AWS_ORG, name: LONGEST.org }, project: { name: LONGEST.project } }));

t.test('every AWS identifier derived from schema-valid names passes its AWS rule', async (t) => {
  fc.assert(
    fc.property(
      nameArb('Organization'),
      nameArb('Project'),
      nameArb('Stage'),
      nameArb('App'),
      nameArb('Service'),
      scheduleArb,
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
          [autoName(`app-${appName}-scheduler-policy`, hex), AWS_NAME_RULES.iamInlinePolicy],
          [autoName(`app-${appName}-schedule-runner-policy`, hex), AWS_NAME_RULES.iamInlinePolicy],
          [autoName(`app-${appName}-schedule-${schedule}-scheduler-policy`, hex), AWS_NAME_RULES.iamInlinePolicy],
          [boundedOrAutoName(`app-${appName}-schedule-${schedule}`, AWS_NAME_RULES.schedule, () => names.schedule(appName, schedule), hex), AWS_NAME_RULES.schedule],
          [boundedOrAutoName(`app-${appName}-scheduler-role`, AWS_NAME_RULES.iamRole, () => names.schedulerRole(appName), hex), AWS_NAME_RULES.iamRole],
          [boundedOrAutoName(`app-${appName}-scheduler-policy`, AWS_NAME_RULES.iamInlinePolicy, () => names.schedulerPolicy(appName), hex), AWS_NAME_RULES.iamInlinePolicy],
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

t.test('schedules: the longest app × the longest schedule name get an explicit name within 64; the scheduler role and policy fit as auto-names', async (t) => {
  const names = longestStage();
  const logical = `app-${LONGEST.app}-schedule-${LONGEST.schedule}`;
  t.equal(autoName(logical, '0123456').length, 78, 'the auto-name would be 78 characters');
  const { name } = nameWhereAutoNameTooLong(logical, AWS_NAME_RULES.schedule, () => names.schedule(LONGEST.app, LONGEST.schedule));
  t.equal(name, names.schedule(LONGEST.app, LONGEST.schedule), 'so the schedule gets an explicit name');
  t.equal(name!.length, 64);
  t.same(awsNameProblems(name!, AWS_NAME_RULES.schedule), []);
  t.match(name, new RegExp(`^${LONGEST.app}-x+-[0-9a-f]{8}$`), 'readable: app and schedule, then the hash');
  for (const [logicalName, rule] of [[`app-${LONGEST.app}-scheduler-role`, AWS_NAME_RULES.iamRole], [`app-${LONGEST.app}-scheduler-policy`, AWS_NAME_RULES.iamInlinePolicy]] as const) {
    t.same(nameWhereAutoNameTooLong(logicalName, rule, () => 'unused'), {}, `${logicalName}: its auto-name fits (${logicalName.length + 8} ≤ ${rule.max}), it keeps it`);
  }
  // The explicit names of role and policy, should a longer app name limit ever need them.
  t.same(awsNameProblems(names.schedulerRole('a'.repeat(60)), AWS_NAME_RULES.iamRole), []);
  t.same(awsNameProblems(names.schedulerPolicy('a'.repeat(130)), AWS_NAME_RULES.iamInlinePolicy), []);
});

t.test('schedules: a name only where the auto-name exceeds 64 characters', async (t) => {
  const names = longestStage();
  const app = LONGEST.app;
  // app-<16>-schedule-<26> is 56 characters: with Pulumi's 8 it is exactly 64.
  const fits = 'y'.repeat(26);
  t.same(nameWhereAutoNameTooLong(`app-${app}-schedule-${fits}`, AWS_NAME_RULES.schedule, () => names.schedule(app, fits)), {}, '64: the auto-name, no name input');
  const over = `${fits}z`;
  t.same(nameWhereAutoNameTooLong(`app-${app}-schedule-${over}`, AWS_NAME_RULES.schedule, () => names.schedule(app, over)), { name: names.schedule(app, over) }, '65: an explicit name');
  t.same(nameWhereAutoNameTooLong('app-web-schedule-cleanup', AWS_NAME_RULES.schedule, () => names.schedule('web', 'cleanup')), {});
});

t.test('schedules: explicit names are distinct for distinct (app, schedule) pairs and stages', async (t) => {
  const names = longestStage();
  fc.assert(
    fc.property(nameArb('App'), scheduleArb, nameArb('App'), scheduleArb, (appA, schedA, appB, schedB) => {
      fc.pre(appA !== appB || schedA !== schedB);
      return names.schedule(appA, schedA) !== names.schedule(appB, schedB);
    }),
    { numRuns: 500 },
  );
  const cut = `${LONGEST.schedule.slice(0, 39)}y`;
  t.not(names.schedule(LONGEST.app, LONGEST.schedule), names.schedule(LONGEST.app, cut), 'distinct where the readable part is cut');
  t.not(names.schedule('ab-cd', 'ef'), names.schedule('ab', 'cd-ef'), 'distinct where app and schedule read the same joined');
  const other = stageNames(stage({ name: 'production', organization: AWS_ORG }));
  t.not(names.schedule(LONGEST.app, LONGEST.schedule), other.schedule(LONGEST.app, LONGEST.schedule), 'schedule names are account-wide (default group): each stage its own');
  t.not(names.schedulerRole(LONGEST.app), other.schedulerRole(LONGEST.app), 'IAM role names too');
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
  t.match(awsNameProblems('a'.repeat(65), AWS_NAME_RULES.schedule), [/1–64 characters/]);
  t.match(awsNameProblems('web/cleanup', AWS_NAME_RULES.schedule), [/allows only/]);
  t.same(awsNameProblems('web.cleanup_1-2', AWS_NAME_RULES.schedule), []);
});
