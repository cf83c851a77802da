import { readFile } from 'node:fs/promises';
import { PlanError, throwIfAborted } from '../errors.js';
import { parsePlanFile, type PlanFile } from '../reconciler/plan-file.js';
import { writeFileAtomic } from '../state/atomic.js';

/** Saved plans on disk (`setopsd plan --out FILE`, `setopsd apply FILE`); the format itself is `src/reconciler/plan-file.ts`. */

/** Writes a saved plan atomically (mode 0600: it describes infrastructure, keep it private). */
export async function writePlanFile(path: string, file: PlanFile): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(file, null, 2) + '\n', 0o600);
}

/** Reads and validates a saved plan; PlanError `E_PLAN_FILE` naming the file and the problem. */
export async function readPlanFile(path: string, signal?: AbortSignal): Promise<PlanFile> {
  throwIfAborted(signal);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new PlanError(`${path}: cannot read the plan file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { code: 'E_PLAN_FILE', cause: err });
  }
  return parsePlanFile(text, path);
}
