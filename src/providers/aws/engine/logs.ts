/**
 * `setopsd logs` for AWS stages: an app's CloudWatch log group (recorded in the stack outputs)
 * read with the AWS CLI (`aws logs tail`), which brings the user's credentials, profiles and
 * SSO sessions with it. setopsd bundles no AWS SDK.
 */
import { spawn } from 'node:child_process';
import { EngineError } from '../../../errors.js';
import type { LogsOptions } from '../../engine.js';
import { findOnPath } from '../../executables.js';
import { shortTail } from './errors.js';

/** What to tail and where the output goes. */
export interface TailRequest extends LogsOptions {
  /** `app/web in acme/shop/production`. */
  subject: string;
  logGroup: string;
  region?: string;
  env: Record<string, string | undefined>;
}

/**
 * Prints the last `lines` lines of the log group from the past day (or from `since`), or with
 * `follow` the recent ones and then new ones until the signal aborts.
 */
export async function tailLogGroup(req: TailRequest): Promise<void> {
  const aws = await findOnPath('aws', req.env);
  if (!aws) {
    throw new EngineError(
      `${req.subject}: reading CloudWatch Logs needs the AWS CLI; install it (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html) ` +
        `or open the log group ${req.logGroup} in the CloudWatch console`,
      { code: 'E_AWS_CLI_MISSING', data: { logGroup: req.logGroup } },
    );
  }
  const args = ['logs', 'tail', req.logGroup, '--format', 'short', '--since', req.since !== undefined ? new Date(req.since).toISOString() : req.follow ? '10m' : '1d'];
  if (req.follow) args.push('--follow');
  if (req.region) args.push('--region', req.region);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.env)) if (v !== undefined) env[k] = v;
  env.AWS_PAGER = '';

  await new Promise<void>((resolve, reject) => {
    const child = spawn(aws, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (req.follow) req.write(chunk);
      else out += chunk;
    });
    child.stderr.on('data', (chunk: string) => {
      err = (err + chunk).slice(-8000);
    });
    const onAbort = (): void => {
      child.kill('SIGTERM');
    };
    req.signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => {
      req.signal.removeEventListener('abort', onAbort);
      reject(new EngineError(`${req.subject}: cannot run ${aws}: ${e.message}`, { code: 'E_AWS_LOGS', cause: e }));
    });
    // Once aborted, the exit is enough: a grandchild may still hold the output pipes open.
    child.on('exit', () => {
      if (req.signal.aborted) {
        req.signal.removeEventListener('abort', onAbort);
        resolve();
      }
    });
    child.on('close', (code) => {
      req.signal.removeEventListener('abort', onAbort);
      if (req.signal.aborted) return resolve();
      if (code !== 0) {
        const tail = shortTail(err, 4, 600);
        return reject(
          new EngineError(`${req.subject}: \`aws logs tail ${req.logGroup}\` failed (exit ${String(code)})${tail ? `: ${tail.split('\n').pop()}` : ''}`, {
            code: 'E_AWS_LOGS',
            data: { tail, logGroup: req.logGroup },
          }),
        );
      }
      if (!req.follow) {
        const lines = out.split('\n').filter((l) => l !== '');
        const last = lines.slice(Math.max(0, lines.length - req.lines));
        if (last.length > 0) req.write(last.join('\n') + '\n');
      }
      resolve();
    });
  });
}
