import type { CommandContext } from './command.js';
import { SetopsError, UsageError } from '../errors.js';
import { readDaemonInfo } from '../daemon/instance.js';

/**
 * Calls the running daemon's API: `--daemon URL` with `SETOPSD_API_TOKEN`, else the URL and
 * token the daemon of the state directory wrote to `daemon.json`. The token is never printed.
 */
export async function callDaemon(ctx: Pick<CommandContext, 'args' | 'deps' | 'signal'>, stateDir: string, method: 'POST' | 'GET', path: string, body?: unknown): Promise<unknown> {
  const flag = ctx.args.values.daemon;
  let url: string;
  let token: string | undefined;
  if (typeof flag === 'string') {
    url = flag;
    token = ctx.deps.env.SETOPSD_API_TOKEN;
    if (!token) throw new UsageError('--daemon URL needs the API token in SETOPSD_API_TOKEN (see daemon.json beside the daemon\'s state)');
  } else {
    const info = await readDaemonInfo(stateDir);
    if (info === null) throw new UsageError(`no setopsd daemon runs on the state directory ${stateDir}; start one with \`setopsd daemon\`, or give --daemon URL`);
    url = info.url;
    token = info.token;
  }
  let res: Response;
  try {
    res = await fetch(new URL(path, url), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: ctx.signal,
    });
  } catch (err) {
    throw new SetopsError(`cannot reach the setopsd daemon at ${url}: ${(err as Error).message}; is it running?`, { code: 'E_ENGINE', cause: err });
  }
  const text = await res.text();
  const parsed = text ? (JSON.parse(text) as { error?: { code?: string; message?: string } }) : null;
  if (!res.ok) {
    const message = parsed?.error?.message ?? `the daemon answered ${res.status}`;
    if (res.status === 400 || res.status === 404 || res.status === 409) throw new UsageError(message);
    throw new SetopsError(`the setopsd daemon at ${url}: ${message}`, { code: 'E_ENGINE' });
  }
  return parsed;
}

export const DAEMON_OPTION = { daemon: { type: 'string' } } as const;
export const DAEMON_HELP = [
  '  --daemon URL         The daemon to ask (token in SETOPSD_API_TOKEN). Default: the daemon whose',
  '                       state directory this is (its daemon.json).',
].join('\n');
