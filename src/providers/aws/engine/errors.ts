/**
 * Pulumi failures → setopsd errors. Automation API errors carry the whole stdout and stderr of
 * the CLI; setopsd messages use only the first meaningful error line and keep a short tail in
 * `data.tail` (never the whole output).
 */
import { CanceledError, EngineError, SetopsError } from '../../../errors.js';
import type { ErrorCode } from '../../../error-codes.js';
import type { StackLocation } from './backend.js';
import { cliMissingError } from './cli.js';
import { errorTail } from './events/error-tail.js';
import type { Translation } from './events/types.js';
import { lockedError, locksFromMessage, type HostProbe, type StackLock } from './locks.js';

/** The parts of an Automation API `CommandError` setopsd reads. */
interface CommandErrorLike {
  name?: string;
  message?: string;
  commandResult?: { stdout?: string; stderr?: string; code?: number; err?: { code?: string; message?: string } };
}

const LOCK_TEXTS = ['the stack is currently locked by', '[409] Conflict: Another update is currently in progress.'];

function stderrOf(err: unknown): string {
  return (err as CommandErrorLike)?.commandResult?.stderr ?? '';
}

/** True for the Automation API's `StackNotFoundError` (`no stack named … found`). */
export function isStackNotFound(err: unknown): boolean {
  const e = err as CommandErrorLike;
  return e?.name === 'StackNotFoundError' || /no stack named.*found/.test(stderrOf(err));
}

/** True for a locked stack (`ConcurrentUpdateError`). */
export function isLocked(err: unknown): boolean {
  const e = err as CommandErrorLike;
  return e?.name === 'ConcurrentUpdateError' || LOCK_TEXTS.some((t) => stderrOf(err).includes(t));
}

/** The CLI executable could not be started. */
function isSpawnFailure(err: unknown): boolean {
  const e = err as CommandErrorLike;
  return e?.commandResult?.err?.code === 'ENOENT' || /spawn .*ENOENT/.test(stderrOf(err));
}

/** The last non-empty lines of a text, short. */
export function shortTail(text: string, maxLines = 8, maxChars = 1500): string {
  const lines = text
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .filter((l) => l.trim() !== '');
  const tail = lines.slice(-maxLines).join('\n');
  return tail.length > maxChars ? '…' + tail.slice(tail.length - maxChars) : tail;
}

/** The first line of stderr that reads like an error (`error: …`), without the prefix. */
export function firstErrorLine(stderr: string): string | null {
  for (const raw of stderr.split('\n')) {
    const line = raw.trim();
    const m = /^error:\s*(.+)$/i.exec(line);
    if (m) return m[1]!.slice(0, 300);
  }
  return null;
}

/** Everything `mapPulumiError` needs to name the failure. */
export interface ErrorContext {
  /** `stage org/project/stage`. */
  subject: string;
  /** `preview`, `up`, `destroy`, `refresh`, `read`. */
  operation: string;
  loc: StackLocation;
  signal?: AbortSignal;
  /** The translated events of the run, when there were any. */
  translation?: Translation;
  /** Reads the stack's lock files (file backend). */
  locks: () => Promise<StackLock[]>;
  /** Tells whether a lock holder still runs. */
  probe: HostProbe;
}

/** `err` when it is a SetopsError (it says what to do), else an EngineError (`E_ENGINE`) with `message`. */
export function orEngineError(err: unknown, message: string): SetopsError {
  return err instanceof SetopsError ? err : new EngineError(message, { code: 'E_ENGINE', cause: err });
}

/** Maps any error thrown while driving Pulumi to a SetopsError. */
export async function mapPulumiError(err: unknown, ctx: ErrorContext): Promise<SetopsError> {
  if (ctx.signal?.aborted) {
    return new CanceledError(`${ctx.subject}: pulumi ${ctx.operation} canceled; the stack may have pending operations, check with \`setopsd plan\``, { cause: err });
  }
  if (err instanceof SetopsError) return err;
  if (isSpawnFailure(err)) return cliMissingError(`${ctx.operation} of ${ctx.subject}`, err);
  const stderr = stderrOf(err);
  if (isLocked(err)) {
    const files = await ctx.locks().catch(() => []);
    return lockedError(ctx.subject, ctx.loc, files.length > 0 ? files : locksFromMessage(stderr, ctx.probe), err);
  }
  if (isStackNotFound(err)) {
    return new EngineError(`${ctx.subject}: the Pulumi stack ${ctx.loc.project}/${ctx.loc.stack} does not exist in ${ctx.loc.backend.url}`, {
      code: 'E_PULUMI_STACK_NOT_FOUND',
      cause: err,
    });
  }
  if (/incorrect passphrase|passphrase must be set|failed to decrypt/i.test(stderr)) {
    return new EngineError(
      `${ctx.subject}: the passphrase does not decrypt the stack's secrets; set PULUMI_CONFIG_PASSPHRASE (or _FILE) to the passphrase the stack was created with`,
      { code: 'E_PULUMI_PASSPHRASE', cause: err },
    );
  }
  const tail = ctx.translation ? errorTail(ctx.translation) || shortTail(stderr) : shortTail(stderr);
  const first =
    ctx.translation?.diagnostics.find((d) => d.severity === 'error')?.message.split('\n').find((l) => l.trim())?.trim() ??
    firstErrorLine(stderr) ??
    (stderr.trim() ? shortTail(stderr, 1, 300) : String((err as Error)?.message ?? err).split('\n')[0]!.slice(0, 300));
  const diagnostics = (ctx.translation?.diagnostics ?? []).filter((d) => d.severity === 'error').map((d) => d.message).join('\n');
  return new EngineError(`${ctx.subject}: pulumi ${ctx.operation} failed: ${first}`, {
    code: isTransientFailure(`${stderr}\n${diagnostics}`) ? 'E_PULUMI_TRANSIENT' : (FAILED[ctx.operation] ?? 'E_PULUMI_UP_FAILED'),
    cause: err,
    data: { tail, stack: ctx.loc.qualifiedStack, backend: ctx.loc.backend.url },
  });
}

/** The code of a failed Pulumi operation: a program or provider error, terminal for the desired state. */
const FAILED: Record<string, ErrorCode> = {
  preview: 'E_PULUMI_PREVIEW_FAILED',
  up: 'E_PULUMI_UP_FAILED',
  destroy: 'E_PULUMI_DESTROY_FAILED',
  refresh: 'E_PULUMI_REFRESH_FAILED',
  read: 'E_PULUMI_READ_FAILED',
};

/**
 * Provider errors that say the call may pass next time: throttling, timeouts, broken or refused
 * connections, name lookups, 5xx. Everything else a run reports (program errors, invalid
 * arguments, quotas, permissions) is deterministic for the desired model: terminal.
 */
const TRANSIENT = /\b(Throttling(Exception)?|ThrottledException|RequestLimitExceeded|TooManyRequests(Exception)?|Rate exceeded|SlowDown|ServiceUnavailable(Exception)?|InternalFailure|InternalError|RequestTimeout(Exception)?|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|connection reset by peer|connection refused|no such host|i\/o timeout|TLS handshake timeout|context deadline exceeded|send request failed|status code: 5\d\d)\b/i;

/**
 * Quotas and limits: AWS says no until someone raises the quota or frees capacity, so the same
 * desired model fails again however often it is retried (even where the message mentions a rate).
 */
const QUOTA = /\b(ServiceQuotaExceeded(Exception)?|QuotaExceeded(Exception)?|(?<!Request)LimitExceeded(Exception)?|[A-Za-z]+QuotaExceeded|VcpuLimitExceeded|AddressLimitExceeded|TooManyBuckets|(DBInstance|Storage|Instance)QuotaExceeded)\b/;

/** The failure text says a retry may pass: transient, and not a quota. */
export function isTransientFailure(text: string): boolean {
  if (/\bRate exceeded\b/i.test(text) && /\bLimitExceededException\b/.test(text)) return true;
  return TRANSIENT.test(text) && !QUOTA.test(text);
}
