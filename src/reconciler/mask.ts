import type { EnvValue } from '../model/stage-model.js';
import { isSecretRef } from '../model/stage-model.js';

/**
 * The one place where values are masked for plans, logs and the journal. A `{secret: NAME}`
 * env value becomes the string `(secret NAME)`; the model never holds a secret value, but every
 * renderer goes through here so that stays true if it ever did.
 */
export function maskEnvValue(value: EnvValue | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (isSecretRef(value)) return `(secret ${value.secret})`;
  return value;
}

/** True for a masked secret as produced by `maskEnvValue`. */
export function isMaskedSecret(value: unknown): value is string {
  return typeof value === 'string' && /^\(secret [^()]*\)$/.test(value);
}
