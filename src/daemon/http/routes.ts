import type { Registry } from 'prom-client';
import type { DaemonView, StageView } from '../view.js';
import { jsonObject } from './body.js';
import type { EventStreams } from './events.js';
import { STATUS_PAGE_CSP, renderStatusPage } from './page.js';
import { HttpError, STREAMED, json, text } from './reply.js';
import type { Route, RouteContext } from './routing.js';
import { webhookRoutes } from './webhook-route.js';

/** What the routes read: the view, the metrics registry, the event streams, page settings. */
export interface RoutesOptions {
  view: DaemonView;
  metrics: Registry;
  streams: EventStreams;
  /** Seconds between the status page's own reloads. */
  refreshSeconds: number;
  now: () => number;
}

/** `?limit=N` of the deployments list: default and largest. */
export const DEPLOYMENTS_LIMIT = { default: 20, max: 500 };

const STAGE = '/api/v1/stages/{org}/{project}/{stage}';

/**
 * The daemon's routes table. Reads are open; every mutation needs the API token (`auth: 'token'`).
 * JSON shapes: `/api/v1/stages` → `{ stages: StageView[] }`; one stage → its StageView;
 * deployments → `{ stage, deployments }` (newest first); `/api/v1/revision` → `{ source, commit,
 * valid, issues, error? }`; approve → `{ stage, approved: planId }`; retry → `{ stage, retrying:
 * true }`; sync → `{ synced: true }` (an explicit sync also accepts a head refused as a force-push).
 * `POST /hooks/github` and `/hooks/gitlab` are authenticated by the webhook secret, not the token
 * (see `webhook-route.ts`).
 */
export function daemonRoutes(opts: RoutesOptions): Route[] {
  const { view } = opts;
  return [
    { method: 'GET', pattern: '/healthz', auth: 'none', handle: async () => text(200, 'ok\n') },
    {
      method: 'GET',
      pattern: '/readyz',
      auth: 'none',
      handle: async () => {
        const readiness = await view.readiness();
        return json(readiness.ready ? 200 : 503, readiness);
      },
    },
    {
      method: 'GET',
      pattern: '/metrics',
      auth: 'none',
      handle: async () => ({ status: 200, contentType: opts.metrics.contentType, body: await opts.metrics.metrics() }),
    },
    {
      method: 'GET',
      pattern: '/',
      auth: 'none',
      handle: async () => ({
        status: 200,
        contentType: 'text/html; charset=utf-8',
        headers: { 'content-security-policy': STATUS_PAGE_CSP, 'referrer-policy': 'no-referrer' },
        body: renderStatusPage({
          source: view.source,
          revision: view.revision(),
          stages: await view.stages(),
          refreshSeconds: opts.refreshSeconds,
          generatedAt: new Date(opts.now()).toISOString(),
        }),
      }),
    },
    { method: 'GET', pattern: '/api/v1/stages', auth: 'none', handle: async () => json(200, { stages: await view.stages() }) },
    { method: 'GET', pattern: STAGE, auth: 'none', handle: async (ctx) => json(200, await knownStage(view, ctx)) },
    {
      method: 'GET',
      pattern: `${STAGE}/deployments`,
      auth: 'none',
      handle: async (ctx) => {
        const limit = limitOf(ctx.query);
        const stage = await knownStage(view, ctx);
        return json(200, { stage: stage.key, deployments: await view.deployments(stage.key, limit) });
      },
    },
    {
      method: 'GET',
      pattern: '/api/v1/revision',
      auth: 'none',
      handle: async () => json(200, { source: view.source, ...view.revision() }),
    },
    {
      method: 'GET',
      pattern: '/api/v1/events',
      auth: 'none',
      handle: async (ctx) => {
        opts.streams.serve(ctx.req, ctx.res);
        return STREAMED;
      },
    },
    {
      method: 'POST',
      pattern: `${STAGE}/approve`,
      auth: 'token',
      handle: async (ctx) => {
        const { plan } = jsonObject(ctx.body, ['plan']);
        if (plan !== undefined && (typeof plan !== 'string' || plan === '')) throw new HttpError(400, 'E_USAGE', '"plan" must be a plan id (a non-empty string)');
        const stage = await knownStage(view, ctx);
        return json(200, { stage: stage.key, approved: await view.approve(stage.key, plan) });
      },
    },
    {
      method: 'POST',
      pattern: `${STAGE}/retry`,
      auth: 'token',
      handle: async (ctx) => {
        jsonObject(ctx.body, []);
        const stage = await knownStage(view, ctx);
        await view.retry(stage.key);
        return json(202, { stage: stage.key, retrying: true });
      },
    },
    {
      method: 'POST',
      pattern: '/api/v1/sync',
      auth: 'token',
      handle: async (ctx) => {
        jsonObject(ctx.body, []);
        await view.sync({ acceptForcePush: true });
        return json(200, { synced: true });
      },
    },
    ...webhookRoutes(view),
  ];
}

/** The stage of `{org}/{project}/{stage}`; a 404 HttpError when this daemon does not manage it. */
async function knownStage(view: DaemonView, ctx: RouteContext): Promise<StageView> {
  const key = `${ctx.params.org}/${ctx.params.project}/${ctx.params.stage}`;
  const stage = await view.stage(key);
  if (stage === null) throw new HttpError(404, 'E_NOT_FOUND', `stage ${key} is not managed by this daemon`);
  return stage;
}

function limitOf(query: URLSearchParams): number {
  const raw = query.get('limit');
  if (raw === null) return DEPLOYMENTS_LIMIT.default;
  const n = /^\d{1,6}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= DEPLOYMENTS_LIMIT.max)) throw new HttpError(400, 'E_USAGE', `limit must be a whole number from 1 to ${DEPLOYMENTS_LIMIT.max}`);
  return n;
}
