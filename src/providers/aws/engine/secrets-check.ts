/**
 * Before an update changes anything: the stage's `{secret}` SSM parameters must exist (ECS reads
 * them only when a task starts). The checker is loaded only for stages that have secrets.
 */
import type { SetopsError } from '../../../errors.js';
import { refOf, type StageModel } from '../../../model/stage-model.js';
import { secretParameterNamesOf, secretParameters } from '../program/secret-parameters.js';
import { awsClientSettings } from './aws-config.js';
import { orEngineError } from './errors.js';
import { missingParametersError } from './missing-secrets.js';
import type { ParameterChecker } from './ssm-parameters.js';
import { stageSubject } from './stack-access.js';

/** The secrets check of one engine; it keeps the checker it made. */
export class SecretsCheck {
  constructor(
    private readonly env: Record<string, string | undefined>,
    private readonly region: string | undefined,
    private checker: ParameterChecker | undefined,
  ) {}

  /** The stage's `{secret}` parameters that do not exist, as the error to fail with before anything changes. */
  async missing(desired: StageModel, signal: AbortSignal): Promise<SetopsError | undefined> {
    const ref = refOf(desired);
    const params = secretParameters(desired);
    if (params.length === 0) return undefined;
    const checker = await this.parameterChecker();
    const subject = stageSubject(ref);
    try {
      const missing = await checker.missing(secretParameterNamesOf(params), subject, signal);
      return missing.length > 0 ? missingParametersError(ref, params, missing, this.region) : undefined;
    } catch (err) {
      return orEngineError(err, `${subject}: cannot check the SSM parameters: ${(err as Error).message}; nothing was changed. Check the AWS credentials and region, then apply again`);
    }
  }

  private async parameterChecker(): Promise<ParameterChecker> {
    if (!this.checker) {
      // Loaded only when a stage has secrets.
      const { createSsmParameterChecker } = await import('./ssm-parameters.js');
      this.checker = createSsmParameterChecker({ client: awsClientSettings(this.env, 'SSM', this.region) });
    }
    return this.checker;
  }
}
