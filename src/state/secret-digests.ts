import { createHmac, randomBytes } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compareCodeUnits } from '../model/canonical.js';
import { isSecretRef, type StageModel } from '../model/stage-model.js';

/** The key file of a state directory's secret digests (32 random bytes, 0600). */
export const DIGEST_KEY_FILE = 'secret-digest.key';

/** Anything that looks up a secret's value by name (the engines' `SecretResolver`). */
export interface SecretLookup {
  get(name: string): Promise<string>;
}

/** The state directory's digest key, created (0600) on first use. */
async function digestKey(stateDir: string): Promise<Buffer> {
  const file = join(stateDir, DIGEST_KEY_FILE);
  try {
    return await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(stateDir, { recursive: true });
  try {
    const fh = await open(file, 'wx', 0o600);
    try {
      await fh.writeFile(randomBytes(32));
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return readFile(file);
}

/** The names of every `{secret}` the model's apps use, sorted. */
export function secretNames(model: StageModel): string[] {
  const names = new Set<string>();
  for (const app of Object.values(model.apps)) for (const v of Object.values(app.env)) if (isSecretRef(v)) names.add(v.secret);
  return [...names].sort(compareCodeUnits);
}

/**
 * A keyed digest (HMAC-SHA-256 with the state directory's own key) of each secret the model
 * uses, by name: it tells whether a value changed without storing or revealing the value (the
 * key never leaves the state directory, so a digest cannot be checked against guesses elsewhere).
 * Secrets that cannot be looked up are left out (the apply's own check reports them).
 */
export async function secretDigests(stateDir: string, model: StageModel, secrets: SecretLookup): Promise<Record<string, string>> {
  const names = secretNames(model);
  if (names.length === 0) return {};
  const key = await digestKey(stateDir);
  const out: Record<string, string> = {};
  for (const name of names) {
    let value: string;
    try {
      value = await secrets.get(name);
    } catch {
      continue;
    }
    out[name] = `hmac-sha256:${createHmac('sha256', key).update(name).update('\0').update(value).digest('hex')}`;
  }
  return out;
}
