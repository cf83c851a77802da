import type { IncomingMessage } from 'node:http';
import { HttpError } from './reply.js';

/** The largest request body the API reads: 1 MiB. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Reads a request body of at most `limit` bytes. Throws a 413 HttpError as soon as the declared
 * `Content-Length` or the bytes received pass the limit, without buffering more; the server then
 * answers and closes the connection.
 */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const tooLarge = () => new HttpError(413, 'E_BODY_TOO_LARGE', `the request body is larger than ${limit} bytes`);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      // Stop reading, but leave the socket open for the 413 (destroying the request would close it).
      cleanup();
      req.pause();
      reject(tooLarge());
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/**
 * The body as a JSON object: `{}` when empty; a 400 HttpError when it is not JSON or not an
 * object, or has a key other than `allowed` (a misspelt field must not be ignored silently).
 */
export function jsonObject(body: Buffer, allowed: readonly string[]): Record<string, unknown> {
  const textBody = body.toString('utf8').trim();
  if (textBody === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(textBody);
  } catch {
    throw new HttpError(400, 'E_USAGE', 'the request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(400, 'E_USAGE', 'the request body must be a JSON object');
  const unknown = Object.keys(value).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    throw new HttpError(400, 'E_USAGE', `unknown field${unknown.length === 1 ? '' : 's'} ${unknown.map((k) => JSON.stringify(k.slice(0, 40))).join(', ')} in the request body; allowed: ${allowed.join(', ') || 'none'}`);
  }
  return value as Record<string, unknown>;
}
