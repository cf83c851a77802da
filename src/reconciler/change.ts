import type { Change, Op } from '../model/changeset.js';

/** Builds a Change, leaving out absent optional fields so JSON output has no `undefined` keys. */
export function makeChange(fields: {
  op: Op;
  subject: string;
  path?: string;
  before?: unknown;
  after?: unknown;
  dataLoss?: boolean;
  command: string;
  reason?: string;
}): Change {
  const change: Change = { op: fields.op, subject: fields.subject, dataLoss: fields.dataLoss ?? false, command: fields.command };
  if (fields.path !== undefined) change.path = fields.path;
  if (fields.before !== undefined) change.before = fields.before;
  if (fields.after !== undefined) change.after = fields.after;
  if (fields.reason !== undefined) change.reason = fields.reason;
  return change;
}
