import { request } from 'node:http';
import { CanceledError, EngineError, SetopsError } from '../../errors.js';
import { isErrorCode } from '../../error-codes.js';
import { stageKey } from '../../model/stage-model.js';
import type { SupervisorInfo } from './protocol.js';

/** Wire form of an error returned by the control API. */
export interface WireError {
  message: string;
  code: string;
  name: string;
  data: Record<string, unknown>;
  /** Informational (the receiver derives it from the code); kept for readers of the wire format. */
  retryable: boolean;
}

/** Serialises an error for the control API (message, code and data only; never a stack). */
export function toWire(err: unknown): WireError {
  if (err instanceof SetopsError) return { message: err.message, code: err.code, name: err.name, data: err.data, retryable: err.retryable };
  return { message: (err as Error)?.message ?? String(err), code: 'E_ENGINE', name: 'EngineError', data: {}, retryable: true };
}

/** Rebuilds an error received from the control API. */
export function fromWire(w: WireError): SetopsError {
  if (w.code === 'E_CANCELED') return new CanceledError(w.message);
  return new EngineError(w.message, { code: isErrorCode(w.code) ? w.code : 'E_LOCAL_CONTROL', data: w.data });
}

/** The engine's side of the supervisor's control API (127.0.0.1, bearer token). */
export class ControlClient {
  constructor(readonly info: SupervisorInfo) {}

  private subject(): string {
    return `stage ${stageKey(this.info.stage)}`;
  }

  /** Calls the API; throws the supervisor's error, or an EngineError when it cannot be reached. */
  call<T>(method: string, path: string, body?: unknown, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<T> {
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
