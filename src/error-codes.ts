/**
 * Every error code setopsd uses, and whether an operation that failed with it may succeed when
 * tried again without a change of input. The work queue of the daemon retries exactly the
 * retryable ones (with backoff); a terminal error waits for new input: a new commit, a changed
 * secret, an operator's `setopsd retry`.
 *
 * The rule of thumb: retryable when the cause is outside the stage's desired state and may pass
 * (a lock held by someone else, a network error, a throttled AWS call, a server that did not
 * start in time); terminal when the same desired state would fail the same way (invalid
 * manifests, an unsafe plan, a missing secret, a failed health check of the same model, a Pulumi
 * program error, a corrupt state file).
 */
export const ERROR_CODES = {
  // Generic
  E_SETOPSD: { retryable: false, meaning: 'an error without a more specific code' },
  E_BUG: { retryable: false, meaning: 'an unexpected error: a bug in setopsd' },
  E_USAGE: { retryable: false, meaning: 'wrong command-line usage' },
  E_CANCELED: { retryable: false, meaning: 'the operation was canceled (SIGINT/SIGTERM)' },
  E_ENGINE: { retryable: true, meaning: 'an engine step failed outside the desired state (file system, process); stalls after repeated failures' },
  E_INTERRUPTED: { retryable: true, meaning: 'a deployment was interrupted: its process is gone' },

  // Manifests and plans
  E_MANIFEST: { retryable: false, meaning: 'a manifest cannot be read (missing file, unknown ref)' },
  E_VALIDATION: { retryable: false, meaning: 'the manifests are invalid' },
  E_PLAN: { retryable: false, meaning: 'a plan cannot be made' },
  E_PLAN_EMPTY: { retryable: false, meaning: 'a saved plan holds no stage' },
  E_PLAN_FILE: { retryable: false, meaning: 'a saved plan file is unreadable or was edited' },
  E_STALE_PLAN: { retryable: false, meaning: 'the stage changed since the plan was made' },
  E_UNSAFE_PLAN: { retryable: false, meaning: 'the plan would lose data or touch a protected stage' },
  E_DATA_LOSS: { retryable: false, meaning: 'a change destroys data and needs --allow-data-loss' },
  E_PROTECTED_STAGE: { retryable: false, meaning: 'the stage is protected' },
  E_DELETION_PROTECTION: { retryable: false, meaning: 'the service has deletionProtection' },
  E_VERSION: { retryable: false, meaning: 'a service version cannot be compared' },
  E_VERSION_DOWNGRADE: { retryable: false, meaning: 'a service major version would go down' },
  E_NOT_DEPLOYED: { retryable: false, meaning: 'the stage or app is not deployed' },
  E_NO_APP: { retryable: false, meaning: 'no such app in the stage' },
  E_UNSUPPORTED: { retryable: false, meaning: 'the engine cannot run this kind of service' },
  E_REPLACE_IN_PLACE: { retryable: false, meaning: 'a field that cannot change in place changed' },
  E_POLICY_DENIED: { retryable: false, meaning: 'the desired state violates a deny rule of a kind: Policy document' },

  // Secrets
  E_SECRET_MISSING: { retryable: false, meaning: 'a secret the stage needs is not set' },
  E_SECRETS_FILE: { retryable: false, meaning: 'the secrets file is unreadable or malformed' },
  E_SECRETS_MODE: { retryable: false, meaning: 'the secrets file is readable by other users' },

  // State directory
  E_LOCKED: { retryable: true, meaning: 'another process holds the stage (or the Pulumi stack)' },
  E_STATE_UNREADABLE: { retryable: false, meaning: 'a state or journal file cannot be read' },
  E_STATE_CORRUPT: { retryable: false, meaning: 'a state or journal file is not valid' },
  E_FILE_SYSTEM: { retryable: true, meaning: 'a file cannot be written: read-only file system, disk full, permission denied, immutable file' },

  // Local engine
  E_LOCAL_INVALID: { retryable: false, meaning: 'the stage cannot run on the local engine' },
  E_MISSING_BINARY: { retryable: false, meaning: 'a program the local engine needs is not installed' },
  E_LOCAL_START: { retryable: true, meaning: 'a local supervisor or service server did not start in time' },
  E_LOCAL_CONTROL: { retryable: true, meaning: 'the stage supervisor could not be reached or answered oddly' },
  E_LOCAL_UNAUTHORIZED: { retryable: false, meaning: 'a control call without the supervisor token' },
  E_ROUTER_PORT: { retryable: true, meaning: 'the stage router cannot listen on its port' },
  E_UNHEALTHY: { retryable: false, meaning: 'a new version did not pass its health check' },
  E_PREDEPLOY: { retryable: false, meaning: 'the pre-deploy command failed' },

  // Pulumi and AWS
  E_PULUMI_CLI_MISSING: { retryable: false, meaning: 'the Pulumi CLI is not installed' },
  E_PULUMI_CLI: { retryable: false, meaning: 'the Pulumi CLI cannot be used' },
  E_PULUMI_STATE: { retryable: false, meaning: 'a Pulumi checkpoint or export is not valid' },
  E_PULUMI_PASSPHRASE: { retryable: false, meaning: 'the passphrase does not decrypt the stack' },
  E_PULUMI_PASSPHRASE_MISSING: { retryable: false, meaning: 'no passphrase for the stack' },
  E_PULUMI_PENDING_OPERATIONS: { retryable: false, meaning: 'the stack has pending operations to clear by hand' },
  E_PULUMI_STACK_NOT_FOUND: { retryable: false, meaning: 'the Pulumi stack does not exist' },
  E_PULUMI_PREVIEW_FAILED: { retryable: false, meaning: 'pulumi preview failed (program or provider error)' },
  E_PULUMI_UP_FAILED: { retryable: false, meaning: 'pulumi up failed (program or provider error)' },
  E_PULUMI_DESTROY_FAILED: { retryable: false, meaning: 'pulumi destroy failed (program or provider error)' },
  E_PULUMI_REFRESH_FAILED: { retryable: false, meaning: 'pulumi refresh failed (program or provider error)' },
  E_PULUMI_READ_FAILED: { retryable: false, meaning: 'the Pulumi stack could not be read' },
  E_PULUMI_TRANSIENT: { retryable: true, meaning: 'pulumi failed on a throttled or broken AWS call' },
  E_AWS_PROGRAM: { retryable: false, meaning: 'the stage cannot be expressed as AWS resources' },
  E_AWS_ROLLED_BACK: { retryable: false, meaning: 'ECS rolled a deployment back (circuit breaker)' },
  E_AWS_SECRET_MISSING: { retryable: false, meaning: 'an SSM parameter the stage needs does not exist' },
  E_AWS_SSM: { retryable: false, meaning: 'an SSM call was refused (credentials, permissions)' },
  E_AWS_ECS: { retryable: false, meaning: 'an ECS call was refused (credentials, permissions)' },
  E_AWS_BACKUP: { retryable: false, meaning: 'an RDS, DocumentDB or ElastiCache snapshot call was refused (credentials, permissions, a snapshot that exists or a database that is not available)' },
  E_AWS_THROTTLED: { retryable: true, meaning: 'an AWS call was throttled' },
  E_AWS_NETWORK: { retryable: true, meaning: 'an AWS endpoint could not be reached' },
  E_AWS_PREDEPLOY: { retryable: false, meaning: 'the stack records no pre-deploy task for the app' },
  E_AWS_PREDEPLOY_FAILED: { retryable: false, meaning: 'the pre-deploy task exited non-zero' },
  E_AWS_PREDEPLOY_NOT_STARTED: { retryable: true, meaning: 'the pre-deploy task could not start' },
  E_AWS_CLI_MISSING: { retryable: false, meaning: 'the aws CLI is not installed' },
  E_AWS_LOGS: { retryable: true, meaning: 'aws logs failed' },

  // Daemon: webhooks and remote sources
  E_WEBHOOK_TOO_LARGE: { retryable: false, meaning: 'a webhook body over the size limit' },
  E_WEBHOOK_UNSIGNED: { retryable: false, meaning: 'a webhook without its signature or token' },
  E_WEBHOOK_SIGNATURE: { retryable: false, meaning: 'a webhook with a wrong signature or token' },
  E_WEBHOOK_MALFORMED: { retryable: false, meaning: 'a webhook body that is not the expected JSON' },
  E_WEBHOOK_SECRET: { retryable: false, meaning: 'no webhook secret is configured' },
  E_GIT_AUTH: { retryable: false, meaning: 'the git server wants credentials or refused them' },
  E_GIT_URL: { retryable: false, meaning: 'the remote URL cannot be used (scheme, credentials in it, query)' },
  E_GIT_FETCH: { retryable: true, meaning: 'fetching failed on the way (network, timeout, HTTP 5xx/408/429)' },
  E_GIT_NOT_A_REPOSITORY: { retryable: false, meaning: 'no git repository at the URL' },
  E_GIT_CLONE_DIR: { retryable: false, meaning: 'the local clone of a remote cannot be created' },
  E_GIT_TOO_LARGE: { retryable: false, meaning: 'a pull request ref is more than the daemon fetches (128 MiB); it is not read' },
  E_GIT_BRANCH_MISSING: { retryable: false, meaning: 'a branch (the tracked one, or a preview or pull request branch) or pull request ref does not exist (deleted or never pushed)' },
  E_BACKUP_FAILED: { retryable: true, meaning: 'a backup did not complete (server error, disk full); it is recorded as failed' },
  E_BACKUP_NOT_FOUND: { retryable: false, meaning: 'no completed backup with that id for the service' },
  E_BACKUP_CORRUPT: { retryable: false, meaning: 'a backup file does not match its recorded checksum' },
  E_RESTORE_FAILED: { retryable: false, meaning: 'restoring a backup failed; see the message for the state the service is in' },
  E_TASK_FAILED: { retryable: false, meaning: 'a one-off task could not be started or ended non-zero' },
  E_GIT_FORCE_PUSHED: { retryable: false, meaning: 'the tracked branch was force-pushed; `setopsd sync` accepts the new head' },

  // Pull-request comments (`setopsd comment`, `daemon --comment-prs`)
  E_REVIEW_CONFIG: { retryable: false, meaning: 'a pull-request comment cannot be posted: no token, repository or pull request given' },
  E_REVIEW_AUTH: { retryable: false, meaning: 'the GitHub/GitLab API refused the token (HTTP 401/403) or does not know the pull request (404)' },
  E_REVIEW_API: { retryable: true, meaning: 'the GitHub/GitLab API failed on the way (network, HTTP 5xx/429)' },

  // Daemon API: what its HTTP layer answers before an operation runs
  E_NOT_FOUND: { retryable: false, meaning: 'no such API path, stage or deployment (HTTP 404)' },
  E_METHOD_NOT_ALLOWED: { retryable: false, meaning: 'the API path does not take that method (HTTP 405)' },
  E_UNAUTHORIZED: { retryable: false, meaning: 'the API token is missing or wrong (HTTP 401)' },
  E_BODY_TOO_LARGE: { retryable: false, meaning: 'a request body over the route\'s limit (HTTP 413)' },
  E_UNAVAILABLE: { retryable: true, meaning: 'the daemon is starting or shutting down (HTTP 503)' },
} as const satisfies Record<string, { retryable: boolean; meaning: string }>;

/** A stable machine-readable error code (see `ERROR_CODES`). */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Whether a string is a known error code (for codes that cross a process boundary). */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

/** Whether an operation that failed with `code` may succeed when tried again unchanged. */
export function isRetryable(code: ErrorCode): boolean {
  return ERROR_CODES[code].retryable;
}

/** The code of a failed AWS SDK call: throttling and network errors are retryable, the rest is `refused`. */
export function awsCallCode(err: { name?: string; $metadata?: { httpStatusCode?: number } }, refused: ErrorCode): ErrorCode {
  const name = err.name ?? '';
  if (THROTTLED.has(name) || err.$metadata?.httpStatusCode === 429) return 'E_AWS_THROTTLED';
  if (err.$metadata?.httpStatusCode === undefined || (err.$metadata.httpStatusCode >= 500 && err.$metadata.httpStatusCode < 600)) return 'E_AWS_NETWORK';
  return refused;
}

const THROTTLED = new Set(['ThrottlingException', 'Throttling', 'ThrottledException', 'TooManyRequestsException', 'RequestLimitExceeded', 'RequestThrottled', 'SlowDown']);
