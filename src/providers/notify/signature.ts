import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header carrying a webhook body's signature. */
export const SIGNATURE_HEADER = 'X-Setopsd-Signature-256';

/** `sha256=<hex HMAC-SHA256(key, body)>`, the value of `X-Setopsd-Signature-256` (GitHub's scheme). */
export function signBody(key: string, body: string): string {
  return `sha256=${createHmac('sha256', key).update(body).digest('hex')}`;
}

/** Checks a signature in constant time; for receivers (and tests). */
export function verifySignature(key: string, body: string, header: string | undefined): boolean {
  if (header === undefined) return false;
  const want = Buffer.from(signBody(key, body));
  const got = Buffer.from(header);
  return want.length === got.length && timingSafeEqual(want, got);
}
