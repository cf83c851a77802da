import type { LinkModel, ServiceType } from '../../model/stage-model.js';

/** How an app reaches a running service; only the supervisor holds these (they carry passwords). */
export type Connection =
  | { type: 'postgresql'; host: string; port: number; user: string; password: string; database: string }
  | { type: 'redis'; host: string; port: number; password: string }
  | { type: 's3'; bucket: string; path: string }
  | { type: 'volume'; path: string };

/** The main env var a link of each type sets when it has no `envKey`. */
export const DEFAULT_ENV_KEY: Record<string, string> = {
  postgresql: 'DATABASE_URL',
  redis: 'REDIS_URL',
  s3: 'S3_BUCKET',
  volume: 'VOLUME_PATH',
};

/**
 * Link variables, the local engine's rule:
 * - postgresql → `DATABASE_URL` plus `PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE`;
 * - redis → `REDIS_URL`; s3 → `S3_BUCKET` (bucket name) and `S3_PATH` (its directory);
 * - volume → `VOLUME_PATH` (the directory; a link's `path` is the mount path inside a container
 *   and has no meaning for a local process).
 * A link with an `envKey` sets that variable instead of the default main one (s3: and `<envKey>_PATH`),
 * and no companion variables, so that several links of one type never overwrite each other.
 * At most one link per type may go without `envKey` (see `linkConflicts`).
 */
export function linkEnv(links: Record<string, LinkModel>, connections: Record<string, Connection>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of Object.keys(links).sort()) {
    const link = links[name]!;
    const c = connections[name];
    if (c === undefined) continue;
    const key = link.envKey;
    const isDefault = key === undefined || key === DEFAULT_ENV_KEY[c.type];
    switch (c.type) {
      case 'postgresql': {
        const url = `postgresql://${encodeURIComponent(c.user)}:${encodeURIComponent(c.password)}@${c.host}:${c.port}/${encodeURIComponent(c.database)}`;
        env[key ?? 'DATABASE_URL'] = url;
        if (isDefault) {
          env.PGHOST = c.host;
          env.PGPORT = String(c.port);
          env.PGUSER = c.user;
          env.PGPASSWORD = c.password;
          env.PGDATABASE = c.database;
        }
        break;
      }
      case 'redis':
        env[key ?? 'REDIS_URL'] = `redis://:${encodeURIComponent(c.password)}@${c.host}:${c.port}`;
        break;
      case 's3':
        env[key ?? 'S3_BUCKET'] = c.bucket;
        env[key === undefined ? 'S3_PATH' : `${key}_PATH`] = c.path;
        break;
      case 'volume':
        env[key ?? 'VOLUME_PATH'] = c.path;
        break;
    }
  }
  return env;
}

/**
 * Problems with an app's links for the local engine: a link to a service that does not exist or
 * whose type the local engine cannot run, and several links of one type without `envKey`.
 * Returns messages (without subject), empty when fine.
 */
export function linkProblems(links: Record<string, LinkModel>, types: Record<string, ServiceType>): string[] {
  const problems: string[] = [];
  const withoutKey = new Map<string, string[]>();
  for (const name of Object.keys(links).sort()) {
    const type = types[name];
    if (type === undefined) {
      problems.push(`link to service ${name}, which does not exist in this stage`);
      continue;
    }
    if (!(type in DEFAULT_ENV_KEY)) {
      problems.push(`link to service ${name} of type ${type}, which the local engine cannot run`);
      continue;
    }
    const key = links[name]!.envKey;
    if (key === undefined || key === DEFAULT_ENV_KEY[type]) withoutKey.set(type, [...(withoutKey.get(type) ?? []), name]);
  }
  for (const [type, names] of [...withoutKey.entries()].sort()) {
    if (names.length > 1) {
      problems.push(`links ${names.join(', ')} are all ${type} and would all set ${DEFAULT_ENV_KEY[type]}; set envKey on all but one of them`);
    }
  }
  return problems;
}
