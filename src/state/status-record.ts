import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from '../errors.js';
import { sortKeys } from '../model/canonical.js';
import type { Change } from '../model/changeset.js';
import { stageKey, type StageRef } from '../model/stage-model.js';
import { writeFileAtomic } from './atomic.js';
import { STATUS_FILE, stageDir } from './paths.js';

/**
 * Where a stage stands, in the manner of Flux's kstatus conditions:
 * - `ready`: the stage is at its desired state (last apply succeeded or nothing to change);
 * - `reconciling`: a deployment runs now;
 * - `failed`: the last attempt failed; `reason` is its error code;
 * - `stalled`: it failed `failures` times on the same desired state and is not retried until that
 *   state changes or an operator says `setopsd retry`;
 * - `waiting-approval`: a plan waits for a person (manual approval, or data loss);
 * - `pinned`: an operator pinned the stage (it is planned, not applied).
 */
export type StageState = 'ready' | 'reconciling' | 'failed' | 'stalled' | 'waiting-approval' | 'pinned';

/**
 * The status record of one stage, `<stageDir>/status.json`. Everything that shows a stage —
 * `setopsd status`, the daemon's API and page, metrics — reads this record instead of rebuilding
 * it from the journal. Never holds a secret: messages are error messages, which never do.
 */
export interface StageStatusRecord {
  formatVersion: 1;
  /** `org/project/stage`. */
  stage: string;
  state: StageState;
  /** The error code of a failure or refusal (`E_UNHEALTHY`, `E_SECRET_MISSING`, …); for `waiting-approval` why it waits. */
  reason?: string;
  /** One line for a person. */
  message?: string;
  /** The commit whose desired state the stage is at (applied, or found in sync); null when unknown (a directory source). */
  lastAppliedRevision: string | null;
  /** The commit of the newest attempt, whatever its outcome. */
  lastAttemptedRevision: string | null;
  /** Hash of the desired model of the newest attempt; failures count per hash. */
  desiredHash: string | null;
  /** Consecutive failures on `desiredHash`; 0 after a success. */
  failures: number;
  /** The newest deployment number this record knows of. */
  lastDeployment?: number;
  /** When `state` last changed, and when the record was last written (ISO times). */
  since: string;
  updatedAt: string;
  /** What the newest drift check found different from the recorded state (empty or absent: none). */
  drift?: string[];
  /**
   * The policy rules the newest desired state breaks (absent: none), whatever the state: a stage
   * in sync can break a rule added since, and then its next change is refused. Lines as `plan`
   * prints them (`deny baseline/production-scale app/web: …`), deny first.
   */
  policy?: { deny: number; warn: number; violations: string[] };
  /** For `waiting-approval`: the plan that waits, identified by (stage, desired hash, actual serial). */
  pendingPlan?: { id: string; desiredHash: string | null; actualSerial: string | null; dataLoss: boolean; changes: Change[] };
}

/** A transition of a stage's status, applied to the previous record by `nextStatus`. */
export type StatusUpdate =
  | { type: 'reconciling'; revision: string | null; desiredHash: string | null; deployment: number }
  | { type: 'ready'; revision: string | null; desiredHash: string | null; deployment?: number; message?: string }
  | { type: 'failed'; revision: string | null; desiredHash: string | null; code: string; message: string; deployment?: number; stallAfter?: number }
  | { type: 'waiting-approval'; revision: string | null; desiredHash: string | null; reason: string; message: string; plan: NonNullable<StageStatusRecord['pendingPlan']> }
  | { type: 'pinned'; message: string }
  | { type: 'drift'; findings: string[] }
  | { type: 'policy'; deny: number; warn: number; violations: string[] };

/**
 * The record after `update` (pure). A failure on the same desired hash as the previous one adds
 * to `failures`; with `stallAfter` set (the daemon: 3) the stage is `stalled` once it reaches it.
 */
export function nextStatus(prev: StageStatusRecord | null, ref: StageRef, update: StatusUpdate, now: string): StageStatusRecord {
  const base: StageStatusRecord = prev ?? {
    formatVersion: 1,
    stage: stageKey(ref),
    state: 'ready',
    lastAppliedRevision: null,
    lastAttemptedRevision: null,
    desiredHash: null,
    failures: 0,
    since: now,
    updatedAt: now,
  };
  if (update.type === 'drift') {
    // A finding, not a transition: the state stays, a repair (or the next apply) clears it.
    const { drift: _d, ...rest } = base;
    return { ...rest, ...(update.findings.length > 0 ? { drift: update.findings } : {}), updatedAt: now };
  }
  if (update.type === 'policy') {
    // A finding as well: the state stays; the next reconcile writes it again.
    const { policy: _p, ...rest } = base;
    return { ...rest, ...(update.violations.length > 0 ? { policy: { deny: update.deny, warn: update.warn, violations: update.violations } } : {}), updatedAt: now };
  }
  const { reason: _r, message: _m, pendingPlan: _p, drift: _drift, ...kept } = base;
  let next: StageStatusRecord;
  switch (update.type) {
    case 'reconciling':
      next = { ...kept, state: 'reconciling', lastAttemptedRevision: update.revision, desiredHash: update.desiredHash, lastDeployment: update.deployment, failures: sameHash(base, update.desiredHash) ? base.failures : 0 };
      break;
    case 'ready':
      next = {
        ...kept,
        state: 'ready',
        lastAppliedRevision: update.revision ?? base.lastAppliedRevision,
        lastAttemptedRevision: update.revision ?? base.lastAttemptedRevision,
        desiredHash: update.desiredHash,
        failures: 0,
        ...(update.deployment !== undefined ? { lastDeployment: update.deployment } : {}),
        ...(update.message ? { message: update.message } : {}),
      };
      break;
    case 'failed': {
      const failures = (sameHash(base, update.desiredHash) ? base.failures : 0) + 1;
      const stalled = update.stallAfter !== undefined && failures >= update.stallAfter;
      next = {
        ...kept,
        state: stalled ? 'stalled' : 'failed',
        reason: update.code,
        message: update.message,
        lastAttemptedRevision: update.revision,
        desiredHash: update.desiredHash,
        failures,
        ...(update.deployment !== undefined ? { lastDeployment: update.deployment } : {}),
      };
      break;
    }
    case 'waiting-approval':
      next = { ...kept, state: 'waiting-approval', reason: update.reason, message: update.message, lastAttemptedRevision: update.revision, desiredHash: update.desiredHash, pendingPlan: update.plan };
      break;
    case 'pinned':
      next = { ...kept, state: 'pinned', message: update.message };
      break;
  }
  next.since = next.state === base.state && prev !== null ? base.since : now;
  next.updatedAt = now;
  return next;
}

function sameHash(record: StageStatusRecord, hash: string | null): boolean {
  return record.desiredHash === hash;
}

/** Reads and writes `status.json` of stages (atomic replace; the writer holds the stage lock or owns the stage). */
export class StatusRecords {
  constructor(
    readonly stateDir: string,
    private readonly now: () => number,
  ) {}

  /** The record of a stage; null when it has none yet. */
  async read(ref: StageRef): Promise<StageStatusRecord | null> {
    const file = join(stageDir(this.stateDir, ref), STATUS_FILE);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new EngineError(`stage ${stageKey(ref)}: cannot read ${file}: ${(err as Error).message}; check that the state directory is readable`, { code: 'E_STATE_UNREADABLE', cause: err });
    }
    try {
      const record = JSON.parse(text) as StageStatusRecord;
      return record.formatVersion === 1 ? record : null;
    } catch {
      // The record is derived data: a torn or edited one is replaced by the next update.
      return null;
    }
  }

  /** Applies `update` to the stage's record and writes it; returns the new record. */
  async update(ref: StageRef, update: StatusUpdate): Promise<StageStatusRecord> {
    const next = nextStatus(await this.read(ref), ref, update, new Date(this.now()).toISOString());
    await writeFileAtomic(join(stageDir(this.stateDir, ref), STATUS_FILE), JSON.stringify(sortKeys(next), null, 2) + '\n');
    return next;
  }
}
