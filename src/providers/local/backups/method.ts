import { spawn } from 'node:child_process';
import { EngineError } from '../../../errors.js';
import type { ServiceModel, StageRef } from '../../../model/stage-model.js';
import type { LocalDeps } from '../local-deps.js';
import type { LocalPaths } from '../paths.js';

/** What a backup method of one service type works with. */
export interface ServiceBackupContext {
  ref: StageRef;
  service: string;
  model: ServiceModel;
  paths: LocalPaths;
  deps: LocalDeps;
  signal: AbortSignal;
  /** `service/NAME in org/project/stage`, to start messages with. */
  subject: string;
}

/** How one service type is backed up and restored on the local engine. */
export interface BackupMethod {
  /** Shown in `backup list` and recorded: how the backup was taken. */
  readonly method: string;
  /** File name extension of the data file. */
  readonly ext: string;
  /** Writes a consistent copy of the service's data to `file`. */
  create(ctx: ServiceBackupContext, file: string): Promise<void>;
  /** Replaces the service's data with the backup in `file` (already checksum-verified). */
  restore(ctx: ServiceBackupContext, file: string): Promise<void>;
}

/** Runs a program to completion (no shell); rejects with a short stderr tail on a non-zero exit. */
export function run(program: string, args: string[], opts: { cwd?: string; env?: Record<string, string>; signal: AbortSignal; what: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd: opts.cwd, env: opts.env ?? { PATH: '/usr/bin:/bin' }, stdio: ['ignore', 'ignore', 'pipe'], signal: opts.signal });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-2000)));
    child.on('error', (err) => reject(new EngineError(`${opts.what}: cannot run ${program}: ${err.message}`, { code: 'E_BACKUP_FAILED', cause: err })));
    child.on('close', (code, sig) => {
      if (code === 0) resolve();
      else reject(new EngineError(`${opts.what}: ${program} ${code !== null ? `exited with code ${code}` : `was killed by ${sig}`}${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' / ').slice(0, 300)}` : ''}`, { code: 'E_BACKUP_FAILED', data: { stderrTail: stderr.slice(-500) } }));
    });
  });
}
