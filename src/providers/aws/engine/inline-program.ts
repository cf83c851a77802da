/**
 * The inline Pulumi programs the engine runs: a stage's program (the AWS program by default,
 * loaded only when a stage is previewed or applied) and the no-op program of destroy, refresh
 * and reads.
 */
import type { PulumiFn } from '@pulumi/pulumi/automation/index.js';
import { canonicalJson } from '../../../model/canonical.js';
import type { StageModel } from '../../../model/stage-model.js';
import type { ProgramOptions } from '../program/context.js';
import { MODEL_OUTPUT } from './checkpoint.js';
import type { StageProgramFactory } from './options.js';

/** The program of operations that build nothing (destroy, refresh, `stack export`). */
export const noopProgram: PulumiFn = async () => ({});

async function defaultProgram(model: StageModel, opts: ProgramOptions): Promise<PulumiFn> {
  // Loaded only when a stage is previewed or applied: reads never load @pulumi/aws.
  const { stageProgram } = await import('../program/index.js');
  return stageProgram(model, opts);
}

/**
 * The program for `desired`, built by `factory` (default: the AWS program), that always outputs
 * the model `read` relies on (`setopsdStageModel`).
 */
export async function stageProgramFor(factory: StageProgramFactory | undefined, desired: StageModel, programOpts: ProgramOptions = {}): Promise<PulumiFn> {
  const inner = factory ? factory(desired, programOpts) : await defaultProgram(desired, programOpts);
  const model = canonicalJson(desired);
  // The engine guarantees the model output that `read` relies on; the AWS program sets it
  // itself (apps that did not roll out are recorded as they were, see recorded-model.ts).
  return async () => {
    const outputs = (await inner()) ?? {};
    return MODEL_OUTPUT in outputs ? outputs : { ...outputs, [MODEL_OUTPUT]: model };
  };
}
