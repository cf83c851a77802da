import { stageKey, type EngineName } from '../model/stage-model.js';
import type { PlanFile } from './plan-file.js';
import { planStageRef } from './plan-file.js';
import type { StagePlan } from './stage-plan.js';

/**
 * The stage plans of a saved plan, for rendering it again (`setopsd comment --plan FILE`): what
 * the file holds, without re-reading any engine. The recorded model is not in the file, so
 * descriptions of deleted things name only their subject.
 */
export function stagePlansOfFile(file: PlanFile): StagePlan[] {
  return file.stages.map((s) => {
    const ref = planStageRef(s);
    const files: Record<string, string[]> = {};
    for (const c of s.changes) if (c.files && c.files.length > 0) files[c.subject] = [...c.files];
    return {
      ref,
      key: stageKey(ref),
      engine: s.engine as EngineName,
      desired: s.desired,
      actual: { model: null, serial: s.actualSerial },
      desiredHash: s.desiredHash,
      changeset: { ref, changes: s.changes.map(({ files: _f, ...c }) => c) },
      summary: s.summary,
      problems: s.warnings.map((w) => ({ code: w.code, stage: ref, subject: w.subject, refused: w.refused, message: w.message })),
      resources: s.resources,
      notes: s.notes,
      files,
      violations: s.violations ?? [],
      ...(s.cost ? { cost: s.cost } : {}),
    };
  });
}
