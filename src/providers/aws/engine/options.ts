/** What can be injected into the Pulumi engine (tests, embedding). */
import type { PulumiCommand, PulumiFn } from '@pulumi/pulumi/automation/index.js';
import type { StageModel } from '../../../model/stage-model.js';
import type { ProgramOptions } from '../program/context.js';
import type { TaskRunner } from './ecs-tasks.js';
import type { LogStreamReader } from './task-logs.js';
import type { AwsClientSettings } from './aws-config.js';
import type { HostProbe } from './locks.js';
import type { ParameterChecker } from './ssm-parameters.js';

/**
 * Builds a stage's inline program (the AWS program's `stageProgram`). `opts` carries what the
 * engine decides per update: the previous model, pins and held apps of a pre-deploy phase.
 */
export type StageProgramFactory = (model: StageModel, opts?: ProgramOptions) => PulumiFn;

/** Options of the Pulumi engine; all optional, for tests and embedding. */
export interface PulumiEngineOptions {
  /** The CLI to drive (tests: a fake CLI through `PulumiCommand.get({ root })`). Default: found on PATH. */
  pulumiCommand?: PulumiCommand;
  /** The inline program; default: `stageProgram` from `src/providers/aws/program`. */
  program?: StageProgramFactory;
  /** Host name and pid probe for telling stale file-backend locks. */
  hostProbe?: HostProbe;
  /**
   * Resource plugins installed (`pulumi plugin install`, a no-op when present) before a preview
   * or an update. Default: the `aws` plugin matching the installed `@pulumi/aws` when the
   * default program is used, none with a custom `program`.
   */
  plugins?: { name: string; version: string }[];
  /**
   * Runs the one-off `preDeploy` tasks between the two updates of a rollout with migrations.
   * Default: ECS `RunTask` through `@aws-sdk/client-ecs` in the Organization's region.
   */
  taskRunner?: TaskRunner;
  /**
   * Reads the CloudWatch Logs stream of a one-off task while it runs (`setopsd task run`).
   * Default: `GetLogEvents` through `@aws-sdk/client-cloudwatch-logs` in the Organization's region.
   */
  logReader?: LogStreamReader;
  /** Client settings of the backup clients by service (tests: a fake endpoint); default from the environment (`aws-config.ts`). */
  awsClients?: Partial<Record<'RDS' | 'DOCDB' | 'ELASTICACHE', AwsClientSettings>>;
  /**
   * Checks that the SSM parameters of the stage's `{secret}` values exist before an update.
   * Default: SSM `GetParameters` (names only) through `@aws-sdk/client-ssm`.
   */
  parameterChecker?: ParameterChecker;
}
