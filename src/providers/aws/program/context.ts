import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { StageModel } from '../../../model/stage-model.js';
import type { StageNames } from './names.js';

/** Options of the inline program that do not come from the manifests (the engine may set them). */
export interface ProgramOptions {
  /**
   * Root of the SSM Parameter Store names `{secret: NAME}` values are read from; default
   * `/setops`, giving `/setops/<org>/<project>/<stage>/<NAME>`.
   */
  parameterPrefix?: string;
  /** CloudWatch log retention in days; default 30 on protected stages, 14 otherwise. */
  logRetentionDays?: number;
  /**
   * Route 53 hosted zone ids by domain suffix (`shop.example.com` → `Z123…`), for zones the
   * default lookup by registered domain (see `domains.ts`) does not find, e.g. delegated sub-zones.
   */
  hostedZoneIds?: Record<string, string>;
  /**
   * App → task definition ARN its ECS service keeps running (the new task definitions are still
   * registered). For migrations before a rollout: an update with the currently deployed ARNs
   * (output `apps.<app>.deployedTaskDefinitionArn`) registers the new revisions without moving
   * traffic; the engine runs `preDeployTaskDefinitions.<app>`; a second update without the pin
   * rolls the services forward. A failed migration leaves the old revision serving.
   */
  pinnedTaskDefinitions?: Record<string, string>;
  /**
   * Apps whose ECS service runs no task yet (desired count 0, no wait for a steady state): in the
   * first update of a rollout with migrations, apps with no running revision to pin (new apps)
   * must not start before the pre-deploy tasks ran; the second update gives them their scale.
   */
  heldApps?: string[];
  /**
   * The StageModel recorded before this update. Apps that end the update on their previous
   * version (pinned above, or rolled back by the ECS circuit breaker) are recorded in
   * `setopsdStageModel` with their previous entry from it (absent when it has none), so the
   * next plan shows their change again. Without it such apps are left out of the recorded model.
   */
  previousModel?: StageModel;
  /**
   * The time of this run (ms since the epoch, from the engine's clock): names the final snapshots
   * of databases created by it (`services/common.ts`). Default 0 (tests pass a fixed time).
   */
  now?: number;
  /**
   * Final snapshot identifiers the stack records, by logical name (from the checkpoint): a
   * database keeps the name it got when it was created (or first got one), so later runs with
   * another `now` change nothing.
   */
  recordedFinalSnapshots?: Record<string, string>;
}

/** What every part of the program shares: the model, names, provider and account. */
export interface ProgramContext {
  model: StageModel;
  names: StageNames;
  region: string;
  /** The AWS account id: from the Organization, else the caller identity. */
  accountId: pulumi.Output<string>;
  /** Protected stages get deletion protection, final snapshots, HA NAT and longer log retention. */
  protectedStage: boolean;
  logRetentionDays: number;
  hostedZoneIds: Record<string, string>;
  /** See `ProgramOptions.pinnedTaskDefinitions`. */
  pinnedTaskDefinitions: Record<string, string>;
  /** See `ProgramOptions.heldApps`. */
  heldApps: ReadonlySet<string>;
  /** `yyyymmddhhmmss` (UTC) of `ProgramOptions.now`: the time part of final snapshot names. */
  runStamp: string;
  /** See `ProgramOptions.recordedFinalSnapshots`. */
  recordedFinalSnapshots: Record<string, string>;
  /** The explicit AWS provider (region, allowed account, default tags). */
  provider: aws.Provider;
  /** Resource options with the stage's provider (plus `extra`). */
  res(extra?: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions;
  /** Invoke options with the stage's provider. */
  invoke: pulumi.InvokeOutputOptions;
}

/** Tags put on every resource through the provider's default tags (keys sorted). */
export function stageTags(names: StageNames): Record<string, string> {
  return {
    'setops:managed-by': 'setopsd',
    'setops:organization': names.org,
    'setops:project': names.project,
    'setops:stage': names.stage,
  };
}

/** Creates the provider and the context for one stage. */
export function createContext(model: StageModel, names: StageNames, opts: ProgramOptions): ProgramContext {
  const awsSettings = model.organization.aws;
  const region = awsSettings?.region ?? 'us-east-1';
  const provider = new aws.Provider('aws', {
    region: region as aws.Region,
    // Refuse to touch any other account than the Organization's.
    ...(awsSettings?.accountId ? { allowedAccountIds: [awsSettings.accountId] } : {}),
    defaultTags: { tags: stageTags(names) },
  });
  const invoke: pulumi.InvokeOutputOptions = { provider };
  const accountId = awsSettings?.accountId
    ? pulumi.output(awsSettings.accountId)
    : aws.getCallerIdentityOutput({}, invoke).accountId;
  return {
    model,
    names,
    region,
    accountId,
    protectedStage: model.stage.protected,
    logRetentionDays: opts.logRetentionDays ?? (model.stage.protected ? 30 : 14),
    hostedZoneIds: opts.hostedZoneIds ?? {},
    pinnedTaskDefinitions: opts.pinnedTaskDefinitions ?? {},
    heldApps: new Set(opts.heldApps ?? []),
    runStamp: new Date(opts.now ?? 0).toISOString().replace(/[^0-9]/g, '').slice(0, 14),
    recordedFinalSnapshots: opts.recordedFinalSnapshots ?? {},
    provider,
    res: (extra = {}) => ({ ...extra, provider }),
    invoke,
  };
}
