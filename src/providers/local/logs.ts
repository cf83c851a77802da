import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogsOptions } from '../engine.js';
import type { LocalPaths } from './paths.js';
import type { Clock, Sleep } from '../../deps.js';
import { readStamps, timeAt } from './log-stamps.js';

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

/** Splits `buf` (starting at byte `base` of its file) into lines with the offset each starts at; the last, unterminated piece is returned apart. */
export function splitLines(buf: Buffer, base: number): { lines: { text: string; offset: number }[]; rest: Buffer } {
  const lines: { text: string; offset: number }[] = [];
  let start = 0;
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, start)) {
    lines.push({ text: buf.subarray(start, i).toString('utf8'), offset: base + start });
    start = i + 1;
  }
  return { lines, rest: buf.subarray(start) };
}

/**
 * The last `lines` lines of a file that start at byte `from` or later, with their offsets, and
 * its size (where following starts). Reads backwards only as far as it needs.
 */
export async function tail(file: string, lines: number, from = 0): Promise<{ lines: { text: string; offset: number }[]; size: number }> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    // One byte before `from`: the piece up to the first newline is dropped below, and is then
    // either that newline (a line starts at `from`) or the end of a line that started earlier.
    const floor = Math.max(0, from - 1);
    let pos = size;
    let buf = Buffer.alloc(0);
    const chunk = 64 * 1024;
    const count = () => buf.reduce((n, b) => (b === 10 ? n + 1 : n), 0);
    while (pos > floor && count() <= lines) {
      const len = Math.min(chunk, pos - floor);
      pos -= len;
      const part = Buffer.alloc(len);
      await fh.read(part, 0, len, pos);
      buf = Buffer.concat([part, buf]);
    }
    const { lines: all, rest } = splitLines(buf, pos);
    if (rest.length > 0) all.push({ text: rest.toString('utf8'), offset: pos + buf.length - rest.length });
    // The first piece may be the end of a line that started before what was read.
    if (pos > 0) all.shift();
    const since = all.filter((l) => l.offset >= from);
    return { lines: lines <= 0 ? [] : since.slice(-lines), size };
  } finally {
    await fh.close();
  }
}

/**
 * The first byte written at `since` or later by the notes: lines before the last note older than
 * `since` were all written before it (a line's time is that of the first note past its start).
 */
function offsetSince(notes: readonly { offset: number; time: string }[], since: number | undefined): number {
  if (since === undefined) return 0;
  let from = 0;
  for (const n of notes) {
    if (Date.parse(n.time) >= since) break;
    from = n.offset;
  }
  return from;
}

/** `TIME APP.PROCESS: ` — the time the line was written (see `log-stamps.ts`) and which process wrote it. */
function prefix(app: string, label: string, time: string): string {
  return `${time} ${app}.${label}: `;
}

/**
 * Writes the last `lines` lines (written at `since` or later) of each of the app's process logs, each line prefixed with the
 * time it was written and its process (`2026-01-02T03:04:05.000Z web.0: …`, pre-deploy output as
 * `web.predeploy`), and with `follow` keeps writing new lines (of new processes too) until the
 * signal aborts, looking for them every 200 ms (through `deps.sleep`).
 * Returns false (writing nothing) when the app has no log and `known()` says it is no app of the stage.
 */
export async function writeAppLogs(paths: LocalPaths, app: string, o: LogsOptions, deps: { sleep: Sleep; clock: Clock }, known: () => boolean = () => true): Promise<boolean> {
  const offsets = new Map<string, number>();
  const partial = new Map<string, Buffer>();
  const now = () => new Date(deps.clock.now()).toISOString();
  const files = await logFiles(paths, app);
  if (files.length === 0 && !known()) return false;
  for (const { file, label } of files) {
    const notes = await readStamps(file);
    const t = await tail(file, o.lines, offsetSince(notes, o.since));
    for (const line of t.lines) o.write(`${prefix(app, label, timeAt(notes, line.offset, now()))}${line.text}\n`);
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
      if (size < from) {
        offsets.set(file, 0);
        partial.delete(file);
      }
      if (size <= (offsets.get(file) ?? 0)) continue;
      const start = offsets.get(file) ?? 0;
      const fh = await open(file, 'r');
      try {
        const buf = Buffer.alloc(size - start);
        await fh.read(buf, 0, buf.length, start);
        offsets.set(file, size);
        const carried = partial.get(file) ?? Buffer.alloc(0);
        const { lines, rest } = splitLines(Buffer.concat([carried, buf]), start - carried.length);
        partial.set(file, rest);
        // Just written: now is the time (the supervisor notes it within a second too).
        for (const line of lines) o.write(`${prefix(app, label, now())}${line.text}\n`);
      } finally {
        await fh.close();
      }
    }
  }
  return true;
}
