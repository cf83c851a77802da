import { isRetryable, type ErrorCode } from './error-codes.js';

/**
 * One error hierarchy for setopsd. Every error has a stable `code` and structured `data`;
 * messages start with their subject and say what to do next. Messages and data never hold a
 * secret value or a whole stderr dump (keep a short tail in `data.tail`).
 *
 * The CLI maps errors to exit codes in one place (`src/cli/main.ts`): a `SetopsError` is a
 * user-facing error (exit 1, message only); anything else is a bug (exit 1 with a stack and a hint).
 */
export class SetopsError extends Error {
  /** Stable machine-readable code, e.g. `E_VALIDATION` (the table is `src/error-codes.ts`). */
  readonly code: ErrorCode;
  /** Structured details for JSON output and tests. Never holds secret values. */
  readonly data: Record<string, unknown>;
  /**
   * Terminal errors wait for new input (a new commit); retryable ones may succeed on retry.
   * A property of the code, never of one call site: `ERROR_CODES[code].retryable`.
   */
  readonly retryable: boolean;

  constructor(message: string, opts: ErrorOptions & { code?: ErrorCode } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = opts.code ?? 'E_SETOPSD';
    this.data = opts.data ?? {};
    this.retryable = isRetryable(this.code);
  }
}

/** What every error constructor takes besides its message. */
export interface ErrorOptions {
  data?: Record<string, unknown>;
  cause?: unknown;
}

/** A located problem in the manifests: `file:line:col: /pointer: message`. */
export interface Issue {
  /** Path of the manifest file relative to the config root (posix separators). */
  file: string;
  /** 1-based line and column; 0 when the position is unknown (e.g. a missing document). */
  line: number;
  col: number;
  /** JSON pointer inside the YAML document, e.g. `/spec/port`; `` for the whole document. */
  pointer: string;
  message: string;
  /** What kind of problem (JSON output's `code`); default `E_VALIDATION`. */
  code?: ErrorCode;
}

/** Renders an issue the way every setopsd output does. */
export function formatIssue(issue: Issue): string {
  return `${issue.file}:${issue.line}:${issue.col}: ${issue.pointer || '/'}: ${issue.message}`;
}

/** A manifest cannot be read at all (missing file, not UTF-8, unknown ref). */
export class ManifestError extends SetopsError {
  constructor(message: string, opts: ErrorOptions = {}) {
    super(message, { code: 'E_MANIFEST', ...opts });
  }
}

/** The manifests were read but are invalid; `issues` holds every problem in a stable order. */
export class ValidationError extends SetopsError {
  readonly issues: Issue[];
  constructor(issues: Issue[], message?: string) {
    super(message ?? `${issues.length} problem${issues.length === 1 ? '' : 's'} in the manifests`, {
      code: 'E_VALIDATION',
      data: { issues },
    });
    this.issues = issues;
  }
}

/** A plan cannot be made or would be unsafe (data loss refused, version downgrade, protected stage). */
export class PlanError extends SetopsError {
  constructor(message: string, opts: ErrorOptions & { code?: ErrorCode } = {}) {
    super(message, { code: opts.code ?? 'E_PLAN', data: opts.data, cause: opts.cause });
  }
}

/**
 * An engine (or the state directory it records into) failed to read or apply a stage. The code
 * is required: it says what failed and, through `ERROR_CODES`, whether a retry can help.
 */
export class EngineError extends SetopsError {
  constructor(message: string, opts: ErrorOptions & { code: ErrorCode }) {
    super(message, opts);
  }
}

/** Another process holds the stage (or the Pulumi stack). */
export class LockedError extends SetopsError {
  constructor(message: string, opts: ErrorOptions = {}) {
    super(message, { code: 'E_LOCKED', ...opts });
  }
}

/** The desired state violates `deny` rules of `kind: Policy` documents; `data.violations` lists them (no values, pointers only). */
export class PolicyError extends SetopsError {
  constructor(message: string, violations: readonly { stage: string; policy: string; rule: string; subject: string; message: string }[]) {
    super(message, { code: 'E_POLICY_DENIED', data: { violations } });
  }
}

/** A saved plan no longer matches the stage's actual state. */
export class StalePlanError extends SetopsError {
  constructor(message: string, opts: { data?: Record<string, unknown> } = {}) {
    super(message, { code: 'E_STALE_PLAN', ...opts });
  }
}

/** The operation was aborted through its AbortSignal (SIGINT/SIGTERM). */
export class CanceledError extends SetopsError {
  constructor(message = 'canceled', opts: { cause?: unknown } = {}) {
    super(message, { code: 'E_CANCELED', ...opts });
  }
}

/** Wrong command-line usage (unknown flag, missing argument). Exit code 1 with a usage hint. */
export class UsageError extends SetopsError {
  constructor(message: string) {
    super(message, { code: 'E_USAGE' });
  }
}

/** Throws a CanceledError when the signal is aborted; call it between effectful steps. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CanceledError('canceled', { cause: signal.reason });
}
