/**
 * Test seams for the apply orchestration: a small in-memory engine and planner. The real plan
 * and the real local engine are exercised by test/cli/apply*.test.ts and test/e2e/.
 */
import { canonicalJson } from '../../src/model/canonical.js';
import { refOf, stageKey, type StageModel } from '../../src/model/stage-model.js';
import type { ActualState } from '../../src/model/actual-state.js';
import type { ApplyIO, ApplyResult, Engine } from '../../src/providers/engine.js';
import type { Changeset } from '../../src/model/changeset.js';
import type { Planner } from '../../src/operations/apply-stage.js';
import { EngineError } from '../../src/errors.js';

/** Planner: one change per app whose canonical JSON differs, a stage create/delete otherwise. */
export const fakePlanner: Planner = {
  plan(desired, actual): Changeset {
    const ref = refOf((desired ?? actual)!);
    const changes: Changeset['changes'] = [];
    if (!actual && desired) changes.push({ op: 'create', subject: 'stage', dataLoss: false, command: 'setops stage:create' });
    if (actual && !desired) {
      changes.push({ op: 'delete', subject: 'stage', dataLoss: false, command: 'setops stage:destroy' });
      return { ref, changes };
    }
    for (const [name, app] of Object.entries(desired!.apps).sort()) {
      const before = actual?.apps[name];
      if (!before) changes.push({ op: 'create', subject: `app/${name}`, dataLoss: false, command: `setops app:create ${name}` });
      else if (canonicalJson(before) !== canonicalJson(app)) changes.push({ op: 'update', subject: `app/${name}`, path: 'scale', before: before.scale, after: app.scale, dataLoss: false, command: 'setops resource:set scale' });
    }
    return { ref, changes };
  },
  checkSafety(_c, desired, actual) {
    const model = desired ?? actual;
    return model && model.stage.protected && !desired ? [`stage ${model.stage.name} is protected`] : [];
  },
};

export interface FakeEngineOptions {
  /** Subject at which apply fails (after the earlier subjects succeeded). */
  failAt?: Record<string, string>;
  /** Stages whose apply waits for the signal to abort. */
  hang?: Set<string>;
  /** Throw (instead of returning failed) at failAt. */
  throwOnFail?: boolean;
}

/** In-memory engine recording calls; apply reports progress per change, in order. */
export function fakeEngine(opts: FakeEngineOptions = {}) {
  const states = new Map<string, ActualState>();
  const calls: string[] = [];
  let active = 0;
  let maxActive = 0;
  const gates = new Map<string, () => void>();
  const engine: Engine & { states: typeof states; calls: string[]; maxActive: () => number; release: (key: string) => void; waitForGate: (key: string) => Promise<void> } = {
    name: 'local',
    states,
    calls,
    maxActive: () => maxActive,
    release: (key) => gates.get(key)?.(),
    waitForGate: async (key) => {
      while (!gates.has(key)) await new Promise((r) => setImmediate(r));
    },
    async read(ref) {
      return states.get(stageKey(ref)) ?? { model: null, serial: null };
    },
    async apply(desired: StageModel, changes: Changeset, io: ApplyIO): Promise<ApplyResult> {
      const key = stageKey(changes.ref);
      calls.push(`apply ${key}`);
      active += 1;
      maxActive = Math.max(maxActive, active);
      try {
        if (opts.hang?.has(key)) {
          await new Promise<void>((resolve) => {
            gates.set(key, resolve);
            io.signal.addEventListener('abort', () => resolve(), { once: true });
          });
        } else {
          await new Promise((r) => setImmediate(r));
        }
        const applied = [];
        for (const change of changes.changes) {
          io.progress({ subject: change.subject, status: 'started' });
          if (io.signal.aborted) throw new EngineError(`${change.subject}: aborted`, { code: 'E_ENGINE' });
          if (opts.failAt?.[key] === change.subject) {
            const error = new EngineError(`${change.subject} in ${key}: never became healthy`, { code: 'E_ENGINE' });
            io.progress({ subject: change.subject, status: 'failed', message: 'never became healthy' });
            if (opts.throwOnFail) throw error;
            return { status: 'failed', applied, actual: states.get(key) ?? { model: null, serial: null }, error };
          }
          io.progress({ subject: change.subject, status: 'succeeded' });
          applied.push(change);
        }
        for (const v of Object.values(desired.apps)) for (const e of Object.values(v.env)) if (typeof e === 'object') await io.secrets.get(e.secret);
        const serial = String(Number(states.get(key)?.serial ?? 0) + 1);
        const actual = { model: desired, serial };
        states.set(key, actual);
        return { status: 'succeeded', applied, actual };
      } finally {
        active -= 1;
      }
    },
    async destroy(ref, io) {
      calls.push(`destroy ${stageKey(ref)}`);
      io.progress({ subject: 'stage', status: 'succeeded' });
      states.set(stageKey(ref), { model: null, serial: String(Number(states.get(stageKey(ref))?.serial ?? 0) + 1) });
      return { status: 'succeeded', applied: [], actual: states.get(stageKey(ref))! };
    },
  };
  return engine;
}
