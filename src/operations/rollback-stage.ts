import { UsageError } from '../errors.js';
import { stageKey, type StageRef } from '../model/stage-model.js';
import { Journal, type Deployment } from '../state/journal.js';
import { currentDeployment, deployStored, deploymentNumber, storedModel, type StageOpDeps, type StageOpRequest, type StageOpResult } from './stage-deployment.js';

/**
 * `setopsd rollback STAGE [--to N]`: re-applies exactly the StageModel stored with deployment N
 * (default: the newest succeeded deployment before the current one whose model differs) as a new
 * deployment with trigger `rollback` and `rollbackOf: N`, after the same review as an apply (data
 * loss rules apply). Once it succeeded the stage is pinned at it: the branch is planned, not
 * applied, until `setopsd unpin`.
 */
export async function rollbackStage(ad: StageOpDeps, ref: StageRef, opts: { to?: number }, request: StageOpRequest, signal: AbortSignal): Promise<StageOpResult & { target: Deployment }> {
  const journal = new Journal(ad.stateDir, ref, () => ad.deps.clock.now());
  const entries = await journal.list();
  const target = opts.to !== undefined ? await deploymentNumber(journal, opts.to) : defaultTarget(entries, ref);
  if (target.status !== 'succeeded') {
    throw new UsageError(`deployment #${target.number} of ${stageKey(ref)} ${target.status === 'failed' ? 'failed' : 'did not finish'}; roll back to a deployment that succeeded (setopsd history ${stageKey(ref)})`);
  }
  const model = await storedModel(journal, target);
  const result = await deployStored(
    ad,
    ref,
    {
      model,
      source: { commit: target.commit, ref: target.ref },
      trigger: 'rollback',
      note: `rollback to deployment #${target.number}${target.commit ? ` (commit ${target.commit.slice(0, 12)})` : ''}; the stage is then pinned until \`setopsd unpin ${stageKey(ref)}\``,
      job: { rollbackOf: target.number, pin: 'set', force: true },
    },
    request,
    signal,
  );
  return { ...result, target };
}

/** The newest succeeded deployment before the current one with a different model. */
function defaultTarget(entries: readonly Deployment[], ref: StageRef): Deployment {
  const current = currentDeployment(entries);
  if (current === null) throw new UsageError(`stage ${stageKey(ref)} has no succeeded deployment to roll back from (setopsd history ${stageKey(ref)})`);
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    if (e.number < current.number && e.kind === 'apply' && e.status === 'succeeded' && e.desiredHash !== current.desiredHash) return e;
  }
  throw new UsageError(`stage ${stageKey(ref)} has no earlier succeeded deployment with a different model than #${current.number}; give one with --to N (setopsd history ${stageKey(ref)})`);
}
