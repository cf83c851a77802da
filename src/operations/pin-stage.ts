import type { Deps } from '../deps.js';
import { UsageError } from '../errors.js';
import { hashOf } from '../model/canonical.js';
import { stageKey, type StageRef } from '../model/stage-model.js';
import { Journal } from '../state/journal.js';
import { acquireStageLock } from '../state/lock.js';
import { StagePins, describePin, type StagePin } from '../state/pin.js';
import { StatusRecords } from '../state/status-record.js';
import { StateStore } from '../state/store.js';
import { currentDeployment, deploymentNumber } from './stage-deployment.js';

/**
 * `setopsd pin STAGE [--at N]`: keeps the stage at what it runs (deployment N, default the current
 * one) without rolling back: `apply` and the daemon plan it but do not apply the branch until
 * `setopsd unpin`. N must be the deployment whose model the stage runs; to go back to another
 * one, `setopsd rollback --to N` (which pins too).
 */
export async function pinStage(ad: { deps: Deps; stateDir: string }, ref: StageRef, opts: { at?: number; lockTimeoutMs: number }, signal: AbortSignal): Promise<StagePin> {
  const lock = await acquireStageLock(ad.stateDir, ref, ad.deps, { command: 'pin', timeoutMs: opts.lockTimeoutMs, signal });
  try {
    const journal = new Journal(ad.stateDir, ref, () => ad.deps.clock.now());
    const current = currentDeployment(await journal.list());
    if (current === null) throw new UsageError(`stage ${stageKey(ref)} has no succeeded deployment to pin it at (setopsd history ${stageKey(ref)})`);
    const target = opts.at === undefined ? current : await deploymentNumber(journal, opts.at);
    const running = (await new StateStore(ad.stateDir).read(ref)).model;
    const runsTarget = target.kind === 'apply' && target.status === 'succeeded' && running !== null && hashOf(running) === target.desiredHash;
    if (!runsTarget) {
      throw new UsageError(`stage ${stageKey(ref)} does not run the model of deployment #${target.number}; pin it where it is (setopsd pin ${stageKey(ref)}), or go back with setopsd rollback ${stageKey(ref)} --to ${target.number}`);
    }
    const pin: StagePin = { formatVersion: 1, stage: stageKey(ref), deployment: target.number, desiredHash: target.desiredHash, commit: target.commit, reason: 'pin', since: new Date(ad.deps.clock.now()).toISOString() };
    await new StagePins(ad.stateDir).write(pin);
    await new StatusRecords(ad.stateDir, () => ad.deps.clock.now()).update(ref, { type: 'pinned', message: describePin(pin, null) });
    return pin;
  } finally {
    await lock.release();
  }
}

/** `setopsd unpin STAGE`: the branch applies again (the next apply, or the daemon at once). Returns the pin removed, or null. */
export async function unpinStage(ad: { deps: Deps; stateDir: string }, ref: StageRef, opts: { lockTimeoutMs: number }, signal: AbortSignal): Promise<StagePin | null> {
  const lock = await acquireStageLock(ad.stateDir, ref, ad.deps, { command: 'unpin', timeoutMs: opts.lockTimeoutMs, signal });
  try {
    const pins = new StagePins(ad.stateDir);
    const pin = await pins.read(ref).catch(() => null);
    if (!(await pins.remove(ref))) return null;
    await new StatusRecords(ad.stateDir, () => ad.deps.clock.now()).update(ref, { type: 'ready', revision: null, desiredHash: pin?.desiredHash ?? null, message: `unpinned: the next apply (or the daemon) applies the branch` });
    return pin;
  } finally {
    await lock.release();
  }
}
