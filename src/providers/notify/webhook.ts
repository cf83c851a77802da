import type { Sleep } from '../../deps.js';
import { SIGNATURE_HEADER, signBody } from './signature.js';

/** How one webhook delivery is attempted. */
export interface WebhookDelivery {
  url: string;
  body: string;
  /** HMAC-SHA256 key; absent: the POST is not signed. */
  key?: string;
  /** Per attempt. */
  timeoutMs: number;
  /** Attempts in all (first try included). */
  attempts: number;
  /** Wait before retry n (1-based) is `backoffMs × 2^(n-1)`. */
  backoffMs: number;
  headers: Record<string, string>;
  sleep: Sleep;
  signal: AbortSignal;
}

/** What happened: delivered on attempt N, or why the last attempt failed. */
export type WebhookResult = { ok: true; attempts: number; status: number } | { ok: false; attempts: number; reason: string };

/**
 * POSTs a JSON body, signed with `X-Setopsd-Signature-256` when a key is given, retrying network
 * errors, timeouts, 408, 429 and 5xx with exponential backoff; other 4xx answers are final (the
 * receiver refused this body, sending it again would not help). Never throws.
 */
export async function deliverWebhook(d: WebhookDelivery): Promise<WebhookResult> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'setopsd', ...d.headers };
  if (d.key !== undefined) headers[SIGNATURE_HEADER] = signBody(d.key, d.body);
  let reason = 'not attempted';
  for (let attempt = 1; attempt <= d.attempts; attempt++) {
    if (d.signal.aborted) return { ok: false, attempts: attempt - 1, reason: 'canceled' };
    if (attempt > 1) {
      try {
        await d.sleep(d.backoffMs * 2 ** (attempt - 2), d.signal);
      } catch {
        return { ok: false, attempts: attempt - 1, reason: 'canceled' };
      }
    }
    const timeout = AbortSignal.timeout(d.timeoutMs);
    try {
      const res = await fetch(d.url, { method: 'POST', headers: { ...headers, 'x-setopsd-attempt': String(attempt) }, body: d.body, signal: AbortSignal.any([d.signal, timeout]), redirect: 'manual' });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) return { ok: true, attempts: attempt, status: res.status };
      reason = `answered HTTP ${res.status}`;
      if (!(res.status === 408 || res.status === 429 || res.status >= 500)) return { ok: false, attempts: attempt, reason };
    } catch (err) {
      if (d.signal.aborted) return { ok: false, attempts: attempt, reason: 'canceled' };
      reason = timeout.aborted ? `no answer within ${d.timeoutMs} ms` : `cannot connect: ${causeMessage(err)}`;
    }
  }
  return { ok: false, attempts: d.attempts, reason };
}

/** fetch wraps the socket error as `cause`; its code says more than "fetch failed". */
function causeMessage(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err);
}
