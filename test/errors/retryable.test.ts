/**
 * Retryable vs terminal, per error code. The daemon's work queue retries exactly the retryable
 * codes; a terminal one waits for new input. This table is the specification: adding a code to
 * `src/error-codes.ts` without deciding here fails the first test.
 */
import t from 'tap';
import * as automation from '@pulumi/pulumi/automation/index.js';
import { ERROR_CODES, isErrorCode, type ErrorCode } from '../../src/error-codes.js';
import { EngineError, LockedError, ManifestError, PlanError, PolicyError, SetopsError, StalePlanError, ValidationError } from '../../src/errors.js';
import { stackLocation } from '../../src/providers/aws/engine/backend.js';
import { mapPulumiError } from '../../src/providers/aws/engine/errors.js';
import { createSsmParameterChecker } from '../../src/providers/aws/engine/ssm-parameters.js';
import { DUMMY_CREDENTIALS, fakeAws } from '../providers/aws/engine/fake-aws.js';

const RETRYABLE: readonly ErrorCode[] = [
  'E_ENGINE', // an engine step failed outside the desired state; the daemon stalls the stage after 3
  'E_INTERRUPTED',
  'E_LOCKED',
  'E_LOCAL_START',
  'E_LOCAL_CONTROL',
  'E_ROUTER_PORT',
  'E_PULUMI_TRANSIENT',
  'E_AWS_THROTTLED',
  'E_AWS_NETWORK',
  'E_AWS_PREDEPLOY_NOT_STARTED',
  'E_AWS_LOGS',
  'E_GIT_FETCH',
  'E_REVIEW_API',
  'E_UNAVAILABLE', // the daemon is starting or shutting down, or has all its event streams open
  'E_FILE_SYSTEM', // a full disk or a read-only mount can be fixed by an operator without a new commit
  'E_BACKUP_FAILED', // a server error or a full disk may pass; the record says failed either way
];
const TERMINAL: readonly ErrorCode[] = [
  'E_SETOPSD', 'E_BUG', 'E_USAGE', 'E_CANCELED',
  'E_MANIFEST', 'E_VALIDATION', 'E_PLAN', 'E_PLAN_EMPTY', 'E_PLAN_FILE', 'E_STALE_PLAN', 'E_UNSAFE_PLAN', 'E_DATA_LOSS',
  'E_PROTECTED_STAGE', 'E_DELETION_PROTECTION', 'E_VERSION', 'E_VERSION_DOWNGRADE', 'E_NOT_DEPLOYED', 'E_NO_APP',
  'E_UNSUPPORTED', 'E_REPLACE_IN_PLACE',
  'E_POLICY_DENIED', // the same desired state violates the same rule: wait for a new commit
  'E_SECRET_MISSING', 'E_SECRETS_FILE', 'E_SECRETS_MODE',
  'E_STATE_UNREADABLE', 'E_STATE_CORRUPT',
  'E_LOCAL_INVALID', 'E_MISSING_BINARY', 'E_LOCAL_UNAUTHORIZED', 'E_UNHEALTHY', 'E_PREDEPLOY',
  'E_PULUMI_CLI_MISSING', 'E_PULUMI_CLI', 'E_PULUMI_STATE', 'E_PULUMI_PASSPHRASE', 'E_PULUMI_PASSPHRASE_MISSING',
  'E_PULUMI_PENDING_OPERATIONS', 'E_PULUMI_STACK_NOT_FOUND', 'E_PULUMI_PREVIEW_FAILED', 'E_PULUMI_UP_FAILED',
  'E_PULUMI_DESTROY_FAILED', 'E_PULUMI_REFRESH_FAILED', 'E_PULUMI_READ_FAILED',
  'E_BACKUP_NOT_FOUND', 'E_BACKUP_CORRUPT', 'E_RESTORE_FAILED', 'E_TASK_FAILED',
  'E_AWS_PROGRAM', 'E_AWS_ROLLED_BACK', 'E_AWS_SECRET_MISSING', 'E_AWS_SSM', 'E_AWS_ECS', 'E_AWS_BACKUP', 'E_AWS_PREDEPLOY',
  'E_AWS_PREDEPLOY_FAILED', 'E_AWS_CLI_MISSING',
  'E_WEBHOOK_TOO_LARGE', 'E_WEBHOOK_UNSIGNED', 'E_WEBHOOK_SIGNATURE', 'E_WEBHOOK_MALFORMED', 'E_WEBHOOK_SECRET',
  'E_GIT_AUTH', 'E_GIT_URL', 'E_GIT_NOT_A_REPOSITORY', 'E_GIT_CLONE_DIR', 'E_GIT_TOO_LARGE', 'E_GIT_BRANCH_MISSING', 'E_GIT_FORCE_PUSHED',
  'E_NOT_FOUND', 'E_METHOD_NOT_ALLOWED', 'E_UNAUTHORIZED', 'E_BODY_TOO_LARGE',
  'E_REVIEW_CONFIG', 'E_REVIEW_AUTH',
];

t.test('every code is decided: retryable or terminal, exactly once', async (t) => {
  const decided = [...RETRYABLE, ...TERMINAL].sort();
  t.same(decided, Object.keys(ERROR_CODES).sort(), 'the table above lists every code of src/error-codes.ts once');
  t.equal(new Set(decided).size, decided.length, 'no code is both');
});

t.test('an error is retryable exactly when its code is', async (t) => {
  for (const code of RETRYABLE) t.equal(new SetopsError('x', { code }).retryable, true, `${code} is retryable`);
  for (const code of TERMINAL) t.equal(new SetopsError('x', { code }).retryable, false, `${code} is terminal`);
  t.equal(new EngineError('x', { code: 'E_UNHEALTHY' }).retryable, false, 'an EngineError has no retryable default: its code decides');
  t.equal(new EngineError('x', { code: 'E_LOCAL_START' }).retryable, true);
});

t.test('the error classes carry the codes the issue names', async (t) => {
  t.match(new ValidationError([]), { code: 'E_VALIDATION', retryable: false }, 'invalid manifests are terminal');
  t.match(new ManifestError('m'), { code: 'E_MANIFEST', retryable: false });
  t.match(new PlanError('p', { code: 'E_UNSAFE_PLAN' }), { code: 'E_UNSAFE_PLAN', retryable: false }, 'an unsafe plan is terminal');
  t.match(new StalePlanError('s'), { code: 'E_STALE_PLAN', retryable: false });
  t.match(new PolicyError('p', []), { code: 'E_POLICY_DENIED', retryable: false }, 'a deny policy violation is terminal');
  t.match(new LockedError('l'), { code: 'E_LOCKED', retryable: true }, 'a lock held is retryable');
  t.equal(new SetopsError('x').code, 'E_SETOPSD');
  t.ok(isErrorCode('E_LOCKED'));
  t.notOk(isErrorCode('E_NOT_A_CODE'));
  t.notOk(isErrorCode('toString'), 'no inherited property counts');
});

// Pulumi: a program or provider error is terminal, a throttled or broken AWS call retryable.
const internals = automation as unknown as {
  CommandResult: new (stdout: string, stderr: string, code: number, err?: Error) => unknown;
  createCommandError: (result: unknown) => Error;
};
const cliError = (stderr: string): Error => internals.createCommandError(new internals.CommandResult('', stderr, 255));
const ctx = (operation: string) => ({
  subject: 'stage acme/shop/dev',
  operation,
  loc: stackLocation('/state', { name: 'acme', provider: 'aws' }, { organization: 'acme', project: 'shop', stage: 'dev' }, '/'),
  locks: async () => [],
  probe: { hostname: 'h', isAlive: () => true },
});

t.test('Pulumi failures: program errors terminal per operation, throttling and network retryable', async (t) => {
  const program = 'error: creating ECS Service: InvalidParameterException: bad subnet\n';
  for (const [operation, code] of [['up', 'E_PULUMI_UP_FAILED'], ['preview', 'E_PULUMI_PREVIEW_FAILED'], ['destroy', 'E_PULUMI_DESTROY_FAILED'], ['refresh', 'E_PULUMI_REFRESH_FAILED']] as const) {
    t.match(await mapPulumiError(cliError(program), ctx(operation)), { code, retryable: false }, `${operation}: a program error`);
  }
  for (const stderr of [
    'error: creating ECS Service: ThrottlingException: Rate exceeded\n',
    'error: reading RDS instance: RequestLimitExceeded: Request limit exceeded.\n',
    'error: Post "https://ecs.eu-central-1.amazonaws.com/": dial tcp: i/o timeout\n',
    'error: read tcp 10.0.0.1:443: read: connection reset by peer\n',
  ]) {
    t.match(await mapPulumiError(cliError(stderr), ctx('up')), { code: 'E_PULUMI_TRANSIENT', retryable: true }, stderr.trim());
  }
  t.match(await mapPulumiError(cliError('error: [409] Conflict: Another update is currently in progress.'), ctx('up')), { code: 'E_LOCKED', retryable: true });
});

t.test('AWS SDK calls: throttled retryable, refused terminal (a local HTTP server speaking the AWS JSON protocol)', async (t) => {
  const check = async (status: number, type: string) => {
    const aws = await fakeAws(t, () => ({ status, body: { __type: type, message: 'm' } }));
    const checker = createSsmParameterChecker({ client: { region: 'eu-central-1', endpoint: aws.url, credentials: DUMMY_CREDENTIALS, maxAttempts: 1 } });
    return checker.missing(['/x'], 'stage acme/shop/production', new AbortController().signal).then(
      () => null,
      (e: SetopsError) => e,
    );
  };
  t.match(await check(400, 'ThrottlingException'), { code: 'E_AWS_THROTTLED', retryable: true });
  t.match(await check(400, 'AccessDeniedException'), { code: 'E_AWS_SSM', retryable: false });
  t.match(await check(503, 'ServiceUnavailable'), { code: 'E_AWS_NETWORK', retryable: true });
});
