import type { Deps } from '../deps.js';
import { UsageError } from '../errors.js';
import { stageKey, type StageModel, type StageRef } from '../model/stage-model.js';
import { engineReadsSecrets, secretsFor } from '../providers/registry.js';
import { verifyNotStale } from '../reconciler/plan-file.js';
import { planStage, type StagePlan } from '../reconciler/stage-plan.js';
import { Journal, type Deployment, type Trigger } from '../state/journal.js';
import { applyStage, type ApplyEvent, type StageJob, type StageOutcome } from './apply-stage.js';
import { planner } from './jobs.js';
import { cachedEngines, type EngineFactory } from './plan-stages.js';

/**
 * What the single-stage operations that deploy a stored model (rollback, redeploy) share: review
 * the plan, get approval the way `apply` does, and run one `applyStage` job.
 */

/** What these operations need from the outside. */
export interface StageOpDeps {
  deps: Deps;
  stateDir: string;
  engineFactory?: EngineFactory;
}

/** How the person running the operation reviews and approves it (as `apply`'s `Approval`). */
export interface StageOpRequest {
  /** `--yes`: no question asked. */
  yes: boolean;
  /** Asked on a terminal with the reviewed plan; without it (and without `yes`) the operation is refused. */
  confirm?: (plan: StagePlan, signal: AbortSignal) => Promise<boolean>;
  allowDataLoss: boolean;
  lockTimeoutMs: number;
  /** `--secrets FILE`, absolute. */
  secretsFile?: string;
  /** The config directory when the journal does not say (deployments older than that field). */
  configRoot?: string;
  onReview?: (plan: StagePlan) => void;
  onEvent?: (event: ApplyEvent) => void;
}

/** The result: the reviewed plan, and the outcome unless the person declined. */
export type StageOpResult = { plan: StagePlan; declined: true } | { plan: StagePlan; declined: false; outcome: StageOutcome };

/** A stored model to deploy, and how the deployment is recorded. */
export interface StoredDeploy {
  model: StageModel;
  source: { commit: string | null; ref: string | null };
  trigger: Trigger;
  note: string;
  job: Pick<StageJob, 'rollbackOf' | 'restart' | 'pin' | 'force'>;
}

/** Plans `what.model` against the stage, asks for approval and applies it as one deployment. */
export async function deployStored(ad: StageOpDeps, ref: StageRef, what: StoredDeploy, request: StageOpRequest, signal: AbortSignal): Promise<StageOpResult> {
  const engineOf = cachedEngines(ad.stateDir, ad.deps, ad.engineFactory);
  const engine = await engineOf(what.model.organization);
  const actual = await engine.read(ref, signal);
  const plan = planStage(what.model, actual, engine.name);
  plan.notes.unshift(what.note);
  request.onReview?.(plan);
  if (!request.yes) {
    if (!request.confirm) throw new UsageError(`${what.trigger} of ${stageKey(ref)} needs --yes when not run in a terminal`);
    if (!(await request.confirm(plan, signal))) return { plan, declined: true };
  }
  const configRoot = request.configRoot ?? (await newestConfigRoot(ad, ref)) ?? ad.deps.cwd;
  const organization = what.model.organization;
  const job: StageJob = {
    ref,
    desired: what.model,
    engine,
    verifyFresh: (now) => verifyNotStale({ ...ref, actualSerial: actual.serial }, now),
    source: what.source,
    trigger: what.trigger,
    configRoot,
    secrets: secretsFor(organization, { ...(request.secretsFile ? { secretsFile: request.secretsFile } : {}), configRoot, env: ad.deps.env }),
    precheckSecrets: !engineReadsSecrets(organization),
    ...what.job,
  };
  const outcome = await applyStage(job, {
    stateDir: ad.stateDir,
    deps: ad.deps,
    signal,
    planner,
    allowDataLoss: request.allowDataLoss,
    lockTimeoutMs: request.lockTimeoutMs,
    command: what.trigger,
    ...(request.onEvent ? { onEvent: request.onEvent } : {}),
  });
  return { plan, declined: false, outcome };
}

/** Where the newest deployment of the stage ran from. */
async function newestConfigRoot(ad: StageOpDeps, ref: StageRef): Promise<string | undefined> {
  const entries = await new Journal(ad.stateDir, ref, () => ad.deps.clock.now()).list();
  for (let i = entries.length - 1; i >= 0; i--) if (entries[i]!.configRoot) return entries[i]!.configRoot;
  return undefined;
}

/** The newest deployment that applied a model and succeeded (the one the stage runs), or null. */
export function currentDeployment(entries: readonly Deployment[]): Deployment | null {
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    if (e.status === 'succeeded') return e.kind === 'apply' ? e : null;
  }
  return null;
}

/** Deployment `number` of the journal, or a UsageError listing what exists. */
export async function deploymentNumber(journal: Journal, number: number): Promise<Deployment> {
  const latest = await journal.latest();
  if (latest === null) throw new UsageError(`stage ${stageKey(journal.ref)} has no deployments yet`);
  if (number < 1 || number > latest.number) throw new UsageError(`stage ${stageKey(journal.ref)} has no deployment #${number}; it has #1 to #${latest.number} (setopsd history ${stageKey(journal.ref)})`);
  return journal.get(number);
}

/** The stored model of a deployment, or a UsageError saying why it cannot be used. */
export async function storedModel(journal: Journal, entry: Deployment): Promise<StageModel> {
  if (entry.kind !== 'apply') throw new UsageError(`deployment #${entry.number} of ${stageKey(journal.ref)} destroyed the stage; it has no model to deploy`);
  const model = await journal.model(entry);
  if (model === null) throw new UsageError(`deployment #${entry.number} of ${stageKey(journal.ref)} was made before setopsd stored models; its model cannot be deployed again`);
  return model;
}
