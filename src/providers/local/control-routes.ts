import type { ServiceType } from '../../model/stage-model.js';
import type { ScheduleSpec } from './schedules.js';
import type { AppSpec, DeployAllReply, DeployReply, OkReply, PingReply, ServiceSpec, StatusReport } from './protocol.js';

/**
 * The supervisor's control API as one table: every call with its method, path, typed request and
 * typed reply. The supervisor's server (`control-server.ts`) dispatches through it and the
 * engine's client (`ControlClient` in `control.ts`) builds its requests from it, so a path is
 * written here and nowhere else.
 */

/** HTTP methods of the control API. */
export type ControlMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * The request of one call: `params` fill the `:name` segments of its path, `query` travels as URL
 * parameters (through the route's codec), `body` as JSON.
 */
export interface ControlRequest {
  params?: Record<string, string>;
  query?: unknown;
  body?: unknown;
}

/** How a call's typed query is written into URL parameters and read back by the supervisor. */
export interface QueryCodec<Q> {
  encode(query: Q): [string, string][];
  decode(params: URLSearchParams): Q;
}

/** One call of the control API. `Req` and `Reply` are types only: nothing of them exists at run time. */
export interface ControlRoute<Req extends ControlRequest, Reply> {
  readonly method: ControlMethod;
  /** Path with a `:name` segment for each of `Req['params']`, e.g. `/v1/apps/:name`. */
  readonly path: string;
  /** Present exactly when the request has a query. */
  readonly query?: Req extends { query: infer Q } ? QueryCodec<Q> : undefined;
  /** Carries the request and reply types (never set). */
  readonly types?: { request: Req; reply: Reply };
}

/** A route seen without its types (for the code that sends or dispatches any call). */
export interface AnyControlRoute {
  readonly method: ControlMethod;
  readonly path: string;
  readonly query?: QueryCodec<unknown> | undefined;
}

type NoRequest = Record<never, never>;

function route<Req extends ControlRequest, Reply>(
  method: ControlMethod,
  path: string,
  ...query: Req extends { query: infer Q } ? [QueryCodec<Q>] : []
): ControlRoute<Req, Reply> {
  return (query.length > 0 ? { method, path, query: query[0] } : { method, path }) as ControlRoute<Req, Reply>;
}

/** A boolean query parameter: `1` or `0` on the wire. */
const flag = (v: boolean): string => (v ? '1' : '0');

/** `dropData=1|0`: whether data goes too. */
const dropDataQuery: QueryCodec<{ dropData: boolean }> = {
  encode: (q) => [['dropData', flag(q.dropData)]],
  decode: (p) => ({ dropData: p.get('dropData') === '1' }),
};

/** Every call of the control API, by name. */
export const CONTROL_ROUTES = {
  /** Who answers and which protocol it speaks; answered while shutting down too. */
  ping: route<NoRequest, PingReply>('GET', '/v1/ping'),
  /** What runs now. */
  status: route<NoRequest, StatusReport>('GET', '/v1/status'),
  /** Moves the router to another port (the old one serves until the new one listens). */
  moveRouter: route<{ query: { port: number } }, { routerPort: number }>('POST', '/v1/router', {
    encode: (q) => [['port', String(q.port)]],
    decode: (p) => ({ port: Number(p.get('port')) }),
  }),
  /** Status after every control call queued before (including the restore after a start). */
  sync: route<NoRequest, StatusReport>('POST', '/v1/sync'),
  /** Makes a service exist and run, and records it. */
  putService: route<{ body: ServiceSpec }, OkReply>('PUT', '/v1/services'),
  /** Stops a service and forgets it; `type` when the supervisor may not know it, `dropData` removes its data. */
  deleteService: route<{ params: { name: string }; query: { type?: ServiceType; dropData: boolean } }, OkReply>('DELETE', '/v1/services/:name', {
    encode: (q) => [...(q.type !== undefined ? [['type', q.type] as [string, string]] : []), ...dropDataQuery.encode(q)],
    decode: (p) => ({ ...(p.get('type') !== null ? { type: p.get('type') as ServiceType } : {}), ...dropDataQuery.decode(p) }),
  }),
  /** Deploys an app (blue/green) and records it; `restart` starts new processes even when the spec is unchanged (`setopsd redeploy`). */
  putApp: route<{ body: AppSpec; query: { restart: boolean } }, DeployReply>('PUT', '/v1/apps', {
    encode: (q) => (q.restart ? [['restart', '1']] : []),
    decode: (p) => ({ restart: p.get('restart') === '1' }),
  }),
  /** Deploys several apps at once (bounded parallelism), each blue/green; one failing does not stop the others; `restart` names apps to give new processes even when unchanged. */
  putApps: route<{ body: { apps: AppSpec[]; restart?: string[] } }, DeployAllReply>('PUT', '/v1/apps/all'),
  /** Stops an app's processes and forgets it. */
  deleteApp: route<{ params: { name: string } }, OkReply>('DELETE', '/v1/apps/:name'),
  /** Replaces an app's scheduled tasks (an empty list removes them). */
  putSchedules: route<{ params: { name: string }; body: { schedules: ScheduleSpec[] } }, OkReply>('PUT', '/v1/apps/:name/schedules'),
  /** Stops everything and exits once the answer is sent; `dropData` removes all service data. */
  shutdown: route<{ query: { dropData: boolean } }, OkReply>('POST', '/v1/shutdown', dropDataQuery),
} satisfies Record<string, AnyControlRoute>;

/** The name of a control call. */
export type ControlCall = keyof typeof CONTROL_ROUTES;

/** The typed request of a call. */
export type RequestOf<K extends ControlCall> = (typeof CONTROL_ROUTES)[K] extends ControlRoute<infer Req, infer _Reply> ? Req : never;

/** The typed reply of a call. */
export type ReplyOf<K extends ControlCall> = (typeof CONTROL_ROUTES)[K] extends ControlRoute<infer _Req, infer Reply> ? Reply : never;

/** A route of the table without its types. */
export function routeOf(call: ControlCall): AnyControlRoute {
  return CONTROL_ROUTES[call] as AnyControlRoute;
}

/** The request target of a call: its path with `params` filled in (URI-encoded), then its query. */
export function targetOf(route: AnyControlRoute, request: ControlRequest): string {
  const path = route.path
    .split('/')
    .map((seg) => (seg.startsWith(':') ? encodeURIComponent(request.params?.[seg.slice(1)] ?? '') : seg))
    .join('/');
  const pairs = route.query ? route.query.encode(request.query) : [];
  return pairs.length === 0 ? path : `${path}?${new URLSearchParams(pairs).toString()}`;
}

/** The call a request names (its method and decoded path segments) with its path parameters, or null. */
export function matchCall(method: string, segments: readonly string[]): { call: ControlCall; params: Record<string, string> } | null {
  for (const call of Object.keys(CONTROL_ROUTES) as ControlCall[]) {
    const route = routeOf(call);
    if (route.method !== method) continue;
    const pattern = route.path.split('/').filter(Boolean);
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const matches = pattern.every((seg, i) => {
      if (!seg.startsWith(':')) return seg === segments[i];
      params[seg.slice(1)] = segments[i]!;
      return true;
    });
    if (matches) return { call, params };
  }
  return null;
}
