import { appendFile, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * When the lines of process logs were written. App processes write their output straight into
 * `logs/<app>.<index>.log` (so they keep running, and writing, without a supervisor); the
 * supervisor notes every second how far each log has grown — `OFFSET TIME` lines in
 * `<log>.times` — and `setopsd logs` dates each line by the first note that covers its start
 * (accurate to the interval; lines written while no supervisor ran get the time it came back).
 */

/** A process or pre-deploy log of an app (not the supervisor's, postgres' or redis' logs). */
const APP_LOG = /^[a-z][a-z0-9-]*\.(\d+|predeploy)\.log$/;

/** Sizes last noted, by file. */
export type StampState = Map<string, number>;

/** Notes the current size of every app log that grew since the last call (a shrunk one was rotated: its notes restart). */
export async function recordStamps(logsDir: string, state: StampState, now: number): Promise<void> {
  const time = new Date(now).toISOString();
  for (const name of await readdir(logsDir).catch(() => [] as string[])) {
    if (!APP_LOG.test(name)) continue;
    const file = join(logsDir, name);
    const size = (await stat(file).catch(() => null))?.size;
    if (size === undefined) continue;
    const last = state.get(file);
    if (last === size) continue;
    if (last === undefined) {
      // First look (this supervisor just started): keep earlier notes if they still fit the file.
      const notes = await readStamps(file);
      const end = notes[notes.length - 1]?.offset ?? 0;
      state.set(file, size);
      if (end > size) await writeFile(`${file}.times`, '');
      if (end === size) continue;
    } else if (size < last) {
      await writeFile(`${file}.times`, '');
    }
    state.set(file, size);
    await appendFile(`${file}.times`, `${size} ${time}\n`);
  }
}

/** The notes of a log, in file order. */
export async function readStamps(file: string): Promise<{ offset: number; time: string }[]> {
  const text = await readFile(`${file}.times`, 'utf8').catch(() => '');
  const out: { offset: number; time: string }[] = [];
  for (const line of text.split('\n')) {
    const [offset, time] = line.split(' ');
    if (offset && time) out.push({ offset: Number(offset), time });
  }
  return out;
}

/** The time of the byte at `offset`: the first note past it, else `fallback` (not noted yet). */
export function timeAt(notes: readonly { offset: number; time: string }[], offset: number, fallback: string): string {
  let lo = 0;
  let hi = notes.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (notes[mid]!.offset > offset) hi = mid;
    else lo = mid + 1;
  }
  return notes[lo]?.time ?? fallback;
}
