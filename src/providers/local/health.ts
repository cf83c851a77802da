import { request } from 'node:http';
import { connect } from 'node:net';
import { spawn } from 'node:child_process';
import type { HealthCheckModel } from '../../model/stage-model.js';
import { statusInRange, toArgv } from './command.js';

/** What one health probe needs about a process. */
export interface ProbeTarget {
  protocol: 'http' | 'tcp';
  port: number;
  healthCheck: HealthCheckModel;
  /** For the check command. */
  cwd: string;
  env: Record<string, string>;
}

/**
 * One health probe: for http apps a GET of the check path with the status in range, for tcp
 * apps a TCP connect; when the check has a `command`, it must exit 0 as well (SetOps: both the
 * container and the network check must pass).
 */
export async function probe(target: ProbeTarget, signal: AbortSignal): Promise<boolean> {
  const timeoutMs = Math.max(50, target.healthCheck.timeout * 1000);
  const network = target.protocol === 'http'
    ? await httpProbe(target.port, target.healthCheck.path, target.healthCheck.status, timeoutMs, signal)
    : await tcpProbe(target.port, timeoutMs, signal);
  if (!network) return false;
  if (target.healthCheck.command !== undefined) return commandProbe(toArgv(target.healthCheck.command), target, timeoutMs, signal);
  return true;
}

function httpProbe(port: number, path: string, range: string, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path: path.startsWith('/') ? path : `/${path}`, method: 'GET', agent: false, signal, timeout: timeoutMs, headers: { 'user-agent': 'setopsd-health' } },
      (res) => {
        res.resume();
        resolve(statusInRange(res.statusCode ?? 0, range));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

function tcpProbe(port: number, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port, signal });
    const timer = setTimeout(() => done(false), timeoutMs);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    sock.on('connect', () => done(true));
    sock.on('error', () => done(false));
  });
}

function commandProbe(argv: string[], target: ProbeTarget, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: target.cwd, env: target.env, stdio: 'ignore', signal, timeout: timeoutMs, killSignal: 'SIGKILL' });
    child.on('error', () => resolve(false));
    child.on('exit', (code) => resolve(code === 0));
  });
}
