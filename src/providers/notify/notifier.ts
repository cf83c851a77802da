import type { Logger } from 'pino';
import type { Sleep } from '../../deps.js';
import { isSecretRef, type NotificationModel, type StageModel } from '../../model/stage-model.js';
import type { SecretResolver } from '../engine.js';
import { sendEmail } from './email.js';
import { wants, type Notice } from './notice.js';
import { slackBody } from './slack.js';
import { deliverWebhook } from './webhook.js';

/** The outcome of one delivery to one target, for logs and metrics. */
export interface DeliveryOutcome {
  stage: string;
  target: string;
  channel: NotificationModel['type'];
  event: Notice['event'];
  ok: boolean;
  attempts: number;
  reason?: string;
}

export interface NotifierOptions {
  log: Logger;
  sleep: Sleep;
  /** Webhook attempts in all (default 4) and the first backoff (default 1 s, doubling). */
  webhookAttempts?: number;
  webhookBackoffMs?: number;
  /** Default per-attempt webhook timeout (a target's `timeout` wins) and the SMTP timeouts. */
  timeoutMs?: number;
  /** Called after each delivery (metrics). */
  onDelivery?: (outcome: DeliveryOutcome) => void;
}

/** Deliveries so far, by channel. */
export interface NotifierCounts {
  delivered: Record<NotificationModel['type'], number>;
  failed: Record<NotificationModel['type'], number>;
}

/**
 * Delivers notices to a stage's `notifications` in the background: `notify` returns at once, so a
 * slow or broken receiver never blocks or fails a deployment; failures are logged and counted.
 * `drain` waits for what is in flight (the CLI before it exits, the daemon on shutdown). Before
 * anything leaves, every secret value the stage references (app env, signing keys, the SMTP
 * password) is replaced by `(secret NAME)` in the notice — a second fence behind notices that are
 * built from masked values only.
 */
export class Notifier {
  readonly counts: NotifierCounts = { delivered: { email: 0, webhook: 0 }, failed: { email: 0, webhook: 0 } };
  readonly #opts: NotifierOptions;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #abort = new AbortController();

  constructor(opts: NotifierOptions) {
    this.#opts = opts;
  }

  /** Sends `notice` to every target of `model`'s stage that wants its event; never throws. */
  notify(model: StageModel, notice: Notice, secrets: SecretResolver): void {
    const targets = Object.entries(model.stage.notifications).filter(([, t]) => wants(t, notice.event));
    if (targets.length === 0) return;
    const run = this.#deliverAll(model, notice, secrets, targets).catch((err) => {
      this.#opts.log.error({ err, stage: notice.stage }, `notifications of ${notice.stage}: unexpected error: ${(err as Error).message}`);
    });
    this.#inFlight.add(run);
    void run.finally(() => this.#inFlight.delete(run));
  }

  /** Waits for deliveries in flight; after `timeoutMs` the rest are canceled (and counted as failed). */
  async drain(timeoutMs = 30_000): Promise<void> {
    if (this.#inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.#abort.abort();
        resolve();
      }, timeoutMs);
      timer.unref();
    });
    while (this.#inFlight.size > 0 && !this.#abort.signal.aborted) await Promise.race([Promise.allSettled([...this.#inFlight]), expired]);
    await Promise.allSettled([...this.#inFlight]);
    clearTimeout(timer);
  }

  async #deliverAll(model: StageModel, notice: Notice, secrets: SecretResolver, targets: [string, NotificationModel][]): Promise<void> {
    const redact = await redactor(model, secrets);
    const safe: Notice = JSON.parse(redact(JSON.stringify(notice))) as Notice;
    await Promise.all(targets.map(([name, target]) => this.#deliverOne(model, safe, secrets, name, target, redact)));
  }

  async #deliverOne(model: StageModel, notice: Notice, secrets: SecretResolver, name: string, target: NotificationModel, redact: (s: string) => string): Promise<void> {
    const timeoutMs = (target.timeout ?? 0) * 1000 || (this.#opts.timeoutMs ?? 10_000);
    let outcome: { ok: boolean; attempts: number; reason?: string };
    try {
      if (target.type === 'webhook') {
        const key = target.secret ? await secrets.get(target.secret.secret) : undefined;
        const body = JSON.stringify(target.format === 'slack' ? slackBody(notice) : { formatVersion: 1, ...notice });
        outcome = await deliverWebhook({
          url: target.target,
          body,
          ...(key !== undefined ? { key } : {}),
          timeoutMs,
          attempts: this.#opts.webhookAttempts ?? 4,
          backoffMs: this.#opts.webhookBackoffMs ?? 1000,
          headers: { 'x-setopsd-event': notice.event, 'x-setopsd-delivery': notice.id },
          sleep: this.#opts.sleep,
          signal: this.#abort.signal,
        });
      } else {
        const smtp = model.organization.smtp;
        if (smtp === undefined) {
          outcome = { ok: false, attempts: 0, reason: `organization ${model.organization.name} has no smtp server; add spec.smtp { host, from } to the Organization` };
        } else {
          const password = smtp.password ? await secrets.get(smtp.password.secret) : undefined;
          const sent = await sendEmail({ smtp, ...(password !== undefined ? { password } : {}), to: target.target, notice, timeoutMs });
          outcome = sent.ok ? { ok: true, attempts: 1 } : { ok: false, attempts: 1, reason: sent.reason };
        }
      }
    } catch (err) {
      // A missing signing key or SMTP password: the resolver's message names the secret, not a value.
      outcome = { ok: false, attempts: 0, reason: (err as Error).message };
    }
    const result: DeliveryOutcome = { stage: notice.stage, target: name, channel: target.type, event: notice.event, ok: outcome.ok, attempts: outcome.attempts, ...(outcome.reason ? { reason: redact(outcome.reason) } : {}) };
    this.counts[outcome.ok ? 'delivered' : 'failed'][target.type]++;
    const fields = { stage: notice.stage, notification: name, channel: target.type, event: notice.event, attempts: outcome.attempts };
    if (outcome.ok) this.#opts.log.info(fields, `notification ${name} of ${notice.stage}: ${notice.event} delivered`);
    else this.#opts.log.warn({ ...fields, reason: result.reason }, `notification ${name} of ${notice.stage}: ${notice.event} not delivered: ${result.reason}`);
    try {
      this.#opts.onDelivery?.(result);
    } catch {
      // a broken metrics listener must not turn into a failed delivery
    }
  }
}

/**
 * Replaces every secret value the stage references by `(secret NAME)`. Secrets that cannot be
 * resolved are not in any notice either, so they are skipped.
 */
async function redactor(model: StageModel, secrets: SecretResolver): Promise<(s: string) => string> {
  const names = new Set<string>();
  for (const app of Object.values(model.apps)) for (const v of Object.values(app.env)) if (isSecretRef(v)) names.add(v.secret);
  for (const n of Object.values(model.stage.notifications)) if (n.secret) names.add(n.secret.secret);
  if (model.organization.smtp?.password) names.add(model.organization.smtp.password.secret);
  const pairs: [string, string][] = [];
  for (const name of [...names].sort()) {
    const value = await secrets.get(name).catch(() => undefined);
    // Very short values would redact ordinary words; they are also not worth much as secrets.
    if (value !== undefined && value.length >= 4) pairs.push([value, `(secret ${name})`]);
  }
  pairs.sort((a, b) => b[0].length - a[0].length);
  return (s) => {
    let out = s;
    for (const [value, mask] of pairs) {
      out = out.split(value).join(mask);
      const json = JSON.stringify(value).slice(1, -1);
      if (json !== value) out = out.split(json).join(mask);
    }
    return out;
  };
}
