import { readFile, rm, lstat, realpath } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import type { ActualState } from '../../model/actual-state.js';
import type { ApplyIO, ApplyResult, Engine, EngineContext, LogsOptions, StageStatus } from '../engine.js';
import type { Change, Changeset } from '../../model/changeset.js';
import { refOf, stageKey, type ServiceType, type StageModel, type StageRef } from '../../model/stage-model.js';
import { StateStore } from '../../state/store.js';
import { secretDigests } from '../../state/secret-digests.js';
import { fileSystemError } from '../../state/fs-errors.js';
import { CanceledError, EngineError, SetopsError, throwIfAborted } from '../../errors.js';
import { localPaths, type LocalPaths } from './paths.js';
import { ensureSupervisor, findSupervisor, isStageSupervisor, readSupervisorInfo, type SupervisorLaunchOptions } from './launcher.js';
import { OWNER_ENV, type AppSpec, type PidRecord } from './protocol.js';
import { fromWire, type ControlClient } from './control.js';
import { buildAppSpecs } from './specs.js';
import { cmdlineOf, findByCwd, findMarked, isRecordedProcess, isRunning, terminateGroup, waitGone } from './proc.js';
import { writeAppLogs } from './logs.js';
import { observeRepairs, unsupervisedApps } from './observe.js';
import type { Timing } from './local-deps.js';
import { resolve } from 'node:path';

/** The local secret store, for the CLI (`--secrets FILE`, Organization `spec.secrets`). */
export { createSecretResolver } from './secrets.js';
import { scheduleSpecs } from './schedule-specs.js';

/** Options of the local engine beyond the EngineContext (tests and benchmarks). */
export interface LocalEngineOptions extends SupervisorLaunchOptions {}

/** The part of a change's subject that one apply step handles: `app/web` for `link/web/db` and `domain/web/x`. */
function ownerOf(subject: string): string {
  const [kind, a] = subject.split('/');
  if (kind === 'link' || kind === 'domain' || kind === 'schedule') return `app/${a}`;
  if (kind === 'app' || kind === 'service') return `${kind}/${a}`;
  return 'stage';
}

/**
 * The embedded local engine (`provider: local`): runs a stage on this machine through one
 * detached stage supervisor per stage (see `supervisor.ts`). The router port comes from
 * `opts.routerPort`, else `SETOPSD_ROUTER_PORT`, else the port recorded for the stage, else a free one.
 * Clock, sleep and environment come from `ctx.deps`; a supervisor it starts inherits `ctx.deps.env`.
 */
export function createLocalEngine(ctx: EngineContext, opts: LocalEngineOptions = {}): Engine {
  const store = new StateStore(ctx.stateDir);
  const envPort = Number(ctx.deps.env.SETOPSD_ROUTER_PORT ?? '');
  const launch: SupervisorLaunchOptions = { ...opts, ...(opts.routerPort === undefined && envPort > 0 ? { routerPort: envPort } : {}) };
  const pathsOf = (ref: StageRef) => localPaths(ctx.stateDir, ref);

  async function apply(desired: StageModel, changes: Changeset, io: ApplyIO): Promise<ApplyResult> {
    const ref = refOf(desired);
    const label = stageKey(ref);
    const paths = pathsOf(ref);
    const previous = await store.read(ref);
    // Nothing of this stage existed before: whatever a failed apply leaves was made by it alone.
    const fresh = previous.model === null && !existsSync(paths.localDir);
    const applied: Change[] = [];
    const bySubject = new Map<string, Change[]>();
    for (const c of changes.changes) {
      const owner = ownerOf(c.subject);
      bySubject.set(owner, [...(bySubject.get(owner) ?? []), c]);
    }
    let current: string | null = null;
    /** Every app at once (the supervisor bounds it); each one's progress as for `step`; throws the first failure. */
    const deployApps = async (client: ControlClient, specs: Record<string, AppSpec>, names: string[]): Promise<void> => {
      if (names.length === 0) return;
      const own = (name: string) => bySubject.get(`app/${name}`) ?? [];
      for (const name of names) for (const c of own(name)) io.progress({ subject: c.subject, status: 'started' });
      const reply = await client.putApps(names.map((n) => specs[n]!), io.signal, io.restart ?? []);
      let first: SetopsError | null = null;
      for (const name of names) {
        const r = reply.results[name];
        if (r === undefined || 'error' in r) {
          const error = r === undefined ? new EngineError(`app/${name} in ${label}: the supervisor did not deploy it`, { code: 'E_LOCAL_CONTROL' }) : fromWire(r.error);
          for (const subject of own(name).length > 0 ? own(name).map((c) => c.subject) : [`app/${name}`]) io.progress({ subject, status: 'failed', message: error.message });
          first ??= error;
          continue;
        }
        for (const c of own(name)) {
          io.progress({ subject: c.subject, status: 'succeeded' });
          applied.push(c);
        }
        const restarted = io.restart?.includes(name) === true && r.outcome === 'replaced';
        if (own(name).length === 0 && r.outcome !== 'unchanged') io.progress({ subject: `app/${name}`, status: 'succeeded', message: restarted ? 'restarted with new processes' : `${r.outcome} to match the desired state` });
      }
      if (first !== null) throw first;
    };

    const step = async (owner: string, fn: () => Promise<string | void>) => {
      current = owner;
      const own = bySubject.get(owner) ?? [];
      for (const c of own) io.progress({ subject: c.subject, status: 'started' });
      const outcome = await fn();
      for (const c of own) {
        io.progress({ subject: c.subject, status: 'succeeded' });
        applied.push(c);
      }
      if (own.length === 0 && outcome !== undefined && outcome !== 'unchanged') io.progress({ subject: owner, status: 'succeeded', message: `${outcome} to match the desired state` });
      current = null;
    };
    try {
      throwIfAborted(io.signal);
      const specs = await buildAppSpecs(desired, io.secrets, io.configRoot);
      throwIfAborted(io.signal);
      await step('stage', async () => {});
      const client = await ensureSupervisor(paths, ref, launch, ctx.deps, io.signal);
      if (launch.routerPort && client.info.routerPort !== launch.routerPort) {
        await client.moveRouter(launch.routerPort, io.signal);
      }
      const running = await client.status(io.signal);
      const deleteService = async (name: string, type: ServiceType): Promise<void> => {
        await client.deleteService(name, { type, dropData: io.allowDataLoss }, io.signal);
      };
      // Services first (apps link them), then apps, then what is gone: apps before services.
      for (const name of Object.keys(desired.services).sort()) {
        const svc = desired.services[name]!;
        await step(`service/${name}`, async () => {
          const before = previous.model?.services[name]?.type ?? running.services[name]?.type;
          if (before !== undefined && before !== svc.type) await deleteService(name, before);
          await client.putService({ name, type: svc.type, ...(svc.version ? { version: svc.version } : {}) }, io.signal);
        });
      }
      // Apps link services only, never each other: they start and pass health checks in parallel.
      await deployApps(client, specs, Object.keys(specs).sort());
      for (const name of Object.keys(specs).sort()) {
        await client.send('putSchedules', { params: { name }, body: { schedules: scheduleSpecs(desired.apps[name]!) } }, { signal: io.signal });
      }
      // Asked again now: a supervisor that just started has restored its recorded apps by now
      // (control calls run one at a time), so leftovers of an interrupted apply show up too.
      const nowRunning = await client.sync(io.signal);
      const goneApps = new Set([...Object.keys(previous.model?.apps ?? {}), ...Object.keys(nowRunning.apps)].filter((n) => !(n in desired.apps)));
      for (const name of [...goneApps].sort()) {
        await step(`app/${name}`, async () => {
          await client.send('putSchedules', { params: { name }, body: { schedules: [] } }, { signal: io.signal });
          await client.deleteApp(name, io.signal);
        });
      }
      const goneServices = new Map<string, ServiceType>();
      for (const [n, s] of Object.entries(nowRunning.services)) if (!(n in desired.services)) goneServices.set(n, s.type);
      for (const [n, s] of Object.entries(previous.model?.services ?? {})) if (!(n in desired.services)) goneServices.set(n, s.type);
      for (const name of [...goneServices.keys()].sort()) {
        await step(`service/${name}`, () => deleteService(name, goneServices.get(name)!));
      }
      for (const owner of bySubject.keys()) {
        if (owner === 'stage' || applied.some((c) => ownerOf(c.subject) === owner)) continue;
        // Changes with no local effect (notifications, stage settings) count as applied.
        for (const c of bySubject.get(owner)!) {
          io.progress({ subject: c.subject, status: 'succeeded' });
          applied.push(c);
        }
      }
      throwIfAborted(io.signal);
      // Digests of the secret values now running, so a rotated value shows in the next plan.
      const digests = await secretDigests(ctx.stateDir, desired, io.secrets);
      const serial = await store.write(ref, desired, { secretDigests: digests });
      return { status: 'succeeded', applied, actual: { model: desired, serial, secretDigests: digests } };
    } catch (err) {
      let error = asSetopsError(err, label, 'apply', paths);
      if (previous.model === null) error = await stopFailedFirstApply(error, paths, fresh, ctx.deps);
      if (current !== null) {
        const own = bySubject.get(current) ?? [];
        for (const subject of own.length > 0 ? own.map((c) => c.subject) : [current]) io.progress({ subject, status: 'failed', message: error.message });
      }
      // Debug only: the error travels in the result, and the CLI and the journal report it.
      io.log.debug({ code: error.code }, error.message);
      return { status: 'failed', applied, actual: await store.read(ref), error };
    }
  }

  async function destroy(ref: StageRef, io: ApplyIO): Promise<ApplyResult> {
    const label = stageKey(ref);
    const paths = pathsOf(ref);
    const previous = await store.read(ref);
    const applied: Change[] = [];
    try {
      throwIfAborted(io.signal);
      for (const name of Object.keys(previous.model?.apps ?? {}).sort()) io.progress({ subject: `app/${name}`, status: 'started' });
      await stopStage(paths, io.allowDataLoss, ctx.deps, io.signal);
      const deleted: Change[] = [
        ...Object.keys(previous.model?.apps ?? {}).sort().map((n): Change => ({ op: 'delete', subject: `app/${n}`, dataLoss: false, command: `setops --project ${ref.project} --stage ${ref.stage} app:destroy ${n}` })),
        ...Object.entries(previous.model?.services ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([n]): Change => ({ op: 'delete', subject: `service/${n}`, dataLoss: io.allowDataLoss, command: `setops --project ${ref.project} --stage ${ref.stage} service:destroy ${n}` })),
      ];
      for (const c of deleted) {
        io.progress({ subject: c.subject, status: 'succeeded', ...(c.subject.startsWith('service/') && !io.allowDataLoss ? { message: 'stopped; data kept (no --allow-data-loss)' } : {}) });
        applied.push(c);
      }
      const serial = await store.write(ref, null);
      return { status: 'succeeded', applied, actual: { model: null, serial } };
    } catch (err) {
      const error = asSetopsError(err, label, 'destroy', paths);
      return { status: 'failed', applied, actual: await store.read(ref), error };
    }
  }

  /** The recorded state, with what is observed not running as repairs (see `observe.ts`). */
  async function read(ref: StageRef): Promise<ActualState> {
    const recorded = await store.read(ref);
    if (recorded.model === null) return recorded;
    const repairs = await observeRepairs(pathsOf(ref), ref, recorded.model);
    return repairs.length > 0 ? { ...recorded, repairs } : recorded;
  }

  async function status(ref: StageRef, signal?: AbortSignal): Promise<StageStatus | null> {
    const paths = pathsOf(ref);
    const client = await findSupervisor(paths);
    if (client === null) {
      // Nothing runs: report the recorded stage as stopped (status never starts processes; apply does).
      const recorded = await store.read(ref);
      if (recorded.model === null) return null;
      const left = await unsupervisedApps(paths);
      const running = [...left.values()].flat().length;
      const out: StageStatus = {
        apps: {},
        services: {},
        notes: [
          `the stage supervisor is not running: the router is down${running > 0 ? ` and ${running} app process${running === 1 ? '' : 'es'} run${running === 1 ? 's' : ''} unsupervised` : ''}; \`setopsd apply\` repairs the stage (it adopts the processes still running)`,
        ],
      };
      for (const name of Object.keys(recorded.model.apps).sort()) {
        const pids = left.get(name) ?? [];
        out.apps[name] = { processes: [], note: pids.length > 0 ? `unsupervised: pid ${pids.join(', ')} (not routed, not restarted)` : 'not running' };
      }
      for (const name of Object.keys(recorded.model.services).sort()) out.services[name] = { type: recorded.model.services[name]!.type, status: 'stopped', detail: 'the stage supervisor is not running; setopsd apply repairs it' };
      return out;
    }
    const s = await client.status(signal);
    const out: StageStatus = { router: { url: `http://127.0.0.1:${s.routerPort}`, port: s.routerPort }, apps: {}, services: s.services };
    for (const name of Object.keys(s.apps).sort()) {
      const a = s.apps[name]!;
      out.apps[name] = {
        processes: a.processes.map((p) => ({ pid: p.pid, port: p.port, healthy: p.healthy, restarts: p.restarts, startedAt: p.startedAt })),
        ...(a.public && a.hosts.length > 0 ? { url: `http://${a.hosts[0]}:${s.routerPort}/` } : {}),
      };
    }
    return out;
  }

  async function logs(ref: StageRef, app: string, o: LogsOptions): Promise<void> {
    const recorded = await store.read(ref);
    const found = await writeAppLogs(pathsOf(ref), app, o, ctx.deps, () => recorded.model !== null && app in recorded.model.apps);
    if (!found) {
      const known = Object.keys(recorded.model?.apps ?? {}).sort();
      throw new EngineError(
        `app/${app} in ${stageKey(ref)}: no such app ${known.length > 0 ? `(apps: ${known.join(', ')})` : '(nothing is deployed in this stage)'}`,
        { code: 'E_NO_APP' },
      );
    }
  }

  return {
    name: 'local',
    read,
    apply,
    destroy,
    status,
    logs,
  };
}

/** An error of apply or destroy as a SetopsError whose message names the stage and what to do. */
function asSetopsError(err: unknown, label: string, operation: 'apply' | 'destroy', paths: LocalPaths): SetopsError {
  if (err instanceof SetopsError) return err;
  if ((err as Error)?.name === 'AbortError') return new CanceledError(`stage ${label}: ${operation} canceled`);
  const fsError = fileSystemError(err, `stage ${label}`);
  if (fsError !== null) return fsError;
  return new EngineError(
    `stage ${label}: the local engine could not ${operation}: ${(err as Error)?.message ?? String(err)}; see the logs in ${paths.logsDir}, fix the cause and ${operation} again`,
    { code: 'E_ENGINE', cause: err },
  );
}

/**
 * Stops every process of a stage: the supervisor (which stops what it runs), then whatever a
 * dead one left; forgets what ran. With `dropData` also removes every service's data.
 */
async function stopStage(paths: LocalPaths, dropData: boolean, deps: Timing, signal?: AbortSignal): Promise<void> {
  const client = await findSupervisor(paths);
  if (client !== null) {
    await client.shutdown({ dropData }, signal);
    await waitGone(client.info.pid, 30_000, deps);
  }
  await stopOrphans(paths, deps);
  await rm(paths.desiredFile, { force: true });
  await rm(paths.supervisorFile, { force: true });
  await rm(paths.pidsFile, { force: true });
  if (dropData) await removeServiceData(paths);
}

/**
 * A first deployment that failed had no previous version to keep serving: it stops everything
 * it started (supervisor, router, service servers), and removes the service data and
 * credentials when it created them itself (`fresh`), so nothing is left that `status` and
 * `destroy` do not know about. Returns the error with what was done.
 */
async function stopFailedFirstApply(error: SetopsError, paths: LocalPaths, fresh: boolean, deps: Timing): Promise<SetopsError> {
  let note = 'nothing was deployed before, so everything this apply started was stopped';
  try {
    // Not the apply's signal: it may be the abort that ended the apply, and cleaning up must finish.
    await stopStage(paths, fresh, deps);
  } catch (err) {
    note = `stopping what this first apply started failed too (${(err as Error).message}); \`setopsd destroy\` stops it`;
  }
  error.message = `${error.message}; ${note}`;
  return error;
}

/** Stops processes a dead supervisor left (recorded pids carrying this stage's marker, the postmaster). */
async function stopOrphans(paths: LocalPaths, deps: Timing): Promise<void> {
  const owner = resolve(paths.stageDir);
  let records: PidRecord[] = [];
  try {
    records = JSON.parse(await readFile(paths.pidsFile, 'utf8')) as PidRecord[];
  } catch {
    // none recorded
  }
  const supervisor = await readSupervisorInfo(paths);
  if (supervisor !== null && (await isStageSupervisor(supervisor.pid, paths))) await terminateGroup(supervisor.pid, 10_000, deps);
  const orphans = new Set<number>();
  for (const r of records) if (await isRecordedProcess(r, OWNER_ENV, owner)) orphans.add(r.pid);
  for (const m of await findMarked(OWNER_ENV, owner)) orphans.add(m.pid);
  for (const r of await findByCwd('redis-server', paths.redisDir)) orphans.add(r.pid);
  await Promise.all([...orphans].map((pid) => terminateGroup(pid, 10_000, deps)));
  try {
    const dir = await realpath(paths.postgresDir);
    const pid = Number((await readFile(`${dir}/postmaster.pid`, 'utf8')).split('\n')[0]);
    const cmd = (await cmdlineOf(pid)) ?? [];
    if ((await isRunning(pid)) && cmd.some((a) => a.includes('postgres'))) {
      process.kill(pid, 'SIGINT');
      await waitGone(pid, 20_000, deps);
    }
  } catch {
    // no cluster
  }
}

/** Removes every service's data of a stage (destroy with --allow-data-loss). */
async function removeServiceData(paths: LocalPaths): Promise<void> {
  try {
    if ((await lstat(paths.postgresDir)).isSymbolicLink()) {
      const outside = await realpath(paths.postgresDir);
      await rm(outside, { recursive: true, force: true });
      await rm(`${outside}.owner`, { force: true });
    }
  } catch {
    // not there
  }
  for (const p of [paths.postgresDir, paths.redisDir, paths.dataDir, paths.credentialsFile]) await rm(p, { recursive: true, force: true });
}
