import { join } from 'node:path';
import type { StageRef } from '../../model/stage-model.js';
import { LOGS_DIR, stageDir } from '../../state/paths.js';

/**
 * Where the local engine keeps a stage's runtime files, all under the stage directory:
 *
 *   local/supervisor.json   pid, control port and token of the stage supervisor (0600)
 *   local/router.json       the router port, kept stable across supervisor restarts
 *   local/desired.json      the last deployed app and service specs, with resolved env (0600)
 *   local/pids.json         every process the supervisor started, to find orphans
 *   local/credentials.json  generated service passwords (0600, never printed)
 *   local/postgres/         embedded PostgreSQL cluster
 *   local/redis/<service>/  redis-server data and config
 *   local/data/<service>/   s3 and volume services
 *   logs/<app>.<index>.log  one log file per app process; supervisor.log, postgres.log, redis-<service>.log
 */
export interface LocalPaths {
  stageDir: string;
  localDir: string;
  logsDir: string;
  supervisorFile: string;
  routerFile: string;
  desiredFile: string;
  pidsFile: string;
  credentialsFile: string;
  startLock: string;
  postgresDir: string;
  redisDir: string;
  dataDir: string;
  supervisorLog: string;
}

/** The local engine's runtime paths for one stage. */
export function localPaths(stateDir: string, ref: StageRef): LocalPaths {
  return localPathsIn(stageDir(stateDir, ref));
}

/** Same as `localPaths`, from the stage directory itself (the supervisor only knows that). */
export function localPathsIn(dir: string): LocalPaths {
  const localDir = join(dir, 'local');
  const logsDir = join(dir, LOGS_DIR);
  return {
    stageDir: dir,
    localDir,
    logsDir,
    supervisorFile: join(localDir, 'supervisor.json'),
    routerFile: join(localDir, 'router.json'),
    desiredFile: join(localDir, 'desired.json'),
    pidsFile: join(localDir, 'pids.json'),
    credentialsFile: join(localDir, 'credentials.json'),
    startLock: join(localDir, 'supervisor.start.lock'),
    postgresDir: join(localDir, 'postgres'),
    redisDir: join(localDir, 'redis'),
    dataDir: join(localDir, 'data'),
    supervisorLog: join(logsDir, 'supervisor.log'),
  };
}

/** Log file of one app process. */
export function processLogFile(paths: LocalPaths, app: string, index: number): string {
  return join(paths.logsDir, `${app}.${index}.log`);
}
