import type { AppModel, EnvValue } from '../model/stage-model.js';
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

/** The env map with every secret reference masked. */
export function maskEnv(env: Record<string, EnvValue>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(env).sort()) out[key] = maskEnvValue(env[key]) as string;
  return out;
}

/** An app model as shown in a plan: env masked; links and domains are separate subjects, so left out. */
export function maskApp(app: AppModel): Omit<AppModel, 'env' | 'links' | 'domains'> & { env: Record<string, string> } {
  const { env, links: _links, domains: _domains, ...rest } = app;
  return { ...rest, env: maskEnv(env) };
}

/** True for a masked secret as produced by `maskEnvValue`. */
export function isMaskedSecret(value: unknown): value is string {
  return typeof value === 'string' && /^\(secret [^()]*\)$/.test(value);
}
