import type { AppModel, LinkModel, ServiceType, StageModel } from '../../../model/stage-model.js';

/** The main env var of a link when the manifest names none, by service type. */
export const DEFAULT_LINK_KEYS: Record<ServiceType, string> = {
  postgresql: 'DATABASE_URL',
  redis: 'REDIS_URL',
  documentdb: 'MONGODB_URL',
  elasticsearch: 'ELASTICSEARCH_URL',
  s3: 'S3_BUCKET',
  volume: 'VOLUME_PATH',
};

/** The variable names one link injects: plain env vars and ECS secrets (values from Secrets Manager). */
export interface LinkKeys {
  /** The main variable (`envKey` or the type's default). */
  main: string;
  env: string[];
  secrets: string[];
}

/** `DATABASE_URL` → `DATABASE`, `S3_BUCKET` → `S3`, `SEARCH` → `SEARCH`. */
export function keyPrefix(main: string): string {
  return main.replace(/_(URL|BUCKET|PATH)$/, '');
}

/** Whether this postgresql link also gets the libpq variables (`PGHOST`… `PGPASSWORD`). */
export function isPrimaryPostgresLink(model: StageModel, app: AppModel, service: string): boolean {
  const pg = Object.keys(app.links)
    .filter((s) => model.services[s]?.type === 'postgresql')
    .sort();
  const byDefault = pg.filter((s) => (app.links[s]!.envKey ?? DEFAULT_LINK_KEYS.postgresql) === DEFAULT_LINK_KEYS.postgresql);
  if (byDefault.length > 0) return byDefault[0] === service;
  return pg.length === 1 && pg[0] === service;
}

/**
 * The names a link injects (pure; `links.ts` fills in the values). Passwords are never in a URL:
 * - postgresql: `<KEY>` (URL without password, `sslmode=require`), `<PREFIX>_PASSWORD` (secret);
 *   the primary postgresql link also gets `PGHOST PGPORT PGUSER PGDATABASE PGSSLMODE` and the
 *   secret `PGPASSWORD` (libpq and node-postgres read them when the URL has no password);
 * - redis: `<KEY>` (`rediss://host:6379`), `<PREFIX>_PASSWORD` (secret, the AUTH token);
 * - documentdb: `<KEY>` (`mongodb://setops@host:27017/?tls=true…`), `<PREFIX>_PASSWORD` (secret);
 * - elasticsearch: `<KEY>` (`https://endpoint`);
 * - s3: `<KEY>` (bucket name), `<PREFIX>_REGION`;
 * - volume: `<KEY>` (the mount path: the link's `path`, default `/mnt/<service>`).
 */
export function linkKeys(type: ServiceType, link: LinkModel, primaryPostgres: boolean): LinkKeys {
  const main = link.envKey ?? DEFAULT_LINK_KEYS[type];
  const prefix = keyPrefix(main);
  switch (type) {
    case 'postgresql':
      return primaryPostgres
        ? { main, env: [main, 'PGDATABASE', 'PGHOST', 'PGPORT', 'PGSSLMODE', 'PGUSER'], secrets: [`${prefix}_PASSWORD`, 'PGPASSWORD'] }
        : { main, env: [main], secrets: [`${prefix}_PASSWORD`] };
    case 'redis':
    case 'documentdb':
      return { main, env: [main], secrets: [`${prefix}_PASSWORD`] };
    case 's3':
      return { main, env: [main, `${prefix}_REGION`], secrets: [] };
    case 'elasticsearch':
    case 'volume':
      return { main, env: [main], secrets: [] };
  }
}

/** Variables the platform sets in every container (SetOps semantics). */
export const PLATFORM_KEYS = ['APP_ENV_ID', 'PORT', 'PROTOCOL'] as const;
