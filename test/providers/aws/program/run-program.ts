/**
 * Runs the inline AWS program of one stage under Pulumi mocks (mocks.ts) and records what the
 * engine would receive: resources with their inputs, the resource options a stack
 * transformation sees (explicit `dependsOn`, `protect`, `retainOnDelete`, `ignoreChanges`:
 * options never reach the mocks), the outputs and the golden snapshot. Importing this module
 * installs the mocks before `@pulumi/aws` is loaded.
 */
import * as pulumi from '@pulumi/pulumi';
import type { StageModel } from '../../../../src/model/stage-model.js';
import type { ProgramOptions, StageProgramOutputs } from '../../../../src/providers/aws/program/index.js';
import { MockAws, readable, snapshot, type RecordedResource } from './mocks.js';

/** The resource options of one resource, as a stack transformation sees them. */
export interface RecordedOptions {
  protect: boolean;
  retainOnDelete: boolean;
  ignoreChanges: string[];
}

/** One run of a stage's program. */
export interface ProgramRun {
  resources: RecordedResource[];
  /** Explicit `dependsOn` of each resource (logical names, sorted). */
  dependsOn: Record<string, string[]>;
  /** Resource options by logical name. */
  options: Record<string, RecordedOptions>;
  outputs: StageProgramOutputs & Record<string, unknown>;
  golden: string;
}

/** The time every test run passes as `ProgramOptions.now` (final snapshot names), unless it gives its own. */
export const RUN_TIME = Date.UTC(2026, 0, 2, 3, 4, 5);

// setMocks must run before @pulumi/aws is loaded by the program module.
export const mock = new MockAws();
await pulumi.runtime.setMocks(mock, 'setops-init', 'init', false);
const { stageProgram } = await import('../../../../src/providers/aws/program/index.js');

/** Runs the program of one stage to completion (`preview` false: every output resolves). */
export async function runProgram(model: StageModel, opts: ProgramOptions = {}, preview = false): Promise<ProgramRun> {
  mock.reset(model.organization.aws?.region ?? 'us-east-1');
  await pulumi.runtime.setMocks(mock, `setops-${model.organization.name}-${model.project.name}`, model.stage.name, preview);
  const program = stageProgram(model, { now: RUN_TIME, ...opts });
  const dependsOn: Record<string, string[]> = {};
  const options: Record<string, RecordedOptions> = {};
  const outputs = ((await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation((args) => {
      const deps = ([] as unknown[]).concat(args.opts.dependsOn ?? []) as { __name?: string }[];
      dependsOn[args.name] = deps.map((d) => d.__name ?? '?').sort();
      const o = args.opts as pulumi.CustomResourceOptions;
      options[args.name] = { protect: o.protect === true, retainOnDelete: o.retainOnDelete === true, ignoreChanges: [...(o.ignoreChanges ?? [])].sort() };
      return undefined;
    });
    return program();
  })) ?? {}) as StageProgramOutputs & Record<string, unknown>;
  // The stack registers its outputs after they resolve: let every pending RPC finish before the next run.
  await pulumi.runtime.disconnect();
  return { resources: mock.resources.map(readable), dependsOn, options, outputs, golden: snapshot(mock, outputs) };
}
