import type { Deps } from '../deps.js';
import type { DesiredState } from '../manifests/api.js';
import type { OrganizationModel, StageModel, StageRef } from '../model/stage-model.js';
import { refOf, stageKey } from '../model/stage-model.js';
import { canonicalJson, hashOf } from '../model/canonical.js';
import type { ActualState, Engine } from '../providers/engine.js';
import { engineFor as registryEngineFor } from '../providers/registry.js';
import { StateStore } from '../state/store.js';
import { EngineError, UsageError, throwIfAborted } from '../errors.js';
import type { Change, Changeset } from './changeset.js';
import { plan } from './plan.js';
import { checkPlanSafety, type SafetyProblem } from './safety.js';
import { summarize, type PlanSummary } from './summary.js';

/** The plan of one stage with everything the renderers and the plan file need. */
export interface StagePlan {
  ref: StageRef;
  /** `org/project/stage`. */
  key: string;
  engine: Engine['name'];
  /** Null: the stage was removed from the manifests (stage delete). */
  desired: StageModel | null;
  actual: ActualState;
  /** Hash of the desired model (`hashOf`), null for a stage delete. */
  desiredHash: string | null;
  changeset: Changeset;
  summary: PlanSummary;
  /** Data-loss and protection problems (warnings in `plan`, refusals in `apply`). */
  problems: SafetyProblem[];
  /** Resource-level lines from the engine's preview (Pulumi), after the stage's own changes. */
  resources: Change[];
  /** Notes for the reader, e.g. a preview that could not run. */
  notes: string[];
  /** Manifest files behind each subject (`stage`, `app/NAME`, …), from `DesiredState.origins`. */
  files: Record<string, string[]>;
  /** Set by `setopsd diff`: the "actual" side is the desired state at `base`, not recorded state. */
  compare?: { base: string; head: string };
}

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
}

/**
 * Builds the plan of one stage from values (pure): changeset, summary, safety warnings, origins.
 * Throws PlanError for a plan that cannot be made (major-version downgrade).
 */
export function planStage(
  desired: StageModel | null,
  actual: ActualState,
  engine: Engine['name'],
  origins: Record<string, string[]> = {},
): StagePlan {
  const changeset = plan(desired, actual.model);
  const ref = changeset.ref;
  return {
    ref,
    key: stageKey(ref),
    engine,
    desired,
    actual,
    desiredHash: desired === null ? null : hashOf(desired),
    changeset,
    summary: summarize(changeset.changes),
    problems: checkPlanSafety(changeset, desired, actual.model, { allowDataLoss: false }),
    resources: [],
    notes: renameNotes(changeset, desired, actual.model),
    files: filesOf(changeset, origins),
  };
}

/**
 * Notes for deletes that look like renames (an app or service deleted and one with identical
 * settings created): SetOps cannot rename, so the reader should know what that means.
 */
export function renameNotes(changeset: Changeset, desired: StageModel | null, actual: StageModel | null): string[] {
  if (desired === null || actual === null) return [];
  const notes: string[] = [];
  const names = (kind: string, op: string) =>
    changeset.changes.filter((c) => c.op === op && c.path === undefined && c.subject.startsWith(`${kind}/`)).map((c) => c.subject.slice(kind.length + 1));
  for (const kind of ['app', 'service'] as const) {
    const created = names(kind, 'create');
    for (const old of names(kind, 'delete')) {
      const before = kind === 'app' ? actual.apps[old] : actual.services[old];
      const twin = created.find((n) => canonicalJson(kind === 'app' ? desired.apps[n] : desired.services[n]) === canonicalJson(before));
      if (twin === undefined) continue;
      notes.push(
        kind === 'app'
          ? `app/${twin} looks like a rename of app/${old}: apps cannot be renamed in place, so ${twin} is created and ${old} deleted`
          : `service/${twin} looks like a rename of service/${old}: services cannot be renamed; ${twin} is created empty and the data of ${old} is deleted, not moved`,
      );
    }
  }
  return notes;
}

/** The subject whose manifest declares `subject`: links and domains belong to their app (`link/web/db` → `app/web`). */
export function ownerSubject(subject: string): string {
  const [kind, name] = subject.split('/');
  return kind === 'link' || kind === 'domain' ? `app/${name}` : subject;
}

/** The files behind each changed subject; links, domains and env belong to their app. */
function filesOf(changeset: Changeset, origins: Record<string, string[]>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const c of changeset.changes) {
    const files = origins[ownerSubject(c.subject)] ?? origins[c.subject];
    if (files && files.length > 0) out[c.subject] = [...files].sort();
  }
  return out;
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
    const stagePlan = planStage(want, actual, engine.name, desired.origins[key] ?? {});
    if (opts.refresh) stagePlan.notes.push(...refreshNotes(engine, actual));
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

/**
 * The stage keys matching `--stage` selectors. A selector is `org/project/stage`, `project/stage`
 * or `stage`; it must match exactly one stage (UsageError otherwise, listing the known stages).
 */
export function selectStages(keys: readonly string[], selectors: readonly string[]): string[] {
  if (selectors.length === 0) return [...keys];
  const chosen = new Set<string>();
  for (const selector of selectors) {
    const parts = selector.split('/');
    const matches = keys.filter((key) => {
      const k = key.split('/');
      return parts.length <= 3 && parts.every((p, i) => p === k[k.length - parts.length + i]);
    });
    if (matches.length === 0) {
      throw new UsageError(`--stage ${selector}: no such stage; known stages: ${keys.join(', ') || '(none)'}`);
    }
    if (matches.length > 1) {
      throw new UsageError(`--stage ${selector} is ambiguous: it matches ${matches.join(', ')}; use ORG/PROJECT/STAGE`);
    }
    chosen.add(matches[0]!);
  }
  return keys.filter((k) => chosen.has(k));
}

/** Preview failures that leave the stage's own plan meaningful: shown as a note instead of failing. */
const PREVIEW_SKIPPABLE = new Set(['E_PULUMI_CLI_MISSING', 'E_PULUMI_PASSPHRASE_MISSING']);

/** Notes for `plan --refresh`: the drift an engine found, or that it cannot look. */
export function refreshNotes(engine: Pick<Engine, 'name' | 'refresh'>, actual: ActualState): string[] {
  if (!engine.refresh) return [`refresh: the ${engine.name} engine has no refresh; planned against its recorded state`];
  const drift = actual.drift ?? [];
  if (drift.length === 0) return ['refresh: no drift found'];
  return drift.map((c) => `drift: ${c.op} ${c.subject}${c.path ? ` ${c.path}` : ''}${c.reason ? ` (${c.reason})` : ''}`);
}
