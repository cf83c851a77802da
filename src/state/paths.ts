import { join } from 'node:path';
import type { StageRef } from '../model/stage-model.js';

/**
 * The state directory layout, shared by every engine and command:
 *
 *   <stateDir>/stages/<org>/<project>/<stage>/
 *     state.json          recorded StageModel + serial (StateStore)
 *     lock                pid/host/time of the apply holding the stage (src/state/lock.ts)
 *     status.json         the stage's status record: ready, failed, waiting-approval… (status-record.ts)
 *     pin.json            present while an operator pins the stage to a deployment (pin.ts)
 *     journal/000001.json one file per numbered deployment (src/state/journal.ts)
 *     models/<hash>.json  every desired StageModel a deployment applied, by hash (secrets as references)
 *     logs/               deployment logs and, for the local engine, process logs
 *     tasks/<id>.json     one record per one-off or scheduled task run (task-records.ts)
 *     local/              local engine runtime data (processes, services, data directories)
 *     pulumi/             Pulumi work directory and default file backend
 */
export function stageDir(stateDir: string, ref: StageRef): string {
  return join(stateDir, 'stages', ref.organization, ref.project, ref.stage);
}

export const STATE_FILE = 'state.json';
export const LOCK_FILE = 'lock';
export const JOURNAL_DIR = 'journal';
export const LOGS_DIR = 'logs';
export const MODELS_DIR = 'models';
export const STATUS_FILE = 'status.json';
export const PIN_FILE = 'pin.json';
