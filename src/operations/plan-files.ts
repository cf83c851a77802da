import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PlanError, throwIfAborted } from '../errors.js';
import { parsePlanFile, signPlanFile, verifyPlanFile, type PlanFile } from '../reconciler/plan-file.js';
import { writeFileAtomic } from '../state/atomic.js';

/** Saved plans on disk (`setopsd plan --out FILE`, `setopsd apply FILE`); the format itself is `src/reconciler/plan-file.ts`. */

/** The file in a state directory holding the key plan files are signed with. */
export const PLAN_KEY_FILE = 'plan.key';

/** Shortest `SETOPSD_PLAN_KEY` accepted: a guessable key would make the signature worthless. */
const MIN_ENV_KEY_LENGTH = 32;

/**
 * The key saved plans are signed with: `SETOPSD_PLAN_KEY` when set (CI, where plan and apply run
 * on different machines: give both the same secret), else `<stateDir>/plan.key` — 32 random
 * bytes, mode 0600, made by the first `plan --out` (`create`). Without `create` a missing key is
 * a PlanError saying how plan and apply can share one.
 */
export async function planKey(stateDir: string, env: Record<string, string | undefined>, opts: { create: boolean }): Promise<Uint8Array> {
  const fromEnv = env.SETOPSD_PLAN_KEY;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (fromEnv.length < MIN_ENV_KEY_LENGTH) {
      throw new PlanError(`SETOPSD_PLAN_KEY is too short (${fromEnv.length} characters); use at least ${MIN_ENV_KEY_LENGTH} random characters, e.g. \`openssl rand -hex 32\``, {
        code: 'E_PLAN_FILE',
      });
    }
    return Buffer.from(fromEnv, 'utf8');
  }
  const path = join(stateDir, PLAN_KEY_FILE);
  const existing = await readKey(path);
  if (existing !== undefined) return existing;
  if (!opts.create) {
    throw new PlanError(
      `no plan key in ${stateDir}: plan files are signed with the key of the state directory they were planned against; apply on the machine (and with the --state-dir) where the plan was made, or set the same SETOPSD_PLAN_KEY for plan and apply`,
      { code: 'E_PLAN_FILE', data: { stateDir } },
    );
  }
  await mkdir(stateDir, { recursive: true });
  try {
    // `wx`: two plans making the first key at once agree on one (the loser reads the winner's).
    await writeFile(path, randomBytes(32).toString('hex') + '\n', { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return (await readKey(path))!;
}

async function readKey(path: string): Promise<Uint8Array | undefined> {
  try {
    return Buffer.from((await readFile(path, 'utf8')).trim(), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Signs and writes a saved plan atomically (mode 0600: it describes infrastructure, keep it private). */
export async function writePlanFile(path: string, file: PlanFile, key: Uint8Array): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(signPlanFile(file, key), null, 2) + '\n', 0o600);
}

/** Reads, validates and verifies a saved plan; PlanError `E_PLAN_FILE` naming the file and the problem. */
export async function readPlanFile(path: string, key: Uint8Array, signal?: AbortSignal): Promise<PlanFile> {
  throwIfAborted(signal);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new PlanError(`${path}: cannot read the plan file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { code: 'E_PLAN_FILE', cause: err });
  }
  const file = parsePlanFile(text, path);
  verifyPlanFile(file, key, path);
  return file;
}
