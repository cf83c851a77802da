import type { Deps } from '../deps.js';
import { EngineError, throwIfAborted } from '../errors.js';
import type { ErrorCode } from '../error-codes.js';
import type { DesiredState } from '../manifests/api.js';
import type { ActualState } from '../model/actual-state.js';
import { refOf, stageKey, type OrganizationModel, type StageModel } from '../model/stage-model.js';
import type { Engine } from '../providers/engine.js';
import { engineFor as registryEngineFor } from '../providers/registry.js';
import { stageCost } from '../providers/aws/cost/estimate.js';
import { evaluatePolicies } from '../reconciler/policies.js';
import { planStage, selectStages, type StagePlan } from '../reconciler/stage-plan.js';
import { StateStore } from '../state/store.js';
import { StagePins, describePin } from '../state/pin.js';
import { secretDigests, type SecretLookup } from '../state/secret-digests.js';

/**
 * The IO half of planning: read what each engine recorded and plan every selected stage against
 * it (the pure half is `src/reconciler/stage-plan.ts`).
 */

/** Provider of engines; `registry.engineFor` unless a test injects its own. */
export type EngineFactory = (organization: StageModel['organization'], ctx: { stateDir: string; deps: Deps }) => Promise<Engine>;

/** Engine factory (registry by default) that hands out one engine per organization and provider. */
export function cachedEngines(
  stateDir: string,
  deps: Deps,
  factory: EngineFactory = registryEngineFor,
): (organization: OrganizationModel) => Promise<Engine> {
  const engines = new Map<string, Promise<Engine>>();
  return (organization) => {
    const id = `${organization.name}\u0000${organization.provider}`;
    let engine = engines.get(id);
    if (!engine) {
      engine = factory(organization, { stateDir, deps });
      engines.set(id, engine);
    }
    return engine;
  };
}

/** Options of `planStages`. */
export interface PlanStagesOptions {
  desired: DesiredState;
  stateDir: string;
  deps: Deps;
  signal: AbortSignal;
  /** `--stage` selectors (`org/project/stage`, `project/stage` or `stage`); empty: every stage. */
  stages?: readonly string[];
  /** Run the engine's resource preview when a stage has changes (default true). */
  preview?: boolean;
  /**
   * Re-read the real world first (`plan --refresh`): engines with `refresh` (Pulumi) report drift,
   * shown as notes; engines without it are planned against their records, with a note saying so.
   */
  refresh?: boolean;
  engineFor?: EngineFactory;
  /** How many commits the planned source is ahead of `commit` (null: cannot tell); for the note on pinned stages. */
  commitsAhead?: (commit: string) => Promise<number | null>;
  /**
   * Where `{secret}` values come from (`plan --secrets FILE`, apply): with it, a secret whose value
   * changed since the last apply shows as a change. Without it secrets are compared by name only.
   */
  secretsFor?: (organization: OrganizationModel) => SecretLookup;
}

/**
 * Plans every selected stage: the stages of the desired state against their engine's recorded
 * state, plus stages recorded in the state directory but gone from the manifests (stage delete).
 * Sorted by stage key.
 */
export async function planStages(opts: PlanStagesOptions): Promise<StagePlan[]> {
  const { desired, stateDir, deps, signal } = opts;
  const engineOf = cachedEngines(stateDir, deps, opts.engineFor);

  const desiredByKey = new Map(desired.stages.map((s) => [stageKey(refOf(s)), s] as const));
  const store = new StateStore(stateDir);
  const pins = new StagePins(stateDir);
  // Stages recorded in the state directory: those gone from the manifests become stage deletes;
  // for the others, a recorded provider different from the desired one means the stage moves
  // between engines, so its actual state is read from the engine that holds it (stage replace).
  const recorded = new Map<string, StageModel>();
  for (const ref of await store.list()) {
    throwIfAborted(signal);
    const state = await store.read(ref);
    if (state.model !== null) recorded.set(stageKey(ref), state.model);
  }
  const keys = new Set([...desiredByKey.keys(), ...recorded.keys()]);
  const selected = selectStages([...keys].sort(), opts.stages ?? []);

  const plans: StagePlan[] = [];
  for (const key of selected) {
    throwIfAborted(signal);
    const want = desiredByKey.get(key) ?? null;
    const before = recorded.get(key);
    const model = before !== undefined && (want === null || before.organization.provider !== want.organization.provider) ? before : want!;
    const engine = await engineOf(model.organization);
    const actual = opts.refresh && engine.refresh ? await engine.refresh(refOf(model), signal) : await engine.read(refOf(model), signal);
    const digests = want !== null && opts.secretsFor && actual.secretDigests ? await secretDigests(stateDir, want, opts.secretsFor(want.organization)) : {};
    const stagePlan = planStage(want, actual, engine.name, desired.origins[key] ?? {}, digests);
    if (want !== null) stagePlan.violations = evaluatePolicies(desired.policies ?? [], want);
    const cost = stageCost(actual.model, want);
    if (cost !== null) stagePlan.cost = cost;
    if (opts.refresh) stagePlan.notes.push(...refreshNotes(engine, actual));
    const pin = await pins.read(refOf(model));
    if (pin !== null) {
      const ahead = pin.commit !== null && opts.commitsAhead ? await opts.commitsAhead(pin.commit) : null;
      stagePlan.notes.unshift(`${describePin(pin, ahead)}; the changes below are what unpin would apply`);
    }
    if (opts.preview !== false && want !== null && engine.preview && stagePlan.changeset.changes.length > 0) {
      try {
        stagePlan.resources = (await engine.preview(want, actual, signal)).changes;
      } catch (err) {
        if (!(err instanceof EngineError && PREVIEW_SKIPPABLE.has(err.code))) throw err;
        stagePlan.notes.push(`resource preview skipped: ${err.message}`);
      }
    }
    plans.push(stagePlan);
  }
  return plans;
}

/** Preview failures that leave the stage's own plan meaningful: shown as a note instead of failing. */
const PREVIEW_SKIPPABLE = new Set<ErrorCode>(['E_PULUMI_CLI_MISSING', 'E_PULUMI_PASSPHRASE_MISSING']);

/** Notes for `plan --refresh`: the drift an engine found, or that it cannot look. */
export function refreshNotes(engine: Pick<Engine, 'name' | 'refresh'>, actual: ActualState): string[] {
  if (!engine.refresh) return [`refresh: the ${engine.name} engine has no refresh; planned against its recorded state`];
  const drift = actual.drift ?? [];
  if (drift.length === 0) return ['refresh: no drift found'];
  return drift.map((c) => `drift: ${c.op} ${c.subject}${c.path ? ` ${c.path}` : ''}${c.reason ? ` (${c.reason})` : ''}`);
}
