import type { ActualState } from '../model/actual-state.js';
import type { StageModel, StageRef } from '../model/stage-model.js';
import type { Engine, StageStatus } from '../providers/engine.js';
import { secretValueChanges } from '../reconciler/diff-secrets.js';
import { secretDigests, type SecretLookup } from '../state/secret-digests.js';

/** What a drift check compares the secrets with: the digests recorded with the applied model, and where the values are now. */
export interface SecretsNow {
  stateDir: string;
  /** `ActualState.secretDigests` of the stage (absent: recorded before digests existed, nothing to compare). */
  recorded: ActualState['secretDigests'];
  lookup: SecretLookup;
}

/**
 * What runs differently from what a stage's engine recorded, one line a finding (empty: none):
 * the local engine's view (is the supervisor there, do the processes of every app pass their
 * health check at full scale, do the service servers run, and — with `secrets` — do the secrets
 * still have the values the processes got, compared by keyed digest, never by value); an engine
 * with `refresh` (Pulumi) reports the resource-level drift it finds. Reads only; never changes anything.
 */
export async function checkDrift(engine: Engine, ref: StageRef, recorded: StageModel, signal: AbortSignal, secrets?: SecretsNow): Promise<string[]> {
  if (engine.status) {
    const findings = runtimeDrift(recorded, await engine.status(ref, signal));
    return secrets ? [...findings, ...(await secretDrift(recorded, secrets))] : findings;
  }
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

/** One finding per env entry whose secret has another value now than the one its app was started with. */
async function secretDrift(recorded: StageModel, secrets: SecretsNow): Promise<string[]> {
  if (secrets.recorded === undefined) return [];
  const now = await secretDigests(secrets.stateDir, recorded, secrets.lookup);
  const actual: ActualState = { model: recorded, serial: '', secretDigests: secrets.recorded };
  return secretValueChanges(recorded, actual, now).map((c) => `${c.subject} ${c.path}: ${String(c.after)} has another value than the running processes got`);
}
