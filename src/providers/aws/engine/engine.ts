/**
 * The Pulumi engine (`provider: aws`): one Pulumi stack per stage, driven by the Automation API
 * with an inline program built from the stage's StageModel.
 *
 * - `read` returns the StageModel recorded as the stack output `setopsdStageModel`. For a file
 *   backend it reads the checkpoint file directly (no CLI, no passphrase: `setopsd plan` works
 *   where the CLI is absent); other backends use `pulumi stack export` (without
 *   `--show-secrets`: nothing is decrypted). Both give the same serial (see checkpoint.ts).
 *   After an update in which apps did not roll out (circuit-breaker rollback, failed pre-deploy
 *   task) the AWS program records those apps as they were, so the next plan shows them again.
 * - `preview`, `apply` (`up`), `destroy` and `refresh` need the CLI and, on DIY backends, the
 *   passphrase; engine events become plan lines and progress (events/translate.ts).
 * - `apply`: checks the stage's SSM parameters exist (ssm-parameters.ts); when an app with
 *   `preDeploy` is new or changed, updates with the running services pinned, runs the pre-deploy
 *   tasks (ecs-tasks.ts) and updates again; an update the ECS circuit breaker rolled back is a
 *   failed deployment (rollout.ts).
 * - `status`: the last update's stack outputs, no live AWS call (status.ts).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { hostname } from 'node:os';
import type { PulumiCommand, PulumiFn } from '@pulumi/pulumi/automation/index.js';
import { EngineError, SetopsError, throwIfAborted } from '../../../errors.js';
import { canonicalJson } from '../../../model/canonical.js';
import { refOf, stageKey, type StageModel, type StageRef } from '../../../model/stage-model.js';
import type { Changeset } from '../../../model/changeset.js';
import { StateStore } from '../../../state/store.js';
import type { ActualState } from '../../../model/actual-state.js';
import type { ApplyIO, ApplyResult, Engine, EngineContext, LogsOptions, ResourcePlan, StageStatus } from '../../engine.js';
import { checkpointPaths, parseMetaVersion, stackLocation, type StackLocation } from './backend.js';
import { MODEL_OUTPUT, modelFromOutputs, parseExport, readCheckpointFile, type DeploymentInfo, type PendingOperation } from './checkpoint.js';
import { locatePulumiCommand } from './cli.js';
import { isStackNotFound, mapPulumiError } from './errors.js';
import { progressFor } from './events/progress.js';
import { translateEvents } from './events/translate.js';
import type { EngineEventLike, Translation } from './events/types.js';
import { readLocks, stackCommand, type HostProbe } from './locks.js';
import { pidAlive } from '../../../pid.js';
import { tailLogGroup } from './logs.js';
import { passphraseEnv } from './passphrase.js';
import { openStack, runRaw, type OpenStack } from './workspace.js';
import type { ProgramOptions } from '../program/context.js';
import { recordedModel } from '../program/recorded-model.js';
import { statusFromOutputs } from './status.js';
import { appOutputs, heldFor, pinsFor, preDeployApps, rollbackError, rolledBackApps } from './rollout.js';
import type { TaskRunner } from './ecs-tasks.js';
import { awsClientSettings } from './aws-config.js';
import { missingParametersError } from './missing-secrets.js';
import type { ParameterChecker } from './ssm-parameters.js';
import { secretParameterNamesOf, secretParameters } from '../program/secret-parameters.js';

/**
 * Builds a stage's inline program (the AWS program's `stageProgram`). `opts` carries what the
 * engine decides per update: the previous model, pins and held apps of a pre-deploy phase.
 */
export type StageProgramFactory = (model: StageModel, opts?: ProgramOptions) => PulumiFn;

/** Options of the Pulumi engine; all optional, for tests and embedding. */
export interface PulumiEngineOptions {
  /** The CLI to drive (tests: a fake CLI through `PulumiCommand.get({ root })`). Default: found on PATH. */
  pulumiCommand?: PulumiCommand;
  /** The inline program; default: `stageProgram` from `src/providers/aws/program`. */
  program?: StageProgramFactory;
  /** Host name and pid probe for telling stale file-backend locks. */
  hostProbe?: HostProbe;
  /**
   * Resource plugins installed (`pulumi plugin install`, a no-op when present) before a preview
   * or an update. Default: the `aws` plugin matching the installed `@pulumi/aws` when the
   * default program is used, none with a custom `program`.
   */
  plugins?: { name: string; version: string }[];
  /**
   * Runs the one-off `preDeploy` tasks between the two updates of a rollout with migrations.
   * Default: ECS `RunTask` through `@aws-sdk/client-ecs` in the Organization's region.
   */
  taskRunner?: TaskRunner;
  /**
   * Checks that the SSM parameters of the stage's `{secret}` values exist before an update.
   * Default: SSM `GetParameters` (names only) through `@aws-sdk/client-ssm`.
   */
  parameterChecker?: ParameterChecker;
}

/** The `aws` resource plugin version the installed `@pulumi/aws` package needs. */
function awsPlugin(): { name: string; version: string } {
  const pkg = createRequire(import.meta.url)('@pulumi/aws/package.json') as { version: string; pulumi?: { name?: string; version?: string } };
  return { name: pkg.pulumi?.name ?? 'aws', version: `v${pkg.pulumi?.version ?? pkg.version}` };
}

const noopProgram: PulumiFn = async () => ({});

/** Pending-operation kinds (as Pulumi records them) of the step ops an interrupted run left open. */
const STEP_KIND: Record<string, string> = {
  create: 'creating',
  'create-replacement': 'creating',
  update: 'updating',
  delete: 'deleting',
  'delete-replaced': 'deleting',
  import: 'importing',
  read: 'reading',
};

async function defaultProgram(model: StageModel, opts: ProgramOptions): Promise<PulumiFn> {
  // Loaded only when a stage is previewed or applied: reads never load @pulumi/aws.
  const { stageProgram } = await import('../program/index.js');
  return stageProgram(model, opts);
}

/** The message and data of a stack with pending operations, with the commands that recover it. */
export function pendingOperationsError(subject: string, loc: StackLocation, pending: readonly PendingOperation[]): EngineError {
  const base = stackCommand(loc, 'refresh');
  const creates = pending.filter((p) => p.type === 'creating');
  const list = pending.map((p) => `${p.urn} (${p.type})`).join(', ');
  const steps = [
    `check these resources in the AWS console;`,
    creates.length > 0
      ? `for creates that did not happen run \`${base} --clear-pending-creates\`, for creates that did run \`${base} --import-pending-creates '${creates[0]!.urn}' --import-pending-creates <its AWS id>\` (one URN/id pair per resource);`
      : '',
    pending.length > creates.length ? `interrupted updates and deletes clear with \`${base}\`;` : '',
    'then run setopsd apply again',
  ].filter(Boolean);
  return new EngineError(
    `${subject}: an interrupted Pulumi run left ${pending.length} pending operation(s): ${list}. ${steps.join(' ')}`,
    {
      code: 'E_PULUMI_PENDING_OPERATIONS',
      data: { pending: pending.map((p) => ({ ...p })), refresh: base },
    },
  );
}

/**
 * Pulumi's resource counts (`summaryEvent.resourceChanges`) as `resources.<op>` keys: the journal
 * merges them into the deployment summary, whose plain `create`/`update`/… keys count the
 * setopsd changeset.
 */
export function resourceSummary(t: Translation): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [op, n] of Object.entries(t.summary)) out[`resources.${op}`] = n;
  return out;
}

/** Logs a run's outcome and the engine's warnings (e.g. pending operations from an earlier run). */
function logRun(io: ApplyIO, ref: StageRef, operation: string, t: Translation, error: SetopsError | undefined): void {
  for (const d of t.diagnostics) {
    if (d.severity === 'warning') io.log.warn({ stage: stageKey(ref), ...(d.subject ? { resource: d.subject } : {}) }, d.message);
  }
  io.log.info({ stage: stageKey(ref), summary: t.summary, outcome: error ? 'failed' : t.outcome }, `pulumi ${operation} finished`);
}

/** `err` when it is a SetopsError (it says what to do), else an EngineError with `message`. */
function orEngineError(err: unknown, message: string): SetopsError {
  return err instanceof SetopsError ? err : new EngineError(message, { code: 'E_ENGINE', cause: err });
}

/** Engine events of an update or destroy as the apply's progress. */
const progressTo =
  (io: ApplyIO) =>
  (e: EngineEventLike): void => {
    for (const p of progressFor(e)) io.progress(p);
  };

/** Creates the Pulumi engine for an organization with `provider: aws`. */
export function createPulumiEngine(ctx: EngineContext, opts: PulumiEngineOptions = {}): Engine {
  const env = ctx.deps.env;
  const region = ctx.organization.aws?.region;
  const probe: HostProbe = opts.hostProbe ?? { hostname: hostname(), isAlive: pidAlive };
  let located: Promise<PulumiCommand> | undefined;

  const locOf = (ref: StageRef): StackLocation => stackLocation(ctx.stateDir, ctx.organization, ref, ctx.deps.cwd);
  const subjectOf = (ref: StageRef): string => `stage ${stageKey(ref)}`;

  const cli = async (operation: string): Promise<PulumiCommand> => {
    if (opts.pulumiCommand) return opts.pulumiCommand;
    located ??= locatePulumiCommand(env, operation);
    try {
      return await located;
    } catch (err) {
      located = undefined;
      throw err;
    }
  };

  const programFor = async (desired: StageModel, programOpts: ProgramOptions = {}): Promise<PulumiFn> => {
    const inner = opts.program ? opts.program(desired, programOpts) : await defaultProgram(desired, programOpts);
    const model = canonicalJson(desired);
    // The engine guarantees the model output that `read` relies on; the AWS program sets it
    // itself (apps that did not roll out are recorded as they were, see recorded-model.ts).
    return async () => {
      const outputs = (await inner()) ?? {};
      return MODEL_OUTPUT in outputs ? outputs : { ...outputs, [MODEL_OUTPUT]: model };
    };
  };

  let plugins: { name: string; version: string }[] | undefined = opts.plugins;
  const open = async (ref: StageRef, operation: string, program: PulumiFn, create: boolean): Promise<OpenStack> => {
    const loc = locOf(ref);
    const pulumiCommand = await cli(`${operation} of ${subjectOf(ref)}`);
    const secretsEnv = await passphraseEnv(env, loc.backend, subjectOf(ref));
    const spec = { loc, pulumiCommand, program, env, secretsEnv, create, ...(region ? { region } : {}) };
    const opened = await openStack(spec);
    if (operation === 'preview' || operation === 'up') {
      // Inline programs report no required plugins: install the provider explicitly.
      plugins ??= opts.program ? [] : [awsPlugin()];
      for (const p of plugins) await opened.stack.workspace.installPlugin(p.name, p.version);
    }
    return opened;
  };

  const errorContext = (ref: StageRef, operation: string, signal: AbortSignal | undefined, translation?: Translation) => {
    const loc = locOf(ref);
    return {
      subject: subjectOf(ref),
      operation,
      loc,
      ...(signal ? { signal } : {}),
      ...(translation ? { translation } : {}),
      locks: () => readLocks(loc, probe),
      probe,
    };
  };

  /** The recorded deployment: checkpoint file for file backends, `stack export` otherwise. */
  const deployment = async (ref: StageRef, signal?: AbortSignal): Promise<DeploymentInfo | null> => {
    throwIfAborted(signal);
    const loc = locOf(ref);
    if (loc.backend.kind === 'file' && loc.backend.root) {
      const meta = await readFile(join(loc.backend.root, '.pulumi', 'meta.yaml'), 'utf8').catch(() => '');
      return readCheckpointFile(checkpointPaths(loc.backend.root, loc.project, loc.stack, parseMetaVersion(meta)));
    }
    let opened: OpenStack;
    try {
      const pulumiCommand = await cli(`reading ${subjectOf(ref)} from ${loc.backend.url}`);
      const secretsEnv = await passphraseEnv(env, loc.backend, subjectOf(ref)).catch(() => ({}));
      opened = await openStack({ loc, pulumiCommand, program: noopProgram, env, secretsEnv, create: false });
    } catch (err) {
      if (isStackNotFound(err)) return null;
      throw await mapPulumiError(err, errorContext(ref, 'read', signal));
    }
    try {
      const { stdout } = await runRaw(opened, ['stack', 'export', '--stack', loc.stack], signal);
      return parseExport(stdout, `${loc.backend.url} stack ${loc.project}/${loc.stack}`);
    } catch (err) {
      if (err instanceof SetopsError) throw err;
      throw await mapPulumiError(err, errorContext(ref, 'read', signal));
    }
  };

  /** The StageModel a recorded deployment carries (its `setopsdStageModel` output). */
  const modelOf = (ref: StageRef, info: DeploymentInfo): StageModel | null =>
    modelFromOutputs(info.outputs, `${subjectOf(ref)} (${locOf(ref).backend.url})`);

  /** The actual state a recorded deployment (or none) stands for. */
  const actualOf = (ref: StageRef, info: DeploymentInfo | null): ActualState =>
    info ? { model: modelOf(ref, info), serial: info.serial } : { model: null, serial: null };

  const read = async (ref: StageRef, signal?: AbortSignal): Promise<ActualState> => actualOf(ref, await deployment(ref, signal));

  /** Runs one stack operation with events; returns the translation and the mapped error, if any. */
  const run = async (
    ref: StageRef,
    operation: 'preview' | 'up' | 'destroy' | 'refresh',
    opened: OpenStack,
    signal: AbortSignal | undefined,
    onProgress: ((e: EngineEventLike) => void) | undefined,
    message?: string,
  ): Promise<{ translation: Translation; error?: SetopsError }> => {
    const events: EngineEventLike[] = [];
    const onEvent = (e: unknown): void => {
      events.push(e as EngineEventLike);
      onProgress?.(e as EngineEventLike);
    };
    const base = { onEvent, ...(signal ? { signal } : {}) };
    try {
      // The SDK only listens for an abort once the CLI runs: an abort during the setup
      // steps before must stop here.
      throwIfAborted(signal);
      if (operation === 'preview') await opened.stack.preview(base);
      else if (operation === 'up') await opened.stack.up({ ...base, ...(message ? { message } : {}) });
      else if (operation === 'destroy') await opened.stack.destroy({ ...base, ...(message ? { message } : {}) });
      else await opened.stack.refresh(base);
      return { translation: translateEvents(events) };
    } catch (err) {
      const translation = translateEvents(events);
      return { translation, error: await mapPulumiError(err, errorContext(ref, operation, signal, translation)) };
    }
  };

  let taskRunner: TaskRunner | undefined = opts.taskRunner;
  const tasks = async (): Promise<TaskRunner> => {
    if (taskRunner) return taskRunner;
    // Loaded only when a pre-deploy task runs.
    const { createEcsTaskRunner } = await import('./ecs-tasks.js');
    taskRunner = createEcsTaskRunner({ sleep: ctx.deps.sleep, client: awsClientSettings(env, 'ECS', region) });
    return taskRunner;
  };

  let parameterChecker: ParameterChecker | undefined = opts.parameterChecker;
  /** The stage's `{secret}` parameters that do not exist, as the error to fail with before anything changes. */
  const checkSecrets = async (desired: StageModel, signal: AbortSignal): Promise<SetopsError | undefined> => {
    const ref = refOf(desired);
    const params = secretParameters(desired);
    if (params.length === 0) return undefined;
    if (!parameterChecker) {
      // Loaded only when a stage has secrets.
      const { createSsmParameterChecker } = await import('./ssm-parameters.js');
      parameterChecker = createSsmParameterChecker({ client: awsClientSettings(env, 'SSM', region) });
    }
    try {
      const missing = await parameterChecker.missing(secretParameterNamesOf(params), subjectOf(ref), signal);
      return missing.length > 0 ? missingParametersError(ref, params, missing, region) : undefined;
    } catch (err) {
      return orEngineError(err, `${subjectOf(ref)}: cannot check the SSM parameters: ${(err as Error).message}; nothing was changed. Check the AWS credentials and region, then apply again`);
    }
  };

  /**
   * Runs the `preDeploy` task of each app in `apps` (in order) with the task definitions and
   * network the first, pinned update recorded; stops at the first that fails. Returns the error.
   */
  const runPreDeploy = async (ref: StageRef, apps: readonly string[], io: ApplyIO): Promise<SetopsError | undefined> => {
    let outputs: Record<string, unknown>;
    try {
      outputs = (await deployment(ref, io.signal))?.outputs ?? {};
    } catch (err) {
      return orEngineError(err, `${subjectOf(ref)}: cannot read the stack outputs: ${(err as Error).message}; the services were not updated. Apply again`);
    }
    const defs = (outputs.preDeployTaskDefinitions ?? {}) as Record<string, unknown>;
    const net = (outputs.taskNetwork ?? {}) as { subnets?: unknown; securityGroups?: Record<string, unknown>; assignPublicIp?: unknown };
    const logGroups = appOutputs(outputs);
    for (const app of apps) {
      const subject = `app/${app} in ${stageKey(ref)}`;
      const taskDefinition = defs[app];
      const securityGroups = net.securityGroups?.[app];
      if (typeof taskDefinition !== 'string' || typeof outputs.cluster !== 'string' || !Array.isArray(net.subnets) || !Array.isArray(securityGroups)) {
        return new EngineError(`${subject}: the stack records no pre-deploy task definition or task network for this app (outputs preDeployTaskDefinitions, taskNetwork, cluster); nothing was rolled out. Apply again; if it persists this is a bug`, {
          code: 'E_AWS_PREDEPLOY',
        });
      }
      io.progress({ subject: `app/${app}`, status: 'started', message: 'pre-deploy task' });
      let res;
      try {
        res = await (await tasks()).run(
          {
            subject,
            cluster: outputs.cluster,
            taskDefinition,
            container: app,
            subnets: net.subnets as string[],
            securityGroups: securityGroups as string[],
            assignPublicIp: net.assignPublicIp === true,
            logStreamPrefix: 'predeploy',
          },
          io.signal,
        );
      } catch (err) {
        io.progress({ subject: `app/${app}`, status: 'failed', message: 'pre-deploy task' });
        return orEngineError(err, `${subject}: the pre-deploy task could not be run: ${(err as Error).message}; the services were not updated. Check the AWS credentials and the ECS cluster, then apply again`);
      }
      if (res.exitCode === 0) {
        io.progress({ subject: `app/${app}`, status: 'succeeded', message: 'pre-deploy task exited with 0' });
        continue;
      }
      io.progress({ subject: `app/${app}`, status: 'failed', message: res.exitCode === null ? 'pre-deploy task did not run' : `pre-deploy task exited with ${res.exitCode}` });
      const logGroup = logGroups[app]?.logGroup;
      const where =
        logGroup && res.logStream
          ? ` See its output with \`aws logs tail ${logGroup} --log-stream-names ${res.logStream}\`,`
          : ' See its output with `setopsd logs` for this app,';
      const what = res.exitCode === null ? `the pre-deploy task did not run (${res.reason})` : `the pre-deploy command exited with code ${res.exitCode} (${res.reason})`;
      return new EngineError(
        `${subject}: ${what}; the services were not updated and the previous version keeps serving.${where} fix it and apply again`,
        {
          // A command that ran and failed needs a fix; a task that could not start may next time.
          code: res.exitCode === null ? 'E_AWS_PREDEPLOY_NOT_STARTED' : 'E_AWS_PREDEPLOY_FAILED',
          data: { app, exitCode: res.exitCode, reason: res.reason, ...(res.taskArn ? { taskArn: res.taskArn } : {}), ...(res.logStream ? { logStream: res.logStream } : {}) },
        },
      );
    }
    return undefined;
  };

  const deploymentMessage = (io: ApplyIO): string =>
    `setopsd deployment #${io.deployment.number}${io.deployment.commit ? ` of ${io.deployment.commit.slice(0, 12)}` : ''} (${io.deployment.trigger})`;

  const finish = async (
    ref: StageRef,
    translations: Translation | Translation[],
    error: SetopsError | undefined,
    fallback: ActualState,
    destroying = false,
    rollout?: { desired: StageModel; previous: StageModel | null },
  ): Promise<ApplyResult> => {
    const loc = locOf(ref);
    const runs = Array.isArray(translations) ? translations : [translations];
    const translation = runs[runs.length - 1]!;
    // undefined: the state after the run could not be read.
    const recorded = await deployment(ref).catch(() => undefined);
    let err = error;
    if (translation.outcome === 'interrupted' && translation.pending.length > 0 && (!err || err.code !== 'E_CANCELED')) {
      // Prefer the pending operations Pulumi recorded (they carry the URN and the kind).
      const pending = recorded?.pendingOperations.length
        ? recorded.pendingOperations
        : translation.pendingSteps.map((p) => ({ urn: p.urn, type: STEP_KIND[p.op] ?? p.op }));
      err = pendingOperationsError(subjectOf(ref), loc, pending);
    }
    let actual = fallback;
    let outputs: Record<string, unknown> | null = null;
    if (recorded !== undefined) {
      try {
        outputs = recorded?.outputs ?? null;
        actual = actualOf(ref, recorded);
      } catch {
        // Keep the state read before the run; the error below says what went wrong.
      }
    }
    let indexed = actual;
    if (!err && rollout) {
      // Pulumi reports an update the ECS circuit breaker rolled back as a success.
      const rolled = rolledBackApps(outputs);
      if (rolled.length > 0) {
        err = rollbackError(ref, rolled, outputs);
        // Never index the desired model as applied; the AWS program records the same in the stack.
        const held = recordedModel(rollout.desired, rollout.previous, rolled);
        if (canonicalJson(actual.model) === canonicalJson(rollout.desired)) indexed = { ...actual, model: held };
      }
    }
    const applied = runs.flatMap((r) => r.changes.filter((c) => r.completed.includes(c.subject)));
    const summary: Record<string, number> = {};
    for (const r of runs) for (const [k, n] of Object.entries(resourceSummary(r))) summary[k] = (summary[k] ?? 0) + n;
    const result: ApplyResult = { status: err ? 'failed' : 'succeeded', applied, actual, summary };
    if (err) result.error = err;
    await index(ref, indexed, destroying && !err);
    return result;
  };

  /**
   * Keeps the state directory's index of stages (`state.json`, the StateStore) in step with the
   * stack, so every command that lists recorded stages sees AWS stages too: a stage removed from
   * the manifests is planned as a delete instead of leaving its AWS resources behind. Pulumi's
   * state stays the source of truth (`read`); the index never decides what is deployed.
   */
  const index = async (ref: StageRef, actual: ActualState, destroyed: boolean): Promise<void> => {
    if (!destroyed && actual.model === null) return;
    try {
      const store = new StateStore(ctx.stateDir);
      const current = await store.read(ref);
      const model = destroyed ? null : actual.model;
      if (canonicalJson(current.model) !== canonicalJson(model)) await store.write(ref, model);
    } catch (err) {
      ctx.deps.log.warn({ stage: stageKey(ref), err: (err as Error).message }, 'could not update the stage index in the state directory');
    }
  };


  /** One `pulumi up` of the stage's program; `failed` when the stack could not even be opened. */
  const update = async (
    ref: StageRef,
    desired: StageModel,
    programOpts: ProgramOptions,
    io: ApplyIO,
    message: string,
  ): Promise<{ translation: Translation; error?: SetopsError } | { failed: Omit<ApplyResult, 'actual'> }> => {
    let opened: OpenStack;
    try {
      opened = await open(ref, 'up', await programFor(desired, programOpts), true);
    } catch (err) {
      const error = await mapPulumiError(err, errorContext(ref, 'up', io.signal));
      return { failed: { status: 'failed', applied: [], error } };
    }
    return run(ref, 'up', opened, io.signal, progressTo(io), message);
  };

  const engine: Engine = {
    name: 'pulumi',

    read,

    async preview(desired: StageModel, _actual: ActualState, signal?: AbortSignal): Promise<ResourcePlan> {
      const ref = refOf(desired);
      throwIfAborted(signal);
      let opened: OpenStack;
      try {
        opened = await open(ref, 'preview', await programFor(desired), true);
      } catch (err) {
        throw await mapPulumiError(err, errorContext(ref, 'preview', signal));
      }
      const { translation, error } = await run(ref, 'preview', opened, signal, undefined);
      if (error) throw error;
      return { changes: translation.changes };
    },

    async apply(desired: StageModel, _changes: Changeset, io: ApplyIO): Promise<ApplyResult> {
      const ref = refOf(desired);
      throwIfAborted(io.signal);
      const loc = locOf(ref);
      const before = await deployment(ref, io.signal);
      const previous = actualOf(ref, before);
      if (before && before.pendingOperations.length > 0) {
        return { status: 'failed', applied: [], actual: previous, error: pendingOperationsError(subjectOf(ref), loc, before.pendingOperations) };
      }
      // ECS reads secrets only when a task starts: check them before anything changes.
      const secretsError = await checkSecrets(desired, io.signal);
      if (secretsError) return { status: 'failed', applied: [], actual: previous, error: secretsError };
      const rollout = { desired, previous: previous.model };
      const programOpts: ProgramOptions = previous.model ? { previousModel: previous.model } : {};
      const migrating = preDeployApps(desired, previous.model);
      const runs: Translation[] = [];
      if (migrating.length > 0) {
        // Two phases: register the new task definitions with every running service pinned to
        // its revision (new apps held at 0 tasks), run the pre-deploy tasks, then roll out.
        const pinnedTaskDefinitions = pinsFor(desired, before?.outputs);
        const heldApps = heldFor(desired, previous.model, pinnedTaskDefinitions);
        const pinned: ProgramOptions = { ...programOpts, pinnedTaskDefinitions, ...(heldApps.length > 0 ? { heldApps } : {}) };
        const first = await update(ref, desired, pinned, io, `${deploymentMessage(io)}: new task definitions, services held for pre-deploy`);
        if ('failed' in first) return { ...first.failed, actual: previous };
        logRun(io, ref, 'up', first.translation, first.error);
        if (first.error) return finish(ref, first.translation, first.error, previous);
        runs.push(first.translation);
        const failed = await runPreDeploy(ref, migrating, io);
        if (failed) return finish(ref, runs, failed, previous);
      }
      const up = await update(ref, desired, programOpts, io, deploymentMessage(io));
      if ('failed' in up) return runs.length > 0 ? finish(ref, runs, up.failed.error, previous) : { ...up.failed, actual: previous };
      logRun(io, ref, 'up', up.translation, up.error);
      return finish(ref, [...runs, up.translation], up.error, previous, false, rollout);
    },

    async destroy(ref: StageRef, io: ApplyIO): Promise<ApplyResult> {
      throwIfAborted(io.signal);
      const before = await read(ref, io.signal);
      let opened: OpenStack;
      try {
        opened = await open(ref, 'destroy', noopProgram, false);
      } catch (err) {
        if (isStackNotFound(err)) {
          await index(ref, { model: null, serial: null }, true);
          return { status: 'succeeded', applied: [], actual: { model: null, serial: null } };
        }
        const error = await mapPulumiError(err, errorContext(ref, 'destroy', io.signal));
        return { status: 'failed', applied: [], actual: before, error };
      }
      const { translation, error } = await run(ref, 'destroy', opened, io.signal, progressTo(io), deploymentMessage(io));
      logRun(io, ref, 'destroy', translation, error);
      return finish(ref, translation, error, before, true);
    },

    async status(ref: StageRef, signal?: AbortSignal): Promise<StageStatus | null> {
      // From the recorded stack outputs (checkpoint file or `stack export`): no live AWS calls.
      const info = await deployment(ref, signal);
      if (!info || info.serial === null) return null;
      return statusFromOutputs(info.outputs, modelOf(ref, info));
    },

    async logs(ref: StageRef, app: string, opts: LogsOptions): Promise<void> {
      const subject = `app/${app} in ${stageKey(ref)}`;
      const info = await deployment(ref, opts.signal);
      const apps = info?.outputs?.apps as Record<string, { logGroup?: unknown }> | undefined;
      const logGroup = apps?.[app]?.logGroup;
      if (typeof logGroup !== 'string' || logGroup === '') {
        throw new EngineError(`${subject}: the stack records no log group for this app; apply the stage first`, {
          code: 'E_NOT_DEPLOYED',
        });
      }
      await tailLogGroup({ ...opts, subject, logGroup, env, ...(region ? { region } : {}) });
    },

    async refresh(ref: StageRef, signal?: AbortSignal): Promise<ActualState> {
      throwIfAborted(signal);
      let opened: OpenStack;
      try {
        opened = await open(ref, 'refresh', noopProgram, false);
      } catch (err) {
        if (isStackNotFound(err)) return { model: null, serial: null };
        throw await mapPulumiError(err, errorContext(ref, 'refresh', signal));
      }
      const { translation, error } = await run(ref, 'refresh', opened, signal, undefined);
      if (error) throw error;
      if (translation.changes.length > 0) {
        ctx.deps.log.warn({ stage: stageKey(ref), drift: translation.changes.map((c) => `${c.op} ${c.subject}${c.reason ? ` (${c.reason})` : ''}`) }, 'pulumi refresh found drift');
      }
      return { ...(await read(ref, signal)), drift: translation.changes };
    },
  };
  return engine;
}
