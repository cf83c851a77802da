/**
 * The Pulumi logical names of the resources that hold a service's data on AWS and take its
 * final snapshot: an RDS instance (postgresql), a DocumentDB cluster, an ElastiCache
 * replication group (redis). Shared by the program, which creates them, and the engine, which
 * finds them in the stack's checkpoint. No Pulumi import: the engine reads it without the SDK.
 */
import type { ServiceType } from '../../../../model/stage-model.js';

const SUFFIX: Partial<Record<ServiceType, string>> = { postgresql: 'db', documentdb: 'docdb', redis: 'redis' };

/** `svc-<name>-db` | `svc-<name>-docdb` | `svc-<name>-redis`; undefined for types without a database. */
export function databaseResourceName(service: string, type: ServiceType): string | undefined {
  const suffix = SUFFIX[type];
  return suffix === undefined ? undefined : `svc-${service}-${suffix}`;
}

/**
 * The recorded final snapshot identifier of each service (by service name), from the
 * checkpoint's identifiers by logical name.
 */
export function finalSnapshotsByService(services: Record<string, { type: ServiceType }>, byLogicalName: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(services).sort()) {
    const logical = databaseResourceName(name, services[name]!.type);
    const id = logical === undefined ? undefined : byLogicalName[logical];
    if (id !== undefined) out[name] = id;
  }
  return out;
}
