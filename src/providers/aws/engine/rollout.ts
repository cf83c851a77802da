/**
 * What the engine reads from a stage's stack outputs to judge a rollout (pure): which apps the
 * ECS circuit breaker rolled back (an update Pulumi reports as a success is then a failed
 * deployment), which apps run a pre-deploy task and how to run it.
 */
import { EngineError } from '../../../errors.js';
import type { ActualState } from '../../../model/actual-state.js';
import { canonicalJson } from '../../../model/canonical.js';
import { stageKey, type StageModel, type StageRef } from '../../../model/stage-model.js';
import { recordedModel } from '../program/recorded-model.js';

/** The per-app fields of the stack output `apps` the engine reads (see `StageProgramOutputs`). */
export interface AppOutput {
  service?: string;
  taskDefinitionArn?: string;
  deployedTaskDefinitionArn?: string;
  rolledBack?: boolean;
  logGroup?: string;
  url?: string;
  scale?: number;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The `apps` output by app name (empty when absent or malformed). */
export function appOutputs(outputs: Record<string, unknown> | null | undefined): Record<string, AppOutput> {
  const apps = outputs?.apps;
  if (!isRecord(apps)) return {};
  const out: Record<string, AppOutput> = {};
  for (const name of Object.keys(apps).sort()) {
    const a = apps[name];
    if (isRecord(a)) out[name] = a as AppOutput;
  }
  return out;
}

/** Apps whose deployment the ECS circuit breaker rolled back (output `apps.<app>.rolledBack`), sorted. */
export function rolledBackApps(outputs: Record<string, unknown> | null | undefined): string[] {
  const apps = appOutputs(outputs);
  return Object.keys(apps).filter((name) => apps[name]!.rolledBack === true);
}

/**
 * The failed-deployment error for apps the circuit breaker rolled back: Pulumi reports such an
 * update as a success, the service runs the previous task definition.
 */
export function rollbackError(ref: StageRef, apps: readonly string[], outputs: Record<string, unknown> | null | undefined): EngineError {
  const all = appOutputs(outputs);
  const subject = `${apps.map((a) => `app/${a}`).join(', ')} in ${stageKey(ref)}`;
  const plural = apps.length > 1;
  const logs = apps.map((a) => `setopsd logs --stage ${stageKey(ref)} --app ${a}`).join(' and ');
  return new EngineError(
    `${subject}: the new version${plural ? 's' : ''} failed ${plural ? 'their' : 'its'} health checks and ECS rolled back to the previous task definition; ` +
      `see ${logs} for why the new tasks stopped, fix it and apply again (the change stays in the plan until it rolls out)`,
    {
      code: 'E_AWS_ROLLED_BACK',
      data: {
        apps: apps.map((a) => ({
          app: a,
          ...(all[a]?.taskDefinitionArn ? { requested: all[a]!.taskDefinitionArn } : {}),
          ...(all[a]?.deployedTaskDefinitionArn ? { running: all[a]!.deployedTaskDefinitionArn } : {}),
        })),
      },
    },
  );
}

/** The models of an apply: what it asked for and what ran before. */
export interface RolloutModels {
  desired: StageModel;
  previous: StageModel | null;
}

/**
 * The outcome of an update Pulumi reported as a success in which the ECS circuit breaker rolled
 * apps back: the failed-deployment error, and the state to index, which never records the
 * desired model as applied (the AWS program records the same in the stack). Null when no app
 * was rolled back.
 */
export function rolledBackOutcome(
  ref: StageRef,
  rollout: RolloutModels,
  actual: ActualState,
  outputs: Record<string, unknown> | null,
): { error: EngineError; indexed: ActualState } | null {
  const rolled = rolledBackApps(outputs);
  if (rolled.length === 0) return null;
  const error = rollbackError(ref, rolled, outputs);
  const held = recordedModel(rollout.desired, rollout.previous, rolled);
  const indexed = canonicalJson(actual.model) === canonicalJson(rollout.desired) ? { ...actual, model: held } : actual;
  return { error, indexed };
}

/**
 * Apps of `desired` with a `preDeploy` command that are new or changed against `previous` (a
 * change of `scale` alone is no new version): an apply with any of them runs in two phases
 * (pinned update, pre-deploy tasks, update).
 */
export function preDeployApps(desired: StageModel, previous: StageModel | null): string[] {
  return Object.keys(desired.apps)
    .sort()
    .filter((name) => {
      const app = desired.apps[name]!;
      if (!app.preDeploy) return false;
      const before = previous?.apps[name];
      return !before || canonicalJson({ ...before, scale: 0 }) !== canonicalJson({ ...app, scale: 0 });
    });
}

/**
 * The pins of the first phase: every app of `desired` that already runs (output
 * `apps.<app>.deployedTaskDefinitionArn` of the previous update) stays on that task definition
 * until the pre-deploy tasks succeeded, so a failed migration leaves the old version serving.
 */
export function pinsFor(desired: StageModel, previousOutputs: Record<string, unknown> | null | undefined): Record<string, string> {
  const apps = appOutputs(previousOutputs);
  const pins: Record<string, string> = {};
  for (const name of Object.keys(desired.apps).sort()) {
    const arn = apps[name]?.deployedTaskDefinitionArn;
    if (typeof arn === 'string' && arn !== '') pins[name] = arn;
  }
  return pins;
}

/**
 * The apps held at 0 tasks in the first phase: new apps (absent from the previous model), which
 * must not start before the pre-deploy tasks ran. An app that ran before but has no recorded
 * task definition to pin (a stack from an older program) is not held: holding it would stop it.
 */
export function heldFor(desired: StageModel, previous: StageModel | null, pins: Readonly<Record<string, string>>): string[] {
  return Object.keys(desired.apps)
    .sort()
    .filter((name) => !(name in pins) && !previous?.apps[name]);
}
