import { stageKey, type StageRef } from '../model/stage-model.js';
import { applyStage, asSetopsError, type ApplyContext, type StageJob, type StageOutcome } from './apply-stage.js';

/**
 * Applies several stages: independent stages in parallel up to `concurrency`; a stage whose
 * `after:` stage is in the same run waits for it and is skipped when it did not succeed (or did
 * not need to change). Outcomes come back in the order of `jobs`.
 */
export async function runStageJobs(jobs: StageJob[], ctx: ApplyContext, opts: { concurrency?: number } = {}): Promise<StageOutcome[]> {
  const limit = Math.max(1, opts.concurrency ?? 2);
  const byKey = new Map(jobs.map((j) => [stageKey(j.ref), j]));
  const predecessor = (job: StageJob): string | undefined => {
    const after = job.desired?.stage.after;
    if (!after) return undefined;
    const key = stageKey({ ...job.ref, stage: after });
    return byKey.has(key) && key !== stageKey(job.ref) ? key : undefined;
  };
  const cyclic = findCycles(jobs.map((j) => stageKey(j.ref)), (k) => predecessor(byKey.get(k)!));

  let running = 0;
  const waiters: (() => void)[] = [];
  const slot = async () => {
    if (running < limit) {
      running += 1;
      return;
    }
    await new Promise<void>((resolve) => waiters.push(resolve));
  };
  const free = () => {
    const next = waiters.shift();
    if (next) next();
    else running -= 1;
  };

  const promises = new Map<string, Promise<StageOutcome>>();
  const skip = (ref: StageRef, reason: string): StageOutcome => {
    ctx.onEvent?.({ type: 'skipped', ref, reason });
    return { ref, status: 'skipped', reason };
  };
  const run = async (job: StageJob): Promise<StageOutcome> => {
    const key = stageKey(job.ref);
    if (cyclic.has(key)) return skip(job.ref, `its after: chain is a cycle (${[...cyclic].sort().join(', ')})`);
    const pred = predecessor(job);
    if (pred !== undefined) {
      const before = await promises.get(pred)!;
      if (before.status !== 'succeeded' && before.status !== 'unchanged') {
        return skip(job.ref, `it runs after ${pred}, which ${before.status === 'failed' ? 'failed' : 'was skipped'}`);
      }
    }
    await slot();
    try {
      if (ctx.signal.aborted) return skip(job.ref, 'canceled');
      return await applyStage(job, ctx);
    } catch (err) {
      // Journal or log IO failed: this stage failed (and says why), the others go on.
      const error = asSetopsError(err, job.ref, ctx.signal);
      ctx.onEvent?.({ type: 'refused', ref: job.ref, error });
      return { ref: job.ref, status: 'failed', error };
    } finally {
      free();
    }
  };
  // Register every promise before any of them runs, so predecessors can be awaited by key.
  let startAll!: () => void;
  const gate = new Promise<void>((r) => (startAll = r));
  for (const job of jobs) promises.set(stageKey(job.ref), gate.then(() => run(job)));
  startAll();
  return Promise.all(jobs.map((j) => promises.get(stageKey(j.ref))!));
}

/** Keys that take part in an `after:` cycle. */
function findCycles(keys: string[], pred: (key: string) => string | undefined): Set<string> {
  const out = new Set<string>();
  for (const start of keys) {
    const seen = new Set<string>();
    let k: string | undefined = start;
    while (k !== undefined && !seen.has(k)) {
      seen.add(k);
      k = pred(k);
    }
    if (k === start) for (const s of seen) out.add(s);
  }
  return out;
}
