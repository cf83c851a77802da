import type { Deps } from '../deps.js';
import { stageKey, type StageRef } from '../model/stage-model.js';
import { engineFor } from '../providers/registry.js';
import { summarizeDeployment, type StageStatusReport } from '../render/status.js';
import { Journal, processGone } from '../state/journal.js';
import { readStageLock } from '../state/lock.js';
import { StatusRecords } from '../state/status-record.js';
import { StateStore } from '../state/store.js';
import { StagePins, describePin } from '../state/pin.js';
import { commitsAhead } from '../manifests/commits-ahead.js';

/** Everything `setopsd status` shows for one stage: its status record, recorded model, journal, lock and the engine's runtime view. */
export async function stageStatus({ deps, stateDir }: { deps: Deps; stateDir: string }, ref: StageRef, signal: AbortSignal): Promise<StageStatusReport> {
  const recorded = await new StateStore(stateDir).read(ref);
  const latest = await new Journal(stateDir, ref, () => deps.clock.now()).latest();
  const model = recorded.model;
  const organization = model?.organization ?? { name: ref.organization, provider: 'local' as const };
  const engine = await engineFor(organization, { stateDir, deps });
  const report: StageStatusReport = {
    stage: stageKey(ref),
    engine: engine.name,
    serial: recorded.model === null ? null : recorded.serial,
    lastDeployment: latest ? summarizeDeployment(latest, processGone) : null,
    lock: await readStageLock(stateDir, ref),
    record: await new StatusRecords(stateDir, () => deps.clock.now()).read(ref),
    apps: Object.fromEntries(Object.entries(model?.apps ?? {}).map(([n, a]) => [n, { scale: a.scale, public: a.public }])),
    services: Object.fromEntries(Object.entries(model?.services ?? {}).map(([n, s]) => [n, { type: s.type }])),
    runtime: null,
  };
  const pin = await new StagePins(stateDir).read(ref);
  if (pin !== null) {
    const root = (await new Journal(stateDir, ref, () => deps.clock.now()).list()).reverse().find((e) => e.configRoot)?.configRoot;
    const ahead = pin.commit !== null && root !== undefined ? await commitsAhead(root, pin.commit) : null;
    report.pin = { deployment: pin.deployment, reason: pin.reason, commit: pin.commit, since: pin.since, commitsAhead: ahead, message: describePin(pin, ahead) };
  }
  if (model !== null && engine.status) {
    try {
      report.runtime = await engine.status(ref, signal);
    } catch (err) {
      report.runtimeError = (err as Error).message;
    }
  }
  return report;
}
