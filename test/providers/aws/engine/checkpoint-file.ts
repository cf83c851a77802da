import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { canonicalJson } from '../../../../src/model/canonical.js';
import type { StageModel, StageRef } from '../../../../src/model/stage-model.js';
import { MODEL_OUTPUT } from '../../../../src/providers/aws/engine/checkpoint.js';

/** The default file backend of a stage under a state directory (as the engine lays it out). */
export function stageBackend(stateDir: string, ref: StageRef): string {
  return join(stateDir, 'stages', ref.organization, ref.project, ref.stage, 'pulumi/backend');
}

/**
 * Writes what a successful `pulumi up` leaves in a file backend: a version 3 checkpoint whose
 * stack resource exports `model` as the stage model output. `latest` adds or overrides fields
 * of `checkpoint.latest` (e.g. `pending_operations`). Returns the file's path.
 */
export function writeStackCheckpoint(backendRoot: string, ref: StageRef, model: StageModel, latest: Record<string, unknown> = {}): string {
  const project = `setops-${ref.organization}-${ref.project}`;
  const file = join(backendRoot, '.pulumi/stacks', project, `${ref.stage}.json`);
  mkdirSync(dirname(file), { recursive: true });
  const stackUrn = `urn:pulumi:${ref.stage}::${project}::pulumi:pulumi:Stack::${project}-${ref.stage}`;
  writeFileSync(
    file,
    JSON.stringify({
      version: 3,
      checkpoint: {
        stack: `organization/${project}/${ref.stage}`,
        latest: {
          manifest: { time: '2026-01-01T00:00:00Z', magic: '', version: 'v3.200.0' },
          resources: [{ urn: stackUrn, custom: false, type: 'pulumi:pulumi:Stack', outputs: { [MODEL_OUTPUT]: canonicalJson(model) } }],
          ...latest,
        },
      },
    }),
  );
  return file;
}
