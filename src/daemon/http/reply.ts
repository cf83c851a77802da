import type { ErrorCode } from '../../error-codes.js';
import { SetopsError } from '../../errors.js';

/** A complete response a route handler returns; the server writes it with the common headers. */
export interface Reply {
  status: number;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
}

/** What a handler returns when it wrote the response itself (the event stream). */
export const STREAMED = Symbol('streamed');

/** `application/json` of `value`, pretty enough to read with curl. */
export function json(status: number, value: unknown, headers?: Record<string, string>): Reply {
  return { status, contentType: 'application/json; charset=utf-8', body: JSON.stringify(value, null, 2) + '\n', ...(headers ? { headers } : {}) };
}

/** `text/plain`. */
export function text(status: number, body: string, headers?: Record<string, string>): Reply {
  return { status, contentType: 'text/plain; charset=utf-8', body, ...(headers ? { headers } : {}) };
}

/**
 * Codes of the errors the HTTP layer itself answers with before the view runs: `E_USAGE` (as a
 * UsageError: the caller's mistake, a malformed request, 400) and HTTP's own refusals.
 */
export type HttpErrorCode = Extract<ErrorCode, 'E_USAGE' | 'E_NOT_FOUND' | 'E_METHOD_NOT_ALLOWED' | 'E_UNAUTHORIZED' | 'E_BODY_TOO_LARGE' | 'E_UNAVAILABLE'>;

/** A request the HTTP layer refuses before or instead of calling the view: an unknown path, a missing token, a malformed body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: HttpErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** How the server answers a thrown error, and what it may log about it. */
export interface ErrorReply {
  reply: Reply;
  /** `bug`: not a SetopsError, so its message may hold anything: log its name and stack frames only. */
  kind: 'http' | 'usage' | 'setops' | 'bug';
}

/**
 * Maps an error to a response `{ error: { code, message } }`: an HttpError to its own status, a
 * UsageError (`E_USAGE`, the view refusing what the caller asked in the stage's current state)
 * to 409, any other SetopsError to 500 with its code and message (setopsd messages never hold
 * secrets), anything else to 500 `E_BUG` with neither its message nor its stack.
 */
export function errorReply(err: unknown): ErrorReply {
  if (err instanceof HttpError) return { kind: 'http', reply: json(err.status, { error: { code: err.code, message: err.message } }, err.headers) };
  if (err instanceof SetopsError) {
    const body = { error: { code: err.code, message: err.message } };
    return err.code === 'E_USAGE' ? { kind: 'usage', reply: json(409, body) } : { kind: 'setops', reply: json(500, body) };
  }
  return { kind: 'bug', reply: json(500, { error: { code: 'E_BUG', message: 'an unexpected error in setopsd; the daemon log has where it happened' } }) };
}

/** The stack frames of an error without its first line (which holds the message). */
export function stackFrames(err: unknown): string | undefined {
  if (!(err instanceof Error) || typeof err.stack !== 'string') return undefined;
  return err.stack
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .join('\n');
}

/**
 * `text` with every occurrence of `secret` replaced by `[redacted]`: the last guard that keeps the
 * API token out of responses and logs even when a caller sent it where it is echoed (as a plan
 * id, in a path).
 */
export function redact(text: string, secret: string): string {
  return secret === '' || !text.includes(secret) ? text : text.split(secret).join('[redacted]');
}
