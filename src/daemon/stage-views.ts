import type { Deps } from '../deps.js';
import { compareCodeUnits } from '../model/canonical.js';
import { Journal } from '../state/journal.js';
import { StagePins, describePin } from '../state/pin.js';
import { parseKey, type Controller } from './controller.js';
import type { StageView } from './view.js';

/**
 * The stages as the API and the page show them (all of them, or the one `only` names): each
 * read from its status record and journal, ordered by project and then along `after:` chains
 * (a stage comes after the stage it runs after).
 */
export async function stageViews(controller: Controller, stateDir: string, deps: Pick<Deps, 'clock'>, only?: string): Promise<StageView[]> {
  const snapshot = controller.snapshot();
  const keys = only !== undefined ? ((await controller.stageKeys()).includes(only) ? [only] : []) : await controller.stageKeys();
  const views: StageView[] = [];
  for (const key of keys) {
    const ref = parseKey(key);
    const desired = snapshot.stages?.get(key) ?? null;
    const record = await controller.record(key);
    const latest = await new Journal(stateDir, ref, () => deps.clock.now()).latest();
    const pin = await new StagePins(stateDir).read(ref).catch(() => null);
    const preview = controller.preview(key);
    views.push({
      key,
      ...ref,
      after: desired?.stage.after ?? null,
      approval: desired?.stage.approval ?? null,
      record,
      pin: pin === null ? null : { deployment: pin.deployment, reason: pin.reason, commit: pin.commit, since: pin.since, message: record?.state === 'pinned' && record.message ? record.message : describePin(pin, null) },
      ...(preview ? { preview: { number: preview.number, branch: preview.branch, commit: preview.commit, urls: await controller.appUrls(key) } } : {}),
      lastDeployment: latest
        ? { number: latest.number, status: latest.status, commit: latest.commit, startedAt: latest.startedAt, kind: latest.kind, ...(latest.endedAt ? { endedAt: latest.endedAt } : {}), ...(latest.error ? { error: latest.error } : {}) }
        : null,
      pending:
        record?.state === 'waiting-approval' && record.pendingPlan
          ? { planId: record.pendingPlan.id, changes: record.pendingPlan.changes ?? [], approveCommand: `setopsd approve ${key} --plan ${record.pendingPlan.id}` }
          : null,
    });
  }
  return pipelineOrder(views);
}

/** Project by project; inside a project, a stage after the one its `after:` names (then by name). */
export function pipelineOrder(views: StageView[]): StageView[] {
  const depth = new Map<string, number>();
  const byKey = new Map(views.map((v) => [v.key, v]));
  const depthOf = (v: StageView, seen = new Set<string>()): number => {
    const known = depth.get(v.key);
    if (known !== undefined) return known;
    const before = v.after ? byKey.get(`${v.organization}/${v.project}/${v.after}`) : undefined;
    const d = before && !seen.has(before.key) ? depthOf(before, new Set([...seen, v.key])) + 1 : 0;
    depth.set(v.key, d);
    return d;
  };
  return [...views].sort(
    (a, b) =>
      compareCodeUnits(`${a.organization}/${a.project}`, `${b.organization}/${b.project}`) || depthOf(a) - depthOf(b) || compareCodeUnits(a.stage, b.stage),
  );
}
