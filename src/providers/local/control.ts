import { request } from 'node:http';
import { CanceledError, EngineError, SetopsError } from '../../errors.js';
import { isErrorCode } from '../../error-codes.js';
import { fileSystemError } from '../../state/fs-errors.js';
import { stageKey } from '../../model/stage-model.js';
import type { ServiceType } from '../../model/stage-model.js';
import type { AppSpec, DeployAllReply, WireError, DeployReply, OkReply, PingReply, ServiceSpec, StatusReport, SupervisorInfo } from './protocol.js';
import { routeOf, targetOf, type ControlCall, type ControlRequest, type ReplyOf, type RequestOf } from './control-routes.js';

export type { WireError } from './protocol.js';

/** Serialises an error for the control API (message, code and data only; never a stack). */
export function toWire(err: unknown): WireError {
  if (err instanceof SetopsError) return { message: err.message, code: err.code, name: err.name, data: err.data, retryable: err.retryable };
  const fsError = fileSystemError(err, 'the stage supervisor');
  if (fsError !== null) return toWire(fsError);
  return { message: (err as Error)?.message ?? String(err), code: 'E_ENGINE', name: 'EngineError', data: {}, retryable: true };
}

/** Rebuilds an error received from the control API. */
export function fromWire(w: WireError): SetopsError {
  if (w.code === 'E_CANCELED') return new CanceledError(w.message);
  return new EngineError(w.message, { code: isErrorCode(w.code) ? w.code : 'E_LOCAL_CONTROL', data: w.data });
}

/** Options of one control call. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Gives up (an EngineError) when the supervisor does not answer in time. */
  timeoutMs?: number;
}

/**
 * The engine's side of the supervisor's control API (127.0.0.1, bearer token): one method per
 * call of `CONTROL_ROUTES`. Each throws the supervisor's error, or an EngineError when it cannot
 * be reached or answers oddly.
 */
export class ControlClient {
  constructor(readonly info: SupervisorInfo) {}

  /** Who answers, and with which control protocol. */
  ping(opts: CallOptions = {}): Promise<PingReply> {
    return this.send('ping', {}, opts);
  }

  /** What runs now. */
  status(signal?: AbortSignal): Promise<StatusReport> {
    return this.send('status', {}, { signal });
  }

  /** Moves the router to `port`. */
  moveRouter(port: number, signal?: AbortSignal): Promise<{ routerPort: number }> {
    return this.send('moveRouter', { query: { port } }, { signal });
  }

  /** What runs once every call queued before has run. */
  sync(signal?: AbortSignal): Promise<StatusReport> {
    return this.send('sync', {}, { signal });
  }

  /** Makes a service exist and run. */
  putService(spec: ServiceSpec, signal?: AbortSignal): Promise<OkReply> {
    return this.send('putService', { body: spec }, { signal });
  }

  /** Stops and forgets a service; its data goes only with `dropData`. */
  deleteService(name: string, query: { type?: ServiceType; dropData: boolean }, signal?: AbortSignal): Promise<OkReply> {
    return this.send('deleteService', { params: { name }, query }, { signal });
  }

  /** Deploys an app. */
  putApp(spec: AppSpec, signal?: AbortSignal, opts: { restart?: boolean } = {}): Promise<DeployReply> {
    return this.send('putApp', { body: spec, query: { restart: opts.restart === true } }, { signal });
  }

  /** Deploys apps in parallel (bounded); each result says what its deployment did or why it failed. */
  putApps(apps: AppSpec[], signal?: AbortSignal, restart: readonly string[] = []): Promise<DeployAllReply> {
    return this.send('putApps', { body: { apps, ...(restart.length > 0 ? { restart: [...restart] } : {}) } }, { signal });
  }

  /** Stops and forgets an app. */
  deleteApp(name: string, signal?: AbortSignal): Promise<OkReply> {
    return this.send('deleteApp', { params: { name } }, { signal });
  }

  /** Stops everything of the stage; the supervisor exits after answering. */
  shutdown(query: { dropData: boolean }, signal?: AbortSignal): Promise<OkReply> {
    return this.send('shutdown', { query }, { signal });
  }

  /** Sends any call of the table. */
  send<K extends ControlCall>(call: K, request: RequestOf<K>, opts: CallOptions = {}): Promise<ReplyOf<K>> {
    const route = routeOf(call);
    const req = request as ControlRequest;
    return this.exchange<ReplyOf<K>>(route.method, targetOf(route, req), req.body, opts);
  }

  private subject(): string {
    return `stage ${stageKey(this.info.stage)}`;
  }

  /** One HTTP exchange with the supervisor. */
  private exchange<T>(method: string, path: string, body: unknown, opts: CallOptions): Promise<T> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise<T>((resolve, reject) => {
      if (opts.signal?.aborted) return reject(new CanceledError('canceled', { cause: opts.signal.reason }));
      const req = request(
        {
          host: '127.0.0.1',
          port: this.info.controlPort,
          method,
          path,
          agent: false,
          headers: {
            authorization: `Bearer ${this.info.token}`,
            ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
          },
          ...(opts.signal ? { signal: opts.signal } : {}),
          ...(opts.timeoutMs ? { timeout: opts.timeoutMs } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            let parsed: unknown;
            try {
              parsed = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
            } catch {
              return reject(new EngineError(`${this.subject()}: the stage supervisor (pid ${this.info.pid}) sent an unreadable answer to ${method} ${path}; see the stage's supervisor.log and retry`, { code: 'E_LOCAL_CONTROL' }));
            }
            if ((res.statusCode ?? 500) >= 400) {
              const w = (parsed as { error?: WireError } | null)?.error;
              return reject(w ? fromWire(w) : new EngineError(`${this.subject()}: the stage supervisor answered ${res.statusCode} to ${method} ${path}; see the stage's supervisor.log and retry`, { code: 'E_LOCAL_CONTROL' }));
            }
            resolve(parsed as T);
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (err) => {
        if (opts.signal?.aborted) reject(new CanceledError('canceled', { cause: opts.signal.reason }));
        else reject(new EngineError(`${this.subject()}: cannot reach the stage supervisor (pid ${this.info.pid}, port ${this.info.controlPort}): ${err.message}; apply again, which restarts a supervisor that does not answer`, { code: 'E_LOCAL_CONTROL', cause: err }));
      });
      req.end(payload);
    });
  }
}
