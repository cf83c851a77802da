/**
 * The check that a stage's SSM parameters (its `{secret}` env values) exist before an update:
 * ECS reads them only when a task starts, so a missing one would surface as tasks that never
 * start and a rolled-back deployment. Names only: values are never fetched.
 */
import { GetParametersCommand, SSMClient, type SSMClientConfig } from '@aws-sdk/client-ssm';
import { CanceledError, EngineError } from '../../../errors.js';
import { awsCallCode } from '../../../error-codes.js';

/** Tells which SSM parameters do not exist. Throws an EngineError when SSM cannot be asked. */
export interface ParameterChecker {
  /** The names among `names` that do not exist (sorted); `subject` starts error messages. */
  missing(names: readonly string[], subject: string, signal: AbortSignal): Promise<string[]>;
}

/** GetParameters takes at most 10 names per call. */
export const GET_PARAMETERS_BATCH = 10;

/**
 * The real checker: `GetParameters` with `WithDecryption: false` in batches of 10; a name in
 * `InvalidParameters` does not exist. The (encrypted) values in the answer are dropped unread.
 */
export function createSsmParameterChecker(opts: { client?: SSMClientConfig } = {}): ParameterChecker {
  let client: SSMClient | undefined;
  const ssm = (): SSMClient => (client ??= new SSMClient({ ...opts.client }));
  return {
    async missing(names, subject, signal) {
      const all = [...new Set(names)].sort();
      const missing: string[] = [];
      for (let i = 0; i < all.length; i += GET_PARAMETERS_BATCH) {
        const batch = all.slice(i, i + GET_PARAMETERS_BATCH);
        try {
          const res = await ssm().send(new GetParametersCommand({ Names: batch, WithDecryption: false }), { abortSignal: signal });
          missing.push(...(res.InvalidParameters ?? []));
        } catch (err) {
          if (signal.aborted) throw new CanceledError(`${subject}: canceled while checking SSM parameters`, { cause: err });
          const e = err as Error & { $metadata?: { httpStatusCode?: number } };
          throw new EngineError(
            `${subject}: cannot check that the stage's SSM parameters exist: ${e.name}: ${e.message}; check the AWS credentials and the permission ssm:GetParameters on them, and apply again`,
            { code: awsCallCode(e, 'E_AWS_SSM'), cause: err, data: { error: e.name, ...(e.$metadata?.httpStatusCode ? { status: e.$metadata.httpStatusCode } : {}) } },
          );
        }
      }
      return [...new Set(missing)].sort();
    },
  };
}
