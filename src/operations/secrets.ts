import { SetopsError } from '../errors.js';
import { compareCodeUnits } from '../model/canonical.js';
import { isSecretRef, stageKey, type StageModel, type StageRef } from '../model/stage-model.js';
import type { SecretResolver } from '../providers/engine.js';

/**
 * Resolves every `{secret}` the stage uses before anything changes, and returns a resolver that
 * serves exactly those values to the engine (so a secret is read once per apply). A missing
 * secret refuses the stage with an error naming the app, env key and secret — never a value.
 */
export async function resolveSecrets(ref: StageRef, desired: StageModel | null, source: SecretResolver): Promise<SecretResolver> {
  const values = new Map<string, string>();
  const missing: string[] = [];
  for (const [app, model] of Object.entries(desired?.apps ?? {}).sort(([a], [b]) => compareCodeUnits(a, b))) {
    for (const [key, value] of Object.entries(model.env).sort(([a], [b]) => compareCodeUnits(a, b))) {
      if (!isSecretRef(value)) continue;
      if (values.has(value.secret)) continue;
      try {
        values.set(value.secret, await source.get(value.secret));
      } catch (err) {
        if (!(err instanceof SetopsError)) throw err;
        missing.push(`app/${app} env ${key} needs secret "${value.secret}" (${err.message})`);
      }
    }
  }
  if (missing.length > 0) {
    throw new SetopsError(`stage ${stageKey(ref)}: missing secrets, nothing was changed: ${missing.join('; ')}`, {
      code: 'E_SECRET_MISSING',
      data: { missing: missing.length },
    });
  }
  return {
    get: async (name) => {
      const v = values.get(name);
      if (v !== undefined) return v;
      return source.get(name);
    },
  };
}
