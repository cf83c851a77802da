import type { ErrorCode } from '../error-codes.js';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { SetopsError } from '../errors.js';

/**
 * Webhook requests from GitHub and GitLab, as pure functions over headers and the raw body (no
 * HTTP server here): signature checks in constant time, and push/ping parsing into one shape.
 *
 * Every refusal is a {@link WebhookRejection} carrying the HTTP status to answer with (413 body
 * too large, 401 unsigned or wrongly signed, 400 malformed). Its message never holds the
 * secret, a signature or token sent, or the body.
 */

export const E_WEBHOOK_TOO_LARGE = 'E_WEBHOOK_TOO_LARGE';
export const E_WEBHOOK_UNSIGNED = 'E_WEBHOOK_UNSIGNED';
export const E_WEBHOOK_SIGNATURE = 'E_WEBHOOK_SIGNATURE';
export const E_WEBHOOK_MALFORMED = 'E_WEBHOOK_MALFORMED';
/** The configured secret is unusable (empty): a setup problem, not a rejected request. */
export const E_WEBHOOK_SECRET = 'E_WEBHOOK_SECRET';

/** Largest body accepted: GitHub caps payloads at 25 MB; GitLab's are smaller by default. */
export const WEBHOOK_MAX_BODY_BYTES = 25 * 1024 * 1024;

export type WebhookProvider = 'github' | 'gitlab';

/** Request headers as node's `IncomingMessage.headers` gives them; names are matched case-insensitively. */
export type WebhookHeaders = Record<string, string | string[] | undefined>;

/** A refused webhook request; answer it with `status` and `message`. */
export class WebhookRejection extends SetopsError {
  readonly status: 400 | 401 | 413;
  constructor(status: 400 | 401 | 413, code: ErrorCode, message: string, data: Record<string, unknown> = {}) {
    super(message, { code, data: { status, ...data } });
    this.status = status;
  }
}

/** A push to a branch or tag. `deleted`: the ref was deleted (`after` is all zeros). */
export interface PushEvent {
  kind: 'push';
  provider: WebhookProvider;
  /** Delivery id for logs (`X-GitHub-Delivery`, `X-Gitlab-Event-UUID`). */
  delivery?: string;
  /** Full ref, e.g. `refs/heads/main` or `refs/tags/v1`. */
  ref: string;
  before?: string;
  after: string;
  deleted: boolean;
  /** GitHub only: the push was a force-push. */
  forced?: boolean;
  repository: {
    /** `owner/name` (GitHub `full_name`, GitLab `path_with_namespace`). */
    name?: string;
    webUrl?: string;
    /** Every clone URL the payload names (HTTPS first), without duplicates. */
    cloneUrls: string[];
  };
}

/**
 * A pull request (GitHub) or merge request (GitLab) opened, updated or closed: what preview
 * stages follow (`setopsd daemon --preview-stages`). `open` is false once it is closed or merged.
 */
export interface PullRequestEvent {
  kind: 'pull-request';
  provider: WebhookProvider;
  delivery?: string;
  number: number;
  /** The branch the pull request comes from (`head.ref`, GitLab `source_branch`). */
  branch: string;
  /** The branch it goes to. */
  base?: string;
  action: string;
  open: boolean;
  /** The head and base commits the event names (GitHub `head.sha`/`base.sha`, GitLab `last_commit.id`). */
  headSha?: string;
  baseSha?: string;
  /** `owner/repo` (GitHub `repository.full_name`) or the GitLab project path, for the comment. */
  repository?: string;
  /** The head is in another repository than the base (GitHub `head.repo` ≠ `base.repo`, GitLab `source_project_id` ≠ `target_project_id`). */
  fromFork?: boolean;
}

/** GitHub's ping, sent when a webhook is created. */
export interface PingEvent {
  kind: 'ping';
  provider: WebhookProvider;
  delivery?: string;
  hookId?: number;
}

/** A well-formed event setopsd does not act on (answer 2xx so the sender does not retry it). */
export interface IgnoredEvent {
  kind: 'ignored';
  provider: WebhookProvider;
  delivery?: string;
  event?: string;
  reason: string;
}

export type WebhookEvent = PushEvent | PingEvent | IgnoredEvent | PullRequestEvent;

const ZERO_SHA = /^0+$/;
const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * Throws a 413 {@link WebhookRejection} when a body of `bytes` bytes is over
 * {@link WEBHOOK_MAX_BODY_BYTES}; an HTTP server can call it with `Content-Length` before reading.
 */
export function checkBodySize(bytes: number): void {
  if (bytes > WEBHOOK_MAX_BODY_BYTES) {
    throw new WebhookRejection(
      413,
      E_WEBHOOK_TOO_LARGE,
      `webhook body of ${bytes} bytes is over the limit of ${WEBHOOK_MAX_BODY_BYTES} bytes (25 MiB); it is refused`,
      { bytes, limit: WEBHOOK_MAX_BODY_BYTES },
    );
  }
}

/**
 * Checks GitHub's `X-Hub-Signature-256: sha256=<hex>`, the HMAC-SHA256 of the raw body with
 * `secret`, in constant time. Throws a {@link WebhookRejection}: 413 body too large, 401 no or
 * wrong signature; a SetopsError `E_WEBHOOK_SECRET` when `secret` is empty.
 */
export function verifyGithub(headers: WebhookHeaders, rawBody: Buffer, secret: string): void {
  checkSecret(secret);
  checkBodySize(rawBody.length);
  const header = single(headers, 'x-hub-signature-256');
  if (header === undefined) {
    const sha1Only = single(headers, 'x-hub-signature') !== undefined;
    throw new WebhookRejection(
      401,
      E_WEBHOOK_UNSIGNED,
      sha1Only
        ? 'webhook request is signed only with SHA-1 (X-Hub-Signature); setopsd needs X-Hub-Signature-256: set a secret on the webhook'
        : 'webhook request is not signed (no X-Hub-Signature-256 header); set the same secret on the GitHub webhook and in setopsd',
    );
  }
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!m) {
    throw new WebhookRejection(
      401,
      E_WEBHOOK_SIGNATURE,
      'webhook signature header X-Hub-Signature-256 is not of the form sha256=<64 hex digits>; the request is refused',
    );
  }
  const given = Buffer.from(m[1]!, 'hex');
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new WebhookRejection(
      401,
      E_WEBHOOK_SIGNATURE,
      'webhook signature does not match the body; check that the GitHub webhook and setopsd use the same secret',
    );
  }
}

/**
 * Checks GitLab's `X-Gitlab-Token` against `secret` in constant time (both are hashed first, so
 * neither the comparison nor its length depends on the secret). Throws a 401
 * {@link WebhookRejection} when it is missing or wrong; a SetopsError `E_WEBHOOK_SECRET` when
 * `secret` is empty.
 */
export function verifyGitlab(headers: WebhookHeaders, secret: string): void {
  checkSecret(secret);
  const token = single(headers, 'x-gitlab-token');
  if (token === undefined) {
    throw new WebhookRejection(
      401,
      E_WEBHOOK_UNSIGNED,
      'webhook request has no X-Gitlab-Token header; set the same secret token on the GitLab webhook and in setopsd',
    );
  }
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  if (!timingSafeEqual(digest(token), digest(secret))) {
    throw new WebhookRejection(
      401,
      E_WEBHOOK_SIGNATURE,
      'webhook X-Gitlab-Token does not match; check that the GitLab webhook and setopsd use the same secret token',
    );
  }
}

/**
 * Reads a verified webhook request. GitHub: `X-GitHub-Event` `push` and `ping` (JSON or
 * `application/x-www-form-urlencoded` with a `payload` field); GitLab: `X-Gitlab-Event`
 * `Push Hook`, `Tag Push Hook`, and `System Hook` with a push payload. Other events are
 * `ignored` with a reason. Throws a {@link WebhookRejection}: 413 body too large, 400 missing
 * event header, body not JSON, or a push without a usable `ref`/`after`.
 */
export function parsePush(provider: WebhookProvider, headers: WebhookHeaders, body: Buffer): WebhookEvent {
  checkBodySize(body.length);
  return provider === 'github' ? parseGithub(headers, body) : parseGitlab(headers, body);
}

/** {@link verifyGithub} or {@link verifyGitlab}, then {@link parsePush}. */
export function readWebhook(provider: WebhookProvider, headers: WebhookHeaders, body: Buffer, secret: string): WebhookEvent {
  if (provider === 'github') verifyGithub(headers, body, secret);
  else verifyGitlab(headers, secret);
  return parsePush(provider, headers, body);
}

function parseGithub(headers: WebhookHeaders, body: Buffer): WebhookEvent {
  const event = single(headers, 'x-github-event');
  if (event === undefined) {
    throw new WebhookRejection(400, E_WEBHOOK_MALFORMED, 'webhook request has no X-GitHub-Event header; is it from GitHub?');
  }
  const delivery = single(headers, 'x-github-delivery');
  const base = { provider: 'github' as const, ...(delivery === undefined ? {} : { delivery }) };
  if (event !== 'push' && event !== 'ping' && event !== 'pull_request') {
    return { kind: 'ignored', ...base, event, reason: `GitHub event "${event}" is not acted on (only push, pull_request and ping)` };
  }
  const contentType = single(headers, 'content-type') ?? '';
  let text = body.toString('utf8');
  if (/^application\/x-www-form-urlencoded\b/i.test(contentType)) {
    const payload = new URLSearchParams(text).get('payload');
    if (payload === null) {
      throw new WebhookRejection(400, E_WEBHOOK_MALFORMED, 'webhook form body has no payload field; set the GitHub webhook content type to application/json');
    }
    text = payload;
  }
  const json = parseObject(text);
  if (event === 'ping') {
    const hookId = json.hook_id;
    return { kind: 'ping', ...base, ...(typeof hookId === 'number' ? { hookId } : {}) };
  }
  if (event === 'pull_request') {
    const pr = object(json.pull_request);
    const head = object(pr.head);
    const baseRef = object(pr.base).ref;
    const number = json.number ?? pr.number;
    if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 1 || typeof head.ref !== 'string' || typeof json.action !== 'string') {
      throw new WebhookRejection(400, E_WEBHOOK_MALFORMED, 'webhook GitHub pull_request has no number, action or head.ref; the request is refused');
    }
    const open = json.action !== 'closed' && pr.state !== 'closed';
    const headSha = head.sha;
    const baseSha = object(pr.base).sha;
    const repoName = object(json.repository).full_name;
    const headRepo = object(head.repo).full_name;
    const baseRepo = object(object(pr.base).repo).full_name;
    return {
      kind: 'pull-request',
      ...base,
      number,
      branch: head.ref,
      ...(typeof headRepo === 'string' && typeof baseRepo === 'string' && headRepo !== baseRepo ? { fromFork: true } : {}),
      ...(typeof baseRef === 'string' ? { base: baseRef } : {}),
      action: json.action,
      open,
      ...(typeof headSha === 'string' && SHA.test(headSha) ? { headSha } : {}),
      ...(typeof baseSha === 'string' && SHA.test(baseSha) ? { baseSha } : {}),
      ...(typeof repoName === 'string' ? { repository: repoName } : {}),
    };
  }
  const repo = object(json.repository);
  return {
    kind: 'push',
    ...base,
    ...pushFields(json, 'GitHub'),
    ...(typeof json.forced === 'boolean' ? { forced: json.forced } : {}),
    repository: repository(repo.full_name, repo.html_url, [repo.clone_url, repo.ssh_url, repo.git_url]),
  };
}

const GITLAB_PUSH_EVENTS = new Set(['Push Hook', 'Tag Push Hook']);

function parseGitlab(headers: WebhookHeaders, body: Buffer): WebhookEvent {
  const event = single(headers, 'x-gitlab-event');
  if (event === undefined) {
    throw new WebhookRejection(400, E_WEBHOOK_MALFORMED, 'webhook request has no X-Gitlab-Event header; is it from GitLab?');
  }
  const delivery = single(headers, 'x-gitlab-event-uuid');
  const base = { provider: 'gitlab' as const, ...(delivery === undefined ? {} : { delivery }) };
  if (event === 'Merge Request Hook') {
    const json = parseObject(body.toString('utf8'));
    const attrs = object(json.object_attributes);
    const number = attrs.iid;
    if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 1 || typeof attrs.source_branch !== 'string') {
      throw new WebhookRejection(400, E_WEBHOOK_MALFORMED, 'webhook GitLab Merge Request Hook has no object_attributes.iid or source_branch; the request is refused');
    }
    const action = typeof attrs.action === 'string' ? attrs.action : String(attrs.state ?? 'update');
    const open = attrs.state === 'opened' && action !== 'close' && action !== 'merge';
    const headSha = object(attrs.last_commit).id;
    const projectPath = object(json.project).path_with_namespace;
    const fromFork = typeof attrs.source_project_id === 'number' && typeof attrs.target_project_id === 'number' && attrs.source_project_id !== attrs.target_project_id;
    return {
      kind: 'pull-request',
      ...base,
      number,
      branch: attrs.source_branch,
      ...(fromFork ? { fromFork: true } : {}),
      ...(typeof attrs.target_branch === 'string' ? { base: attrs.target_branch } : {}),
      action,
      open,
      ...(typeof headSha === 'string' && SHA.test(headSha) ? { headSha } : {}),
      ...(typeof projectPath === 'string' ? { repository: projectPath } : {}),
    };
  }
  if (!GITLAB_PUSH_EVENTS.has(event) && event !== 'System Hook') {
    return { kind: 'ignored', ...base, event, reason: `GitLab event "${event}" is not acted on (only Push Hook and Tag Push Hook)` };
  }
  const json = parseObject(body.toString('utf8'));
  if (json.object_kind !== 'push' && json.object_kind !== 'tag_push') {
    return {
      kind: 'ignored',
      ...base,
      event,
      reason: `GitLab ${event} of kind ${JSON.stringify(json.object_kind ?? null)} is not acted on (only push and tag_push)`,
    };
  }
  const project = object(json.project);
  const repo = object(json.repository);
  return {
    kind: 'push',
    ...base,
    ...pushFields(json, 'GitLab'),
    repository: repository(project.path_with_namespace, project.web_url ?? repo.homepage, [
      project.git_http_url,
      repo.git_http_url,
      project.http_url,
      project.git_ssh_url,
      repo.git_ssh_url,
      project.ssh_url,
    ]),
  };
}

function pushFields(json: Record<string, unknown>, from: string): Pick<PushEvent, 'ref' | 'before' | 'after' | 'deleted'> {
  const { ref, after, before } = json;
  if (typeof ref !== 'string' || !ref.startsWith('refs/')) {
    throw new WebhookRejection(400, E_WEBHOOK_MALFORMED, `webhook ${from} push has no "ref" of the form refs/…; the request is refused`);
  }
  if (typeof after !== 'string' || !SHA.test(after)) {
    throw new WebhookRejection(400, E_WEBHOOK_MALFORMED, `webhook ${from} push has no "after" commit SHA; the request is refused`);
  }
  const deleted = json.deleted === true || ZERO_SHA.test(after);
  return { ref, after, deleted, ...(typeof before === 'string' && SHA.test(before) ? { before } : {}) };
}

function repository(name: unknown, webUrl: unknown, urls: unknown[]): PushEvent['repository'] {
  const cloneUrls = [...new Set(urls.filter((u): u is string => typeof u === 'string' && u !== ''))];
  return {
    ...(typeof name === 'string' ? { name } : {}),
    ...(typeof webUrl === 'string' ? { webUrl } : {}),
    cloneUrls,
  };
}

function parseObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // The parser's message quotes the body: never echo it.
    throw new WebhookRejection(400, E_WEBHOOK_MALFORMED, 'webhook body is not valid JSON; the request is refused');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new WebhookRejection(400, E_WEBHOOK_MALFORMED, 'webhook body is not a JSON object; the request is refused');
  }
  return value as Record<string, unknown>;
}

function object(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function checkSecret(secret: string): void {
  if (typeof secret !== 'string' || secret === '') {
    throw new SetopsError('webhook secret is empty; configure a non-empty secret (with an empty one anyone could sign requests)', {
      code: E_WEBHOOK_SECRET,
    });
  }
}

/** The one value of header `name` (any case); a header sent more than once is refused (400). */
function single(headers: WebhookHeaders, name: string): string | undefined {
  const values: string[] = [];
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name || value === undefined) continue;
    values.push(...(Array.isArray(value) ? value : [value]));
  }
  if (values.length > 1) {
    throw new WebhookRejection(400, E_WEBHOOK_MALFORMED, `webhook header ${name} is given ${values.length} times; send it once`);
  }
  return values[0];
}
