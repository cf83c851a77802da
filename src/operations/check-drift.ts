import type { StageModel, StageRef } from '../model/stage-model.js';
import type { Engine, StageStatus } from '../providers/engine.js';

/**
 * What runs differently from what a stage's engine recorded, one line a finding (empty: none):
 * the local engine's view (is the supervisor there, do the processes of every app pass their
 * health check at full scale, do the service servers run); an engine with `refresh` (Pulumi)
 * reports the resource-level drift it finds. Reads only; never changes anything.
 */
export async function checkDrift(engine: Engine, ref: StageRef, recorded: StageModel, signal: AbortSignal): Promise<string[]> {
  if (engine.status) return runtimeDrift(recorded, await engine.status(ref, signal));
  if (engine.refresh) {
    const actual = await engine.refresh(ref, signal);
    return (actual.drift ?? []).map((c) => `${c.subject}${c.path ? ` ${c.path}` : ''}: ${c.op}${c.reason ? ` (${c.reason})` : ''}`);
  }
  return [];
}

/** Findings of a runtime view against the recorded model (pure). */
export function runtimeDrift(recorded: StageModel, status: StageStatus | null): string[] {
  if (status === null) return ['stage: the engine reports nothing running'];
  if (status.source) return []; // not a live view (Pulumi's stack outputs): nothing to compare
  const findings: string[] = [];
  for (const [name, app] of Object.entries(recorded.apps).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const healthy = (status.apps[name]?.processes ?? []).filter((p) => p.healthy).length;
    if (healthy < app.scale) findings.push(`app/${name}: ${healthy} of ${app.scale} processes healthy`);
  }
  for (const [name, service] of Object.entries(recorded.services).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const s = status.services[name];
    if (s === undefined || s.status !== 'running') findings.push(`service/${name}: ${s?.status ?? 'missing'}${s?.detail ? ` (${s.detail})` : ''} (${service.type})`);
  }
  return findings;
}
