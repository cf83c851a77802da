import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, type Reply, type STREAMED } from './reply.js';

/** What a route handler gets: the path parameters, the query, the (limited) body of a POST. */
export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** `{org}` in the pattern → `params.org`, percent-decoded. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** The request body (POST only; empty when none was sent). */
  body: Buffer;
}

/** One entry of the routes table. */
export interface Route {
  method: 'GET' | 'POST';
  /** `/api/v1/stages/{org}/{project}/{stage}`: literal segments and `{name}` parameters, one segment each. */
  pattern: string;
  /** `token`: the request needs `Authorization: Bearer <token>` (every mutation). */
  auth: 'none' | 'token';
  /** Largest request body read for this route (default `MAX_BODY_BYTES`, 1 MiB); larger ones get 413. */
  maxBodyBytes?: number;
  /** Returns the response, or STREAMED when it wrote it itself. */
  handle(ctx: RouteContext): Promise<Reply | typeof STREAMED>;
  /** Told when the request is refused before `handle` runs because its body is too large (413): the route counts it. */
  refused?(error: HttpError): void;
}

/** A route with its pattern split into segments. */
interface Compiled {
  route: Route;
  segments: ({ literal: string } | { param: string })[];
}

/** What `match` finds for a request. */
export type Match = { route: Route; params: Record<string, string> } | { allowed: string[] } | null;

/** The routes table, compiled once: matches a method and a path to a route and its parameters. */
export class Router {
  private readonly compiled: Compiled[];

  constructor(routes: Route[]) {
    this.compiled = routes.map((route) => ({
      route,
      segments: split(route.pattern).map((s) => {
        const m = /^\{([a-z]+)\}$/.exec(s);
        return m ? { param: m[1]! } : { literal: s };
      }),
    }));
  }

  /**
   * The route for `method` and the raw (still percent-encoded) `pathname`; `{ allowed }` when
   * the path exists for other methods only (405); null when no route has the path (404).
   * Throws a 400 HttpError for a segment that is not valid percent-encoding.
   */
  match(method: string, pathname: string): Match {
    const raw = split(pathname);
    const allowed: string[] = [];
    for (const { route, segments } of this.compiled) {
      const params = matchSegments(segments, raw);
      if (params === null) continue;
      if (route.method === method) return { route, params };
      allowed.push(route.method);
    }
    return allowed.length > 0 ? { allowed } : null;
  }
}

function split(path: string): string[] {
  return path === '/' ? [] : path.replace(/^\//, '').split('/');
}

function matchSegments(segments: Compiled['segments'], raw: string[]): Record<string, string> | null {
  if (segments.length !== raw.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const got = raw[i]!;
    if ('literal' in seg) {
      if (seg.literal !== got) return null;
      continue;
    }
    if (got === '') return null;
    let value: string;
    try {
      value = decodeURIComponent(got);
    } catch {
      throw new HttpError(400, 'E_USAGE', `path segment ${i + 1} is not valid percent-encoding`);
    }
    // A parameter is one segment: an encoded "/" would make a different stage key.
    if (value.includes('/')) return null;
    params[seg.param] = value;
  }
  return params;
}
