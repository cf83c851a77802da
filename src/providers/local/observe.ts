import type { Change } from '../../model/changeset.js';
import type { StageModel, StageRef } from '../../model/stage-model.js';
import { findSupervisor, readSupervisorInfo } from './launcher.js';
import type { LocalPaths } from './paths.js';
import { OWNER_ENV } from './protocol.js';
import { findMarked } from './proc.js';
import { resolve } from 'node:path';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';

/** Service types that have a server process (s3 and volume are directories). */
const SERVER_TYPES = new Set(['postgresql', 'redis']);

/** What runs of a stage without a supervisor: the app processes left running, by app. */
export async function unsupervisedApps(paths: LocalPaths): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const m of await findMarked(OWNER_ENV, resolve(paths.stageDir))) {
    const app = /^app\/([^/]+)\/\d+$/.exec(m.role)?.[1];
    if (app !== undefined) out.set(app, [...(out.get(app) ?? []), m.pid]);
  }
  return out;
}

/** The router port recorded for the stage, or null before the first start. */
export async function recordedRouterPort(paths: LocalPaths): Promise<number | null> {
  try {
    return (JSON.parse(await readFile(paths.routerFile, 'utf8')) as { port: number }).port ?? null;
  } catch {
    return null;
  }
}

function repair(ref: StageRef, subject: string, path: string, before: string, reason: string): Change {
  return { op: 'update', subject, path, before, after: 'running', dataLoss: false, command: `# no SetOps equivalent: setopsd apply --stage ${ref.project}/${ref.stage} (repair)`, reason };
}

/**
 * What of a recorded stage is observed not running (pure reads, never starts or stops anything)
 * once its supervisor has run here (`router.json` or `supervisor.json` exist):
 * no answering stage supervisor (so no router and no supervision), or a service server the
 * supervisor observes down (its process gone, or not accepting connections). Each is a repair change the next apply performs: the supervisor is
 * started again and adopts the processes that still run.
 */
export async function observeRepairs(paths: LocalPaths, ref: StageRef, model: StageModel): Promise<Change[]> {
  const apps = Object.keys(model.apps).sort();
  const servers = Object.keys(model.services).sort().filter((n) => SERVER_TYPES.has(model.services[n]!.type));
  if (apps.length === 0 && servers.length === 0) return [];
  // A stage this engine never ran here (a recorded state brought from elsewhere) has nothing to repair.
  if (!existsSync(paths.routerFile) && !existsSync(paths.supervisorFile)) return [];
  const client = await findSupervisor(paths);
  if (client === null) {
    const info = await readSupervisorInfo(paths);
    const port = info?.routerPort ?? (await recordedRouterPort(paths));
    const left = await unsupervisedApps(paths);
    const routed = apps.filter((n) => model.apps[n]!.public);
    return [
      repair(ref, 'stage', 'supervisor', 'not running',
        `the stage supervisor${info ? ` (pid ${info.pid})` : ''} is not running${routed.length > 0 ? `, so the router${port ? ` on 127.0.0.1:${port}` : ''} is down` : ''}; apply starts it and adopts the processes still running`),
      ...apps.map((n) => {
        const count = left.get(n)?.length ?? 0;
        return repair(ref, `app/${n}`, 'processes', count > 0 ? 'unsupervised' : 'stopped',
          count > 0 ? `${count} process${count === 1 ? '' : 'es'} still run${count === 1 ? 's' : ''} without a supervisor (no restarts, no health checks)` : 'no process runs');
      }),
      ...servers.map((n) => repair(ref, `service/${n}`, 'server', 'unsupervised', `its ${model.services[n]!.type} server is not supervised`)),
    ];
  }
  const report = await client.status().catch(() => null);
  if (report === null) return [repair(ref, 'stage', 'supervisor', 'not answering', `the stage supervisor (pid ${client.info.pid}) does not answer; apply replaces it`)];
  return servers
    .filter((n) => report.services[n]?.status !== 'running')
    .map((n) => {
      const seen = report.services[n];
      const state = seen?.status === 'stopped' ? 'down' : (seen?.status ?? 'missing');
      // The supervisor observes the server (process alive, accepts connections); its detail says why it is down.
      const why = seen?.detail !== undefined ? seen.detail.replace(/; setopsd apply .*$/, '') : `the supervisor reports it ${state}`;
      return repair(ref, `service/${n}`, 'server', state, `its ${model.services[n]!.type} server is down: ${why}; apply starts it again with its data`);
    });
}
