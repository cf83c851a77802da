import type { AppModel, StageRef } from '../../model/stage-model.js';

/**
 * argv of an app's processes, following Docker's rules: an exec-form command is run directly,
 * a shell-form command through `/bin/sh -c`; an exec-form entrypoint is prepended to the command
 * (a shell-form command then becomes `/bin/sh -c CMD` after it); a shell-form entrypoint runs
 * alone through `/bin/sh -c`. Returns null when the app has nothing to run.
 */
export function processArgv(app: Pick<AppModel, 'command' | 'entrypoint'>): string[] | null {
  const cmd = app.command === undefined ? [] : toArgv(app.command);
  if (app.entrypoint !== undefined) {
    if (typeof app.entrypoint === 'string') return ['/bin/sh', '-c', app.entrypoint];
    const argv = [...app.entrypoint, ...cmd];
    return argv.length === 0 ? null : argv;
  }
  return cmd.length === 0 ? null : cmd;
}

/** Shell form → `/bin/sh -c`, exec form as is. */
export function toArgv(command: string | string[]): string[] {
  return typeof command === 'string' ? ['/bin/sh', '-c', command] : [...command];
}

/** The router's default host name of an app: `APP.STAGE.PROJECT.localhost`. */
export function defaultHost(ref: StageRef, app: string): string {
  return `${app}.${ref.stage}.${ref.project}.localhost`.toLowerCase();
}

/** Host names routed to an app: the default one first, then its custom domains sorted; lower case. */
export function appHosts(ref: StageRef, name: string, app: AppModel): string[] {
  if (!app.public) return [];
  const main = defaultHost(ref, name);
  const domains = [...new Set(Object.keys(app.domains).map((d) => d.toLowerCase()))].filter((d) => d !== main).sort();
  return [main, ...domains];
}

/**
 * Whether an HTTP status is in a health check range such as `200-499`, `200`, or `200-299,301`.
 * An unparsable range falls back to SetOps' default 200-499.
 */
export function statusInRange(status: number, range: string): boolean {
  const parts = range.split(',').map((p) => p.trim()).filter((p) => p !== '');
  let parsed = 0;
  for (const part of parts) {
    const m = /^(\d{3})(?:\s*-\s*(\d{3}))?$/.exec(part);
    if (!m) continue;
    parsed++;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (status >= lo && status <= hi) return true;
  }
  return parsed === 0 ? status >= 200 && status <= 499 : false;
}
