import { open, stat } from 'node:fs/promises';
import type { LogsOptions } from '../engine.js';
import type { Sleep } from '../../deps.js';
import { splitLines, tail } from './logs.js';

const LEVELS: Record<number, string> = { 40: 'WARN ', 50: 'ERROR ', 60: 'FATAL ' };

/**
 * One line of the supervisor's log for people: its pino JSON as `TIME supervisor: [LEVEL ]msg
 * (code)`, and with the time it was written (null for a line that is not pino JSON, e.g. a
 * crash's stderr, which is shown as it is). Pure.
 */
export function humanSupervisorLine(line: string): { time: string | null; text: string } {
  const entry = parseEntry(line);
  if (entry === null || typeof entry.time !== 'string' || typeof entry.msg !== 'string') return { time: null, text: line };
  const level = typeof entry.level === 'number' ? (LEVELS[entry.level] ?? '') : '';
  const code = typeof entry.code === 'string' ? ` (${entry.code})` : '';
  return { time: entry.time, text: `${entry.time} supervisor: ${level}${entry.msg}${code}` };
}

interface PinoEntry {
  time?: unknown;
  level?: unknown;
  msg?: unknown;
  code?: unknown;
}

function parseEntry(line: string): PinoEntry | null {
  if (!line.startsWith('{')) return null;
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === 'object' && v !== null ? (v as PinoEntry) : null;
  } catch {
    return null;
  }
}

/**
 * The last `lines` human lines of the stage supervisor's log written at `since` or later (a line
 * that is not pino JSON counts as written with the line before it), then with `follow` new ones,
 * looking every 200 ms, until the signal aborts. False when the stage has no supervisor log.
 */
export async function writeSupervisorLog(file: string, o: LogsOptions, deps: { sleep: Sleep }): Promise<boolean> {
  let size: number;
  let lines: string[];
  try {
    const t = await tail(file, o.since === undefined ? o.lines : Infinity, 0);
    size = t.size;
    lines = t.lines.map((l) => l.text);
  } catch {
    return false;
  }
  const out: string[] = [];
  let last: string | null = null;
  for (const line of lines) {
    const h = humanSupervisorLine(line);
    last = h.time ?? last;
    if (o.since !== undefined && (last === null || Date.parse(last) < o.since)) continue;
    out.push(h.text);
  }
  for (const text of o.lines <= 0 ? [] : out.slice(-o.lines)) o.write(`${text}\n`);
  let partial = Buffer.alloc(0);
  while (o.follow && !o.signal.aborted) {
    await deps.sleep(200, o.signal).catch(() => {});
    if (o.signal.aborted) break;
    const now = (await stat(file).catch(() => null))?.size ?? 0;
    if (now < size) {
      size = 0;
      partial = Buffer.alloc(0);
    }
    if (now <= size) continue;
    const fh = await open(file, 'r');
    try {
      const buf = Buffer.alloc(now - size);
      await fh.read(buf, 0, buf.length, size);
      size = now;
      const split = splitLines(Buffer.concat([partial, buf]), 0);
      partial = Buffer.from(split.rest);
      for (const l of split.lines) o.write(`${humanSupervisorLine(l.text).text}\n`);
    } finally {
      await fh.close();
    }
  }
  return true;
}
