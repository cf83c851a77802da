import type { EngineContext } from '../../engine.js';
import type { PulumiEngineOptions } from './options.js';
import type { PreDeployTasks } from './predeploy.js';
import type { SecretsCheck } from './secrets-check.js';
import type { StackAccess } from './stack-access.js';


/** Starts a new deployment of one ECS service (`setopsd redeploy`); throws an EngineError when ECS refuses. */
export type ServiceRestarter = (input: { cluster: string; service: string; subject: string }, signal: AbortSignal) => Promise<void>;

/** What the parts of the Pulumi engine share; made once per engine by `createPulumiEngine`. */
export interface EngineParts {
  ctx: EngineContext;
  opts: PulumiEngineOptions;
  stacks: StackAccess;
  /** Checks the stage's SSM parameters before an update. */
  secrets: SecretsCheck;
  /** Runs the pre-deploy tasks of a two-phase rollout. */
  preDeploy: PreDeployTasks;
  /** Forced new ECS deployments for `setopsd redeploy` (made on first use; tests inject one). */
  restarter?: ServiceRestarter;
}
