import { isSecretRef, type StageModel } from '../../../model/stage-model.js';
import { stageNames, type StageNames } from './names.js';

/** One `{secret: NAME}` env value of an app and the SSM parameter ECS reads it from. */
export interface SecretParameter {
  app: string;
  /** The env var the app receives. */
  key: string;
  /** The secret's name in the manifest. */
  secret: string;
  /** SSM Parameter Store name: `/setops/<org>/<project>/<stage>/<NAME>` (see `StageNames.secretParameter`). */
  parameter: string;
}

/**
 * Every `{secret}` env value of the stage with its SSM parameter name, sorted by parameter, app,
 * key. Computed from the model alone (pure), so the engine can check the parameters exist before
 * an update and the program exports the same names (`secretParameters`).
 */
export function secretParameters(model: StageModel, names: Pick<StageNames, 'secretParameter'> = stageNames(model)): SecretParameter[] {
  const out: SecretParameter[] = [];
  for (const app of Object.keys(model.apps).sort()) {
    const env = model.apps[app]!.env;
    for (const key of Object.keys(env).sort()) {
      const value = env[key];
      if (isSecretRef(value)) out.push({ app, key, secret: value.secret, parameter: names.secretParameter(value.secret) });
    }
  }
  return out.sort((a, b) => (a.parameter < b.parameter ? -1 : a.parameter > b.parameter ? 1 : 0));
}

/** The distinct parameter names of `secretParameters`, sorted. */
export function secretParameterNamesOf(params: readonly SecretParameter[]): string[] {
  return [...new Set(params.map((p) => p.parameter))].sort();
}
