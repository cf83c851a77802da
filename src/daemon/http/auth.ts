import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { HttpError } from './reply.js';

/**
 * Checks `Authorization: Bearer <token>` in constant time: both sides are hashed first, so
 * neither the comparison nor its length check tells how much of a guess was right. Throws a 401
 * HttpError (with `WWW-Authenticate: Bearer`) when the header is missing, malformed or wrong;
 * its message never repeats what was sent.
 */
export function requireBearer(headers: IncomingHttpHeaders, token: string): void {
  const header = headers.authorization;
  const m = typeof header === 'string' ? /^Bearer +(\S+) *$/i.exec(header) : null;
  if (m === null) throw unauthorized('this endpoint needs "Authorization: Bearer <token>" (the daemon\'s API token)');
  if (!sameSecret(m[1]!, token)) throw unauthorized('the API token is wrong');
}

/** Whether two secrets are equal, in time that depends on neither. */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

function unauthorized(message: string): HttpError {
  return new HttpError(401, 'E_UNAUTHORIZED', message, { 'www-authenticate': 'Bearer realm="setopsd"' });
}
