import t from 'tap';
import * as automation from '@pulumi/pulumi/automation/index.js';
import { EngineError } from '../../../../src/errors.js';
import { stackLocation } from '../../../../src/providers/aws/engine/backend.js';
import { firstErrorLine, mapPulumiError, shortTail } from '../../../../src/providers/aws/engine/errors.js';

const loc = stackLocation('/state', { name: 'acme', provider: 'aws' }, { organization: 'acme', project: 'shop', stage: 'dev' }, '/');
const ctx = (over: Partial<Parameters<typeof mapPulumiError>[1]> = {}) => ({
  subject: 'stage acme/shop/dev',
  operation: 'up',
  loc,
  locks: async () => [],
  probe: { hostname: 'h', isAlive: () => true },
  ...over,
});
// The Automation API builds its errors from the CLI's result exactly like this (both are
// exported at runtime, marked internal in the typings).
const internals = automation as unknown as {
  CommandResult: new (stdout: string, stderr: string, code: number, err?: Error) => unknown;
  createCommandError: (result: unknown) => Error;
};
const cliError = (stderr: string, stdout = '', code = 255, err?: Error): Error =>
  internals.createCommandError(new internals.CommandResult(stdout, stderr, code, err));

t.test('Automation API errors map to setopsd errors', async (t) => {
  t.match(await mapPulumiError(cliError("error: no stack named 'dev' found"), ctx()), { code: 'E_PULUMI_STACK_NOT_FOUND', message: /^stage acme\/shop\/dev: the Pulumi stack setops-acme-shop\/dev does not exist in file:\/\// });
  t.match(await mapPulumiError(cliError('error: [409] Conflict: Another update is currently in progress.'), ctx()), { code: 'E_LOCKED' });
  t.match(await mapPulumiError(cliError('error: getting secrets manager: incorrect passphrase'), ctx()), {
    code: 'E_PULUMI_PASSPHRASE',
    message: /the passphrase does not decrypt the stack's secrets; set PULUMI_CONFIG_PASSPHRASE \(or _FILE\) to the passphrase the stack was created with$/,
  });
  const enoent = Object.assign(new Error('spawn /x/bin/pulumi ENOENT'), { code: 'ENOENT' });
  t.match(await mapPulumiError(cliError('spawn /x/bin/pulumi ENOENT', '', -2, enoent), ctx()), { code: 'E_PULUMI_CLI_MISSING', message: /required for up of stage acme\/shop\/dev/ });
  const ac = new AbortController();
  ac.abort();
  t.match(await mapPulumiError(cliError('error: canceled'), ctx({ signal: ac.signal })), { code: 'E_CANCELED', name: 'CanceledError' });
  const own = new EngineError('stage x: mine', { code: 'E_AWS_PROGRAM' });
  t.equal(await mapPulumiError(own, ctx()), own, 'setopsd errors pass through');
});

t.test('generic failures: first error line in the message, a short tail in data, never stdout', async (t) => {
  const stdout = 'Updating (dev)\n' + 'x'.repeat(10000) + '\nSTDOUT-ONLY\n';
  const stderr = Array.from({ length: 30 }, (_, i) => `line ${i}`).join('\n') + '\nerror: creating ECS Service: InvalidParameterException: bad subnet\n';
  const e = await mapPulumiError(cliError(stderr, stdout), ctx());
  t.equal(e.message, 'stage acme/shop/dev: pulumi up failed: creating ECS Service: InvalidParameterException: bad subnet');
  t.equal(e.code, 'E_PULUMI_UP_FAILED');
  const tail = String(e.data.tail);
  t.ok(tail.split('\n').length <= 8, 'short tail');
  t.notMatch(JSON.stringify({ m: e.message, d: e.data }), /STDOUT-ONLY|xxxxxxxx/);
  t.equal(firstErrorLine('warning: x\nerror: boom\nerror: second'), 'boom');
  t.equal(firstErrorLine('nothing'), null);
  t.equal(shortTail('a\n\nb\nc\n', 2), 'b\nc');
  t.equal(shortTail('y'.repeat(3000), 8, 100).length, 101);
});

t.test('deterministic up failures are terminal; throttling, network and lock conflicts are retryable', async (t) => {
  const cases: [string, string, boolean][] = [
    ['error: creating RDS DB Instance: InvalidParameterCombination: RDS does not support creating a DB instance with the following combination', 'invalid arguments', false],
    ['error: Running program failed: TypeError: cannot read properties of undefined', 'program error', false],
    ['error: creating EC2 VPC: VpcLimitExceeded: The maximum number of VPCs has been reached.', 'quota exceeded', false],
    ['error: creating ELBv2 Load Balancer: TooManyLoadBalancers: ServiceQuotaExceededException: quota reached', 'service quota', false],
    ['error: creating IAM Policy: LimitExceeded: Cannot exceed quota for PoliciesPerRole: 10, status code: 409', 'IAM quota', false],
    ['error: AccessDenied: User is not authorized to perform: ecs:CreateService', 'permissions', false],
    ['error: updating ECS Service: ThrottlingException: Rate exceeded', 'throttling', true],
    ['error: describing CloudWatch alarms: LimitExceededException: Rate exceeded', 'throttling as a limit', true],
    ['error: reading S3 Bucket: RequestError: send request failed caused by: Get "https://s3.amazonaws.com": dial tcp: lookup s3.amazonaws.com: no such host', 'network', true],
    ['error: operation error ECS: CreateService, https response error StatusCode: 503, ServiceUnavailableException', 'service unavailable', true],
  ];
  for (const [stderr, what, retryable] of cases) {
    const e = await mapPulumiError(cliError(stderr), ctx());
    t.equal(e.code, retryable ? 'E_PULUMI_TRANSIENT' : 'E_PULUMI_UP_FAILED', `${what}: ${e.code}`);
    t.equal(e.retryable, retryable, `${what}: ${retryable ? 'retryable' : 'terminal'}`);
  }
  const locked = await mapPulumiError(cliError('error: the stack is currently locked by 1 lock(s)'), ctx());
  t.equal(locked.retryable, true, 'a lock conflict is retryable');
});

t.test('the engine events decide too: a throttled resource step with a generic stderr is retryable', async (t) => {
  const translation = {
    diagnostics: [{ severity: 'error' as const, subject: 'resource/aws:ecs/service:Service/app-web-service', message: 'updating ECS Service: ThrottlingException: Rate exceeded' }],
    failed: ['resource/aws:ecs/service:Service/app-web-service'],
    policy: [],
  } as unknown as Parameters<typeof mapPulumiError>[1]['translation'];
  const e = await mapPulumiError(cliError('error: update failed\n'), ctx({ translation }));
  t.equal(e.code, 'E_PULUMI_TRANSIENT');
  const quota = { ...translation!, diagnostics: [{ severity: 'error' as const, message: 'creating EIP: AddressLimitExceeded: The maximum number of addresses has been reached.' }] };
  t.equal((await mapPulumiError(cliError('error: update failed\n'), ctx({ translation: quota }))).code, 'E_PULUMI_UP_FAILED');
});
