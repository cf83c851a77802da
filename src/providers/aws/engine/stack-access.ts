/**
 * Access to a stage's Pulumi stack: finding the CLI, opening (selecting or creating) the stack
 * in its workspace, and reading what the stack records.
 *
 * `read` returns the StageModel recorded as the stack output `setopsdStageModel`. For a file
 * backend it reads the checkpoint file directly (no CLI, no passphrase: `setopsd plan` works
 * where the CLI is absent); other backends use `pulumi stack export` (without
 * `--show-secrets`: nothing is decrypted). Both give the same serial (see checkpoint.ts).
 * After an update in which apps did not roll out (circuit-breaker rollback, failed pre-deploy
 * task) the AWS program records those apps as they were, so the next plan shows them again.
 * Errors name the stack's lock holders (locks.ts).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { PulumiCommand, PulumiFn } from '@pulumi/pulumi/automation/index.js';
import { SetopsError, throwIfAborted } from '../../../errors.js';
import type { ActualState } from '../../../model/actual-state.js';
import { finalSnapshotsByService } from '../program/services/database-resources.js';
import { stageKey, type StageModel, type StageRef } from '../../../model/stage-model.js';
import { pidAlive } from '../../../pid.js';
import type { EngineContext } from '../../engine.js';
import { checkpointPaths, parseMetaVersion, stackLocation, type StackLocation } from './backend.js';
import { modelFromOutputs, parseExport, readCheckpointFile, type DeploymentInfo } from './checkpoint.js';
import { locatePulumiCommand } from './cli.js';
import { isStackNotFound, mapPulumiError, type ErrorContext } from './errors.js';
import type { Translation } from './events/types.js';
import { noopProgram } from './inline-program.js';
import { readLocks, type HostProbe } from './locks.js';
import type { PulumiEngineOptions } from './options.js';
import { passphraseEnv } from './passphrase.js';
import { openStack, runRaw, type OpenStack } from './workspace.js';

/** The stack operations that run with engine events. */
export type StackOperation = 'preview' | 'up' | 'destroy' | 'refresh';

/** A plugin to install before a preview or an update. */
type Plugin = { name: string; version: string };

/** The `aws` resource plugin version the installed `@pulumi/aws` package needs. */
function awsPlugin(): Plugin {
  const pkg = createRequire(import.meta.url)('@pulumi/aws/package.json') as { version: string; pulumi?: { name?: string; version?: string } };
  return { name: pkg.pulumi?.name ?? 'aws', version: `v${pkg.pulumi?.version ?? pkg.version}` };
}

/** `stage org/project/stage`, the start of the engine's messages about a stage. */
export function stageSubject(ref: StageRef): string {
  return `stage ${stageKey(ref)}`;
}

/** The stacks of one organization's stages; one per engine (it remembers the CLI and the plugins). */
export class StackAccess {
  /** Host name and pid probe for telling stale file-backend locks. */
  readonly probe: HostProbe;
  private located: Promise<PulumiCommand> | undefined;
  private plugins: Plugin[] | undefined;

  constructor(
    private readonly ctx: EngineContext,
    private readonly opts: PulumiEngineOptions,
  ) {
    this.probe = opts.hostProbe ?? { hostname: hostname(), isAlive: pidAlive };
    this.plugins = opts.plugins;
  }

  /** Where the stage's stack lives: backend, project, stack name, work directory. */
  loc(ref: StageRef): StackLocation {
    return stackLocation(this.ctx.stateDir, this.ctx.organization, ref, this.ctx.deps.cwd);
  }

  /** `stage org/project/stage`, the start of messages. */
  subject(ref: StageRef): string {
    return stageSubject(ref);
  }

  /** Opens the stage's stack for `operation` (creating it when `create`), plugins installed for preview and up. */
  async open(ref: StageRef, operation: StackOperation, program: PulumiFn, create: boolean): Promise<OpenStack> {
    const loc = this.loc(ref);
    const env = this.ctx.deps.env;
    const region = this.ctx.organization.aws?.region;
    const pulumiCommand = await this.cli(`${operation} of ${this.subject(ref)}`);
    const secretsEnv = await passphraseEnv(env, loc.backend, this.subject(ref));
    const spec = { loc, pulumiCommand, program, env, secretsEnv, create, ...(region ? { region } : {}) };
    const opened = await openStack(spec);
    if (operation === 'preview' || operation === 'up') {
      // Inline programs report no required plugins: install the provider explicitly.
      this.plugins ??= this.opts.program ? [] : [awsPlugin()];
      for (const p of this.plugins) await opened.stack.workspace.installPlugin(p.name, p.version);
    }
    return opened;
  }

  /** What `mapPulumiError` needs to name a failure of `operation` on the stage's stack. */
  errorContext(ref: StageRef, operation: string, signal: AbortSignal | undefined, translation?: Translation): ErrorContext {
    const loc = this.loc(ref);
    return {
      subject: this.subject(ref),
      operation,
      loc,
      ...(signal ? { signal } : {}),
      ...(translation ? { translation } : {}),
      locks: () => readLocks(loc, this.probe),
      probe: this.probe,
    };
  }

  /** The recorded deployment: checkpoint file for file backends, `stack export` otherwise; null when there is no stack. */
  async deployment(ref: StageRef, signal?: AbortSignal): Promise<DeploymentInfo | null> {
    throwIfAborted(signal);
    const loc = this.loc(ref);
    if (loc.backend.kind === 'file' && loc.backend.root) {
      const meta = await readFile(join(loc.backend.root, '.pulumi', 'meta.yaml'), 'utf8').catch(() => '');
      return readCheckpointFile(checkpointPaths(loc.backend.root, loc.project, loc.stack, parseMetaVersion(meta)));
    }
    return this.exported(ref, loc, signal);
  }

  /** The StageModel a recorded deployment carries (its `setopsdStageModel` output). */
  modelOf(ref: StageRef, info: DeploymentInfo): StageModel | null {
    return modelFromOutputs(info.outputs, `${this.subject(ref)} (${this.loc(ref).backend.url})`);
  }

  /** The actual state a recorded deployment (or none) stands for. */
  actualOf(ref: StageRef, info: DeploymentInfo | null): ActualState {
    if (!info) return { model: null, serial: null };
    const model = this.modelOf(ref, info);
    // Which final snapshot a delete keeps: the plan names it.
    return { model, serial: info.serial, ...(model ? { finalSnapshots: finalSnapshotsByService(model.services, info.finalSnapshots) } : {}) };
  }

  /** The StageModel the stack records and its serial (`Engine.read`). */
  async read(ref: StageRef, signal?: AbortSignal): Promise<ActualState> {
    return this.actualOf(ref, await this.deployment(ref, signal));
  }

  /** The deployment through `pulumi stack export` (no `--show-secrets`). */
  private async exported(ref: StageRef, loc: StackLocation, signal: AbortSignal | undefined): Promise<DeploymentInfo | null> {
    const env = this.ctx.deps.env;
    let opened: OpenStack;
    try {
      const pulumiCommand = await this.cli(`reading ${this.subject(ref)} from ${loc.backend.url}`);
      const secretsEnv = await passphraseEnv(env, loc.backend, this.subject(ref)).catch(() => ({}));
      opened = await openStack({ loc, pulumiCommand, program: noopProgram, env, secretsEnv, create: false });
    } catch (err) {
      if (isStackNotFound(err)) return null;
      throw await mapPulumiError(err, this.errorContext(ref, 'read', signal));
    }
    try {
      const { stdout } = await runRaw(opened, ['stack', 'export', '--stack', loc.stack], signal);
      return parseExport(stdout, `${loc.backend.url} stack ${loc.project}/${loc.stack}`);
    } catch (err) {
      if (err instanceof SetopsError) throw err;
      throw await mapPulumiError(err, this.errorContext(ref, 'read', signal));
    }
  }

  /** The CLI: the injected one, or the one found on PATH (looked up once; again after a failure). */
  private async cli(operation: string): Promise<PulumiCommand> {
    if (this.opts.pulumiCommand) return this.opts.pulumiCommand;
    this.located ??= locatePulumiCommand(this.ctx.deps.env, operation);
    try {
      return await this.located;
    } catch (err) {
      this.located = undefined;
      throw err;
    }
  }
}
