import { WEBHOOK_MAX_BODY_BYTES, checkBodySize, readWebhook, WebhookRejection, type WebhookProvider } from '../webhooks.js';
import type { DaemonView } from '../view.js';
import { HttpError, json, type Reply } from './reply.js';
import type { Route, RouteContext } from './routing.js';

/**
 * `POST /hooks/github` and `POST /hooks/gitlab`: no bearer token, authenticated by the webhook
 * secret instead (GitHub's `X-Hub-Signature-256` HMAC of the body, GitLab's `X-Gitlab-Token`).
 *
 * - No secret configured (`view.webhook` unset): 404 `E_NOT_FOUND` saying so.
 * - Oversized (declared `Content-Length` or the body read): 413; unsigned or wrongly signed: 401;
 *   malformed: 400. Nothing is fetched for any of them.
 * - A push to the tracked branch (also a deletion, so that it is reported): 202, and the source is
 *   read at once (the answer does not wait for the read).
 * - Other branches, tags, ping and other events: 200 `{ ignored: reason }`.
 *
 * Every delivery is counted with `view.webhook.delivered(provider, result)`, also one refused as too
 * large while its body was read (`too-large`).
 */
export function webhookRoutes(view: DaemonView): Route[] {
  return (['github', 'gitlab'] as const).map((provider) => ({
    method: 'POST' as const,
    pattern: `/hooks/${provider}`,
    // GitHub and GitLab send push payloads of up to 25 MiB.
    maxBodyBytes: WEBHOOK_MAX_BODY_BYTES,
    auth: 'none' as const,
    handle: (ctx: RouteContext) => handleWebhook(view, provider, ctx),
    // Over the limit already while reading (declared or streamed): refused before the handler, counted all the same.
    refused: () => view.webhook?.delivered?.(provider, 'too-large'),
  }));
}

async function handleWebhook(view: DaemonView, provider: WebhookProvider, ctx: RouteContext): Promise<Reply> {
  const hook = view.webhook;
  if (!hook) {
    throw new HttpError(404, 'E_NOT_FOUND', `webhooks are not configured on this daemon; set SETOPSD_WEBHOOK_SECRET to accept POST /hooks/${provider}`);
  }
  const count = (result: string) => hook.delivered?.(provider, result);
  let reply: Reply;
  try {
    const declared = Number(ctx.req.headers['content-length']);
    if (Number.isFinite(declared)) checkBodySize(declared);
    checkBodySize(ctx.body.length);
    const event = readWebhook(provider, ctx.req.headers, ctx.body, hook.secret);
    if (event.kind === 'ping') {
      count('ping');
      reply = json(200, { ignored: 'ping' });
    } else if (event.kind === 'ignored') {
      count('ignored');
      reply = json(200, { ignored: event.reason });
    } else if (event.kind === 'pull-request') {
      if (!hook.pullRequest) {
        count('ignored');
        reply = json(200, { ignored: 'pull request events need --preview-stages or --comment-prs' });
      } else {
        count('accepted');
        const done = await hook.pullRequest(event);
        reply = json(202, { ...done, branch: event.branch, open: event.open });
      }
    } else if (hook.branch !== null && event.ref !== `refs/heads/${hook.branch}`) {
      count('ignored');
      reply = json(200, { ignored: `push to ${event.ref}, not to the tracked branch ${hook.branch}` });
    } else {
      count('accepted');
      void view.sync().catch(() => undefined); // the daemon logs and reports what the read finds
      reply = json(202, { syncing: true, ref: event.ref, after: event.after });
    }
  } catch (err) {
    if (err instanceof WebhookRejection) {
      count(resultOf(err.code));
      return json(err.status, { error: { code: err.code, message: err.message } });
    }
    count('error');
    throw err;
  }
  return reply;
}

function resultOf(code: string): string {
  switch (code) {
    case 'E_WEBHOOK_TOO_LARGE':
      return 'too-large';
    case 'E_WEBHOOK_UNSIGNED':
      return 'unsigned';
    case 'E_WEBHOOK_SIGNATURE':
      return 'bad-signature';
    case 'E_WEBHOOK_MALFORMED':
      return 'malformed';
    default:
      return 'rejected';
  }
}
