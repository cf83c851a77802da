import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Deps } from '../deps.js';
import type { ErrorCode } from '../error-codes.js';
import { CanceledError, EngineError, PlanError, SetopsError } from '../errors.js';
import { hashOf } from '../model/canonical.js';
import { stageKey, type StageModel, type StageRef } from '../model/stage-model.js';
import type { ActualState } from '../model/actual-state.js';
import type { ApplyIO, ApplyResult, Engine, ProgressEvent, SecretResolver } from '../providers/engine.js';
import { Journal, type Deployment, type Trigger } from '../state/journal.js';
import { acquireStageLock, type LockInfo } from '../state/lock.js';
import { StatusRecords, type StageStatusRecord, type StatusUpdate } from '../state/status-record.js';
import { StagePins, describePin, type StagePin } from '../state/pin.js';
import type { Changeset } from '../model/changeset.js';
import { summarize } from '../reconciler/summary.js';
import { withRepairs } from '../reconciler/repairs.js';
import { withKeptSnapshots } from '../reconciler/final-snapshots.js';
import { secretValueChanges } from '../reconciler/diff-secrets.js';
import { secretDigests } from '../state/secret-digests.js';
import { fileSystemError } from '../state/fs-errors.js';
import { resolveSecrets } from './secrets.js';
import type { Notifier } from '../providers/notify/notifier.js';
import { notifyDeployment, notifyIfStalled } from './stage-notices.js';

/** The pure planning functions apply needs (the real ones live in `plan.ts` / `safety.ts`). */
export interface Planner {
  plan(desired: StageModel | null, actual: StageModel | null): Changeset;
  /** Problems that refuse the apply (data loss without permission, protected stage); empty: safe. */
  checkSafety(changeset: Changeset, desired: StageModel | null, actual: StageModel | null, opts: { allowDataLoss: boolean }): string[];
}

/** One stage to apply. */
export interface StageJob {
  ref: StageRef;
  /** The desired model; null removes the stage (it was deleted from the manifests). */
  desired: StageModel | null;
  engine: Engine;
  /**
   * Checks, under the lock, that the actual state is still the one the changeset was reviewed
   * against (saved plan file or the confirmation prompt); throws StalePlanError otherwise.
   */
  verifyFresh?: (actual: ActualState) => void;
  source: { commit: string | null; ref: string | null };
  trigger: Trigger;
  /** Absolute path of the config repository's working tree. */
  configRoot: string;
  secrets: SecretResolver;
  /**
   * Resolve every `{secret}` before anything changes (default true). False where the engine reads
   * secrets itself at deploy time (AWS: SSM / Secrets Manager references).
   */
  precheckSecrets?: boolean;
  /**
   * Run a deployment even when the changeset is empty (a repair after drift, a redeploy): the
   * engine converges what runs to the model it already records.
   */
  force?: boolean;
  /** For a rollback: the deployment whose stored model `desired` is (recorded as `rollbackOf`). */
  rollbackOf?: number;
  /** Apps to restart even where nothing changed (`setopsd redeploy`); implies `force`. */
  restart?: readonly string[];
  /**
   * What a pin of the stage means for this job: `respect` (default: a pinned stage is planned, not
   * applied — the branch waits for `setopsd unpin`), `ignore` (a redeploy of what runs), or `set`
   * (a rollback: pin the stage at this deployment once it succeeded, under the same lock).
   */
  pin?: 'respect' | 'ignore' | 'set';
}

/** What happens while stages apply, for the CLI (text) and later the daemon (logs, metrics). */
export type ApplyEvent =
  | { type: 'lock-taken-over'; ref: StageRef; holder: LockInfo | null }
  | { type: 'interrupted'; ref: StageRef; deployment: Deployment }
  | { type: 'unchanged'; ref: StageRef }
  | { type: 'started'; ref: StageRef; deployment: Deployment }
  | { type: 'progress'; ref: StageRef; event: ProgressEvent }
  | { type: 'finished'; ref: StageRef; deployment: Deployment; durationMs: number }
  | { type: 'refused'; ref: StageRef; error: SetopsError }
  | { type: 'skipped'; ref: StageRef; reason: string };

/** Outcome of one stage. */
export type StageOutcome =
  | { ref: StageRef; status: 'unchanged' }
  | { ref: StageRef; status: 'succeeded'; deployment: Deployment }
  /** `deployment` is absent when the stage was refused before anything changed (stale plan, unsafe, missing secret, locked). */
  | { ref: StageRef; status: 'failed'; error: SetopsError; deployment?: Deployment }
  /** `pinned`: the stage is pinned (`setopsd rollback`/`pin`), so the branch was planned, not applied — as asked. */
  | { ref: StageRef; status: 'skipped'; reason: string; pinned?: true };

/** Settings shared by every stage of one apply run. */
export interface ApplyContext {
  stateDir: string;
  deps: Deps;
  signal: AbortSignal;
  planner: Planner;
  allowDataLoss: boolean;
  /** Refresh before applying (`apply --refresh`, see `ApplyIO.refresh`). */
  refresh?: boolean;
  /** How long to wait for another holder of a stage lock; 0 fails at once. */
  lockTimeoutMs: number;
  /** Recorded in the lock file: `apply`, `destroy`, `daemon`. */
  command: string;
  onEvent?: (event: ApplyEvent) => void;
  /** Failures on the same desired state after which the status record says `stalled` (the daemon: 3); unset: never. */
  stallAfter?: number;
  /** Delivers deployment (and stalled) notices to the stage's `notifications`; unset: none are sent. */
  notifier?: Notifier;
}

/**
 * Applies one stage: lock → close interrupted entries → read actual → stale check → plan →
 * (no changes: done, no journal entry) → safety check → resolve every secret → journal `pending`
 * → `running` → engine → journal outcome → unlock (always). Never throws for a stage-level
 * failure: the outcome carries the error. A refusal before the journal entry (stale plan, unsafe
 * plan, missing secret, locked stage) writes no entry because nothing was attempted.
 */
export async function applyStage(job: StageJob, ctx: ApplyContext): Promise<StageOutcome> {
  const { ref } = job;
  const emit = (event: ApplyEvent) => ctx.onEvent?.(event);
  if (ctx.signal.aborted) return { ref, status: 'skipped', reason: 'canceled' };
  let lock;
  try {
    lock = await acquireStageLock(ctx.stateDir, ref, ctx.deps, { command: ctx.command, timeoutMs: ctx.lockTimeoutMs, signal: ctx.signal });
  } catch (err) {
    const error = asSetopsError(err, ref, ctx.signal);
    emit({ type: 'refused', ref, error });
    return { ref, status: 'failed', error };
  }
  if (lock.tookOver !== undefined) emit({ type: 'lock-taken-over', ref, holder: lock.tookOver });
  try {
    const journal = new Journal(ctx.stateDir, ref, () => ctx.deps.clock.now());
    for (const closed of await journal.closeInterrupted()) emit({ type: 'interrupted', ref, deployment: closed });
    const pin = await new StagePins(ctx.stateDir).read(ref);
    if (pin !== null && (job.pin ?? 'respect') === 'respect') {
      const reason = describePin(pin, null);
      await recordStatus(ctx, ref, { type: 'pinned', message: reason });
      emit({ type: 'skipped', ref, reason });
      return { ref, status: 'skipped', reason, pinned: true };
    }

    let changeset: Changeset;
    let resolver: SecretResolver;
    try {
      const actual = await job.engine.read(ref, ctx.signal);
      job.verifyFresh?.(actual);
      changeset = withKeptSnapshots(withRepairs(ctx.planner.plan(job.desired, actual.model), job.desired, actual), actual);
      if (job.desired !== null && job.precheckSecrets !== false && actual.secretDigests !== undefined) {
        // A rotated secret value is a change although its reference is not.
        const rotated = secretValueChanges(job.desired, actual, await secretDigests(ctx.stateDir, job.desired, job.secrets));
        if (rotated.length > 0) changeset = { ...changeset, changes: [...changeset.changes, ...rotated] };
      }
      const forced = (job.force === true || (job.restart?.length ?? 0) > 0) && job.desired !== null;
      if (changeset.changes.length === 0 && !forced) {
        await recordStatus(ctx, ref, { type: 'ready', revision: job.source.commit, desiredHash: hashOrNull(job.desired), message: 'in sync' });
        emit({ type: 'unchanged', ref });
        return { ref, status: 'unchanged' };
      }
      const problems = ctx.planner.checkSafety(changeset, job.desired, actual.model, { allowDataLoss: ctx.allowDataLoss });
      if (problems.length > 0) {
        throw new PlanError(`stage ${stageKey(ref)}: refused: ${problems.join('; ')}`, { code: 'E_UNSAFE_PLAN', data: { problems } });
      }
      resolver = job.precheckSecrets === false ? job.secrets : await resolveSecrets(ref, job.desired, job.secrets);
    } catch (err) {
      const error = asSetopsError(err, ref, ctx.signal);
      if (!NOT_THE_STAGES_FAULT.has(error.code)) {
        const record = await recordStatus(ctx, ref, { type: 'failed', revision: job.source.commit, desiredHash: hashOrNull(job.desired), code: error.code, message: error.message, stallAfter: ctx.stallAfter });
        notifyIfStalled(ctx.notifier, { ref, model: job.desired, record, secrets: job.secrets, now: ctx.deps.clock.now(), ...(ctx.stallAfter !== undefined ? { stallAfter: ctx.stallAfter } : {}) });
      }
      emit({ type: 'refused', ref, error });
      return { ref, status: 'failed', error };
    }

    const outcome = await runDeployment(job, ctx, journal, changeset, resolver);
    await keepPin(job, ctx, outcome, pin);
    return outcome;
  } finally {
    await lock.release();
  }
}

/** Journal entry and engine call of one stage; the lock is held by the caller. */
async function runDeployment(
  job: StageJob,
  ctx: ApplyContext,
  journal: Journal,
  changeset: Changeset,
  secrets: SecretResolver,
): Promise<StageOutcome> {
  const { ref } = job;
  const emit = (event: ApplyEvent) => ctx.onEvent?.(event);
  const started = ctx.deps.clock.now();
  // The exact model this deployment applies, stored before anything changes (rollback, `show`).
  if (job.desired !== null) await journal.storeModel(job.desired);
  let entry = await journal.open({
    kind: job.desired === null ? 'destroy' : 'apply',
    commit: job.source.commit,
    ref: job.source.ref,
    trigger: job.trigger,
    ...(job.rollbackOf !== undefined ? { rollbackOf: job.rollbackOf } : {}),
    configRoot: job.configRoot,
    changeset,
    desiredHash: job.desired === null ? null : hashOf(job.desired),
    summary: opCounts(changeset),
  });
  const stamp = () => new Date(ctx.deps.clock.now()).toISOString();
  const done = new Set<string>();
  let log: DeploymentLog | undefined;
  let result: ApplyResult | undefined;
  let failure: SetopsError | undefined;
  // From here on every path ends in journal.finish: the entry never stays open because of us.
  try {
    log = await openLog(entry.log, ctx.deps.log);
    log.write(`${stamp()} deployment #${entry.number} of ${stageKey(ref)} (${entry.kind}, trigger ${entry.trigger}, commit ${entry.commit ?? '-'})\n`);
    for (const c of changeset.changes) log.write(`${stamp()} planned: ${c.op} ${c.subject}${c.path ? ' ' + c.path : ''}\n`);
    entry = await journal.start(entry);
    await recordStatus(ctx, ref, { type: 'reconciling', revision: entry.commit, desiredHash: entry.desiredHash, deployment: entry.number });
    emit({ type: 'started', ref, deployment: entry });
    const io: ApplyIO = {
      signal: ctx.signal,
      log: ctx.deps.log.child({ stage: stageKey(ref), deployment: entry.number }),
      progress: (event) => {
        if (event.status === 'succeeded') done.add(event.subject);
        log?.write(`${stamp()} ${event.subject} ${event.status}${event.message ? ': ' + event.message : ''}\n`);
        emit({ type: 'progress', ref, event });
      },
      allowDataLoss: ctx.allowDataLoss,
      secrets,
      configRoot: job.configRoot,
      deployment: { number: entry.number, commit: entry.commit, trigger: entry.trigger },
      ...(job.restart ? { restart: job.restart } : {}),
      ...(ctx.refresh ? { refresh: true } : {}),
    };
    result = job.desired === null ? await job.engine.destroy(ref, io) : await job.engine.apply(job.desired, changeset, io);
    if (result.status === 'failed') failure = asSetopsError(result.error ?? new EngineError(`stage ${stageKey(ref)}: the engine reported a failure without a reason`, { code: 'E_BUG' }), ref, ctx.signal);
  } catch (err) {
    failure = asSetopsError(err, ref, ctx.signal);
  }
  // An engine that finished everything despite a late abort succeeded: the journal says what happened.

  const applied = appliedSubjects(result, done);
  entry = await journal.finish(entry, {
    status: failure ? 'failed' : 'succeeded',
    applied,
    ...(failure ? { error: { code: failure.code, message: failure.message } } : {}),
    ...(result?.summary ? { summary: result.summary } : {}),
  });
  if (log) {
    log.write(`${stamp()} ${entry.status}${failure ? ': ' + failure.message : ''}\n`);
    await log.close();
  }
  const record = await recordStatus(
    ctx,
    ref,
    failure
      ? { type: 'failed', revision: entry.commit, desiredHash: entry.desiredHash, code: failure.code, message: failure.message, deployment: entry.number, stallAfter: ctx.stallAfter }
      : { type: 'ready', revision: entry.commit, desiredHash: entry.desiredHash, deployment: entry.number, ...(entry.kind === 'destroy' ? { message: `destroyed by deployment #${entry.number}` } : {}) },
  );
  notifyDeployment(ctx.notifier, { ref, model: job.desired, deployment: entry, record, secrets, now: ctx.deps.clock.now(), ...(ctx.stallAfter !== undefined ? { stallAfter: ctx.stallAfter } : {}) });
  emit({ type: 'finished', ref, deployment: entry, durationMs: ctx.deps.clock.now() - started });
  return failure ? { ref, status: 'failed', error: failure, deployment: entry } : { ref, status: 'succeeded', deployment: entry };
}

/**
 * After a deployment: a rollback pins the stage at it; a redeploy of a pinned stage keeps the pin
 * (and the status record says so again, since the deployment wrote `ready`).
 */
async function keepPin(job: StageJob, ctx: ApplyContext, outcome: StageOutcome, pin: StagePin | null): Promise<void> {
  if (outcome.status !== 'succeeded') return;
  const pins = new StagePins(ctx.stateDir);
  let next = pin;
  if (job.pin === 'set') {
    next = {
      formatVersion: 1,
      stage: stageKey(job.ref),
      deployment: outcome.deployment.number,
      desiredHash: outcome.deployment.desiredHash,
      commit: outcome.deployment.commit,
      reason: 'rollback',
      since: new Date(ctx.deps.clock.now()).toISOString(),
    };
    await pins.write(next);
  }
  if (next !== null) await recordStatus(ctx, job.ref, { type: 'pinned', message: describePin(next, null) });
}

/** The journal's counts by operation (the plan summary's data-loss count is not part of them). */
function opCounts(changeset: Changeset): Deployment['summary'] {
  const { dataLoss: _dataLoss, ...counts } = summarize(changeset.changes);
  return counts;
}

function appliedSubjects(result: ApplyResult | undefined, progressDone: Set<string>): string[] {
  const out = new Set<string>(progressDone);
  for (const c of result?.applied ?? []) out.add(c.subject);
  return [...out].sort();
}

export function asSetopsError(err: unknown, ref: StageRef, signal: AbortSignal): SetopsError {
  if (err instanceof SetopsError) {
    if (signal.aborted && !(err instanceof CanceledError) && err.code !== 'E_LOCKED') return new CanceledError(`stage ${stageKey(ref)}: canceled`, { cause: err });
    return err;
  }
  if (signal.aborted) return new CanceledError(`stage ${stageKey(ref)}: canceled`, { cause: err });
  const fsError = fileSystemError(err, `stage ${stageKey(ref)}`);
  if (fsError !== null) return fsError;
  return new EngineError(`stage ${stageKey(ref)}: unexpected error: ${(err as Error)?.message ?? String(err)}`, {
    cause: err,
    code: 'E_BUG',
    data: { bug: true },
  });
}

/** The deployment log: plain lines appended; a write error is logged once, never fatal. */
interface DeploymentLog {
  write(line: string): void;
  close(): Promise<void>;
}

async function openLog(path: string, logger: Deps['log']): Promise<DeploymentLog> {
  await mkdir(dirname(path), { recursive: true });
  const stream: WriteStream = createWriteStream(path, { flags: 'a', mode: 0o644 });
  let broken = false;
  stream.on('error', (err) => {
    if (!broken) logger.warn({ err, file: path }, `deployment log ${path}: ${err.message}`);
    broken = true;
  });
  return {
    write: (line) => {
      if (!broken) stream.write(line);
    },
    close: () => new Promise((resolve) => (broken ? resolve() : stream.end(() => resolve()))),
  };
}

/**
 * Refusals that say nothing about the stage: someone else holds it, the run was canceled, or a
 * reviewed plan is outdated. They leave the status record as it is.
 */
const NOT_THE_STAGES_FAULT = new Set<ErrorCode>(['E_LOCKED', 'E_CANCELED', 'E_STALE_PLAN']);

function hashOrNull(model: StageModel | null): string | null {
  return model === null ? null : hashOf(model);
}

/** Writes the stage's status record; it is derived data, so a failed write is logged, never fatal. */
async function recordStatus(ctx: ApplyContext, ref: StageRef, update: StatusUpdate): Promise<StageStatusRecord | undefined> {
  try {
    return await new StatusRecords(ctx.stateDir, () => ctx.deps.clock.now()).update(ref, update);
  } catch (err) {
    ctx.deps.log.warn({ err, stage: stageKey(ref) }, `stage ${stageKey(ref)}: cannot write the status record: ${(err as Error).message}`);
    return undefined;
  }
}
