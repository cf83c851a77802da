/**
 * Name rules that come from the AWS identifiers engines derive from manifest names. Service
 * names become part of RDS DB instance, DocumentDB cluster and ElastiCache replication group
 * identifiers and of RDS parameter group names, which AWS refuses with two hyphens in a row or a
 * trailing hyphen; so a service name has neither, on every engine (a stage can move between them).
 */

/** A service name: lowercase letter first, then lowercase letters and digits, single hyphens between them. */
export const SERVICE_NAME_PATTERN = '^[a-z](?:-?[a-z0-9])*$';

/** The message of a service name that breaks `SERVICE_NAME_PATTERN`, with the AWS rule behind it. */
export const SERVICE_NAME_MESSAGE =
  'must be lowercase letters, digits and single "-", starting with a letter and not ending with "-" (e.g. "orders-db"): ' +
  'AWS RDS, DocumentDB and ElastiCache identifiers allow no "--" and no trailing "-"';
