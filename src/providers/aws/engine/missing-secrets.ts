import { EngineError } from '../../../errors.js';
import { stageKey, type StageRef } from '../../../model/stage-model.js';
import type { SecretParameter } from '../program/secret-parameters.js';

/**
 * The error for missing parameters: per env value the app, the env key and the parameter, and
 * per parameter the command that creates it. Nothing changed yet.
 */
export function missingParametersError(ref: StageRef, params: readonly SecretParameter[], missing: readonly string[], region: string | undefined): EngineError {
  const gone = params.filter((p) => missing.includes(p.parameter));
  const apps = [...new Set(gone.map((p) => p.app))];
  const subject = apps.length === 1 ? `app/${apps[0]} in ${stageKey(ref)}` : `stage ${stageKey(ref)}`;
  const uses = gone.map((p) => `${apps.length === 1 ? '' : `app/${p.app} `}env ${p.key} reads ${p.parameter}`);
  const names = [...new Set(gone.map((p) => p.parameter))].sort();
  const commands = names.map((n) => `\`aws ssm put-parameter --type SecureString --name ${n} --value '<value>'${region ? ` --region ${region}` : ''}\``);
  return new EngineError(
    `${subject}: ${names.length === 1 ? 'an SSM parameter does' : `${names.length} SSM parameters do`} not exist (${uses.join('; ')}); ` +
      `nothing was changed. Create ${names.length === 1 ? 'it' : 'them'} with ${commands.join(' and ')}, then apply again`,
    { code: 'E_AWS_SECRET_MISSING', data: { missing: gone.map((p) => ({ app: p.app, key: p.key, parameter: p.parameter })) } },
  );
}
