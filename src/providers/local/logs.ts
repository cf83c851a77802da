import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogsOptions } from '../engine.js';
import type { LocalPaths } from './paths.js';
import type { Sleep } from '../../deps.js';

/** The app's log files: `<app>.<index>.log` by index, then `<app>.predeploy.log`. */
async function logFiles(paths: LocalPaths, app: string): Promise<{ file: string; label: string }[]> {
  let names: string[] = [];
  try {
    names = await readdir(paths.logsDir);
  } catch {
    return [];
  }
  const esc = app.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`^${esc}\\.(\\d+|predeploy)\\.log$`);
  return names
    .map((n) => ({ n, m: re.exec(n) }))
    .filter((x): x is { n: string; m: RegExpExecArray } => x.m !== null)
    .sort((a, b) => (a.m[1] === 'predeploy' ? 1e9 : Number(a.m[1])) - (b.m[1] === 'predeploy' ? 1e9 : Number(b.m[1])))
    .map(({ n, m }) => ({ file: join(paths.logsDir, n), label: m[1] === 'predeploy' ? 'predeploy' : m[1]! }));
}

/** The last `lines` lines of a file, and its size (where following starts). */
async function tail(file: string, lines: number): Promise<{ lines: string[]; size: number }> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    let pos = size;
    let text = '';
    const chunk = 64 * 1024;
    while (pos > 0 && text.split('\n').length <= lines + 1) {
      const len = Math.min(chunk, pos);
      pos -= len;
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, pos);
      text = buf.toString('utf8') + text;
    }
    const all = text.split('\n');
    if (all[all.length - 1] === '') all.pop();
    return { lines: lines <= 0 ? [] : all.slice(-lines), size };
  } finally {
    await fh.close();
  }
}

/**
 * Writes the last `lines` lines of each of the app's process logs, each line prefixed with
 * `[INDEX] `, and with `follow` keeps writing new lines (of new processes too) until the signal
 * aborts, looking for them every 200 ms (through `deps.sleep`).
 * Returns false (writing nothing) when the app has no log and `known()` says it is no app of the stage.
 */
export async function writeAppLogs(paths: LocalPaths, app: string, o: LogsOptions, deps: { sleep: Sleep }, known: () => boolean = () => true): Promise<boolean> {
  const offsets = new Map<string, number>();
  const partial = new Map<string, string>();
  const files = await logFiles(paths, app);
  if (files.length === 0 && !known()) return false;
  for (const { file, label } of files) {
    const t = await tail(file, o.lines);
    for (const line of t.lines) o.write(`[${label}] ${line}\n`);
    offsets.set(file, t.size);
  }
  if (!o.follow) return true;
  while (!o.signal.aborted) {
    await deps.sleep(200, o.signal).catch(() => {});
    if (o.signal.aborted) break;
    for (const { file, label } of await logFiles(paths, app)) {
      const from = offsets.get(file) ?? 0;
      let size: number;
      try {
        size = (await stat(file)).size;
      } catch {
        continue;
      }
      if (size < from) offsets.set(file, 0);
      if (size <= (offsets.get(file) ?? 0)) continue;
      const start = offsets.get(file) ?? 0;
      const fh = await open(file, 'r');
      try {
        const buf = Buffer.alloc(size - start);
        await fh.read(buf, 0, buf.length, start);
        offsets.set(file, size);
        const text = (partial.get(file) ?? '') + buf.toString('utf8');
        const parts = text.split('\n');
        partial.set(file, parts.pop() ?? '');
        for (const line of parts) o.write(`[${label}] ${line}\n`);
      } finally {
        await fh.close();
      }
    }
  }
  return true;
}
