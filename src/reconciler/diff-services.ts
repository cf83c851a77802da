import type { ServiceModel, StageRef } from '../model/stage-model.js';
import { STATEFUL_SERVICE_TYPES, stageKey } from '../model/stage-model.js';
import { PlanError } from '../errors.js';
import type { Change } from '../model/changeset.js';
import { makeChange } from './change.js';
import { leafDiff, pairKeys } from './diff-values.js';
import { andThen, noSetopsEquivalent, setops } from './setops-command.js';

/** Whether destroying a service of this type destroys stored data. */
export function isStateful(service: ServiceModel): boolean {
  return STATEFUL_SERVICE_TYPES.includes(service.type);
}

/** Changes of every service of a stage (unordered). Throws PlanError `E_VERSION_DOWNGRADE` on a major downgrade. */
export function diffServices(ref: StageRef, desired: Record<string, ServiceModel>, actual: Record<string, ServiceModel>): Change[] {
  const out: Change[] = [];
  const { added, removed, common } = pairKeys(actual, desired);
  for (const name of added) out.push(createService(ref, name, desired[name]!));
  for (const name of removed) out.push(deleteService(ref, name, actual[name]!));
  for (const name of common) out.push(...diffService(ref, name, desired[name]!, actual[name]!));
  return out;
}

function createCommand(ref: StageRef, name: string, service: ServiceModel): string {
  const words = ['service:create', name, '--type', service.type];
  if (service.version !== undefined) words.push('--version', service.version);
  if (service.plan !== undefined) words.push('--plan', service.plan);
  return setops(ref, {}, words);
}

/** `create service/NAME`. */
export function createService(ref: StageRef, name: string, service: ServiceModel): Change {
  return makeChange({ op: 'create', subject: `service/${name}`, command: createCommand(ref, name, service) });
}

/** `delete service/NAME`, data loss for stateful types. */
export function deleteService(ref: StageRef, name: string, actual: ServiceModel): Change {
  return makeChange({ op: 'delete', subject: `service/${name}`, dataLoss: isStateful(actual), command: setops(ref, {}, ['service:destroy', name]) });
}

/** Leading integer of a version string (`16`, `16.2`, `7.0`); undefined when there is none. */
export function majorVersion(version: string | undefined): number | undefined {
  if (version === undefined) return undefined;
  const m = /^\s*v?(\d+)/.exec(version);
  return m ? Number(m[1]) : undefined;
}

function diffService(ref: StageRef, name: string, desired: ServiceModel, actual: ServiceModel): Change[] {
  const subject = `service/${name}`;
  if (desired.type !== actual.type) {
    return [
      makeChange({
        op: 'replace',
        subject,
        path: 'type',
        before: actual.type,
        after: desired.type,
        dataLoss: isStateful(actual),
        reason: 'type cannot change in place',
        command: andThen(setops(ref, {}, ['service:destroy', name]), createCommand(ref, name, desired)),
      }),
    ];
  }
  const from = majorVersion(actual.version);
  const to = majorVersion(desired.version);
  if (from !== undefined && to !== undefined && to < from) {
    throw new PlanError(
      `service/${name} in ${stageKey(ref)}: version ${actual.version} → ${desired.version} is a major-version downgrade, which cannot be done in place; keep version ${actual.version}, or add a new service with version ${desired.version} and migrate the data`,
      { code: 'E_VERSION_DOWNGRADE', data: { stage: ref, service: name, before: actual.version, after: desired.version } },
    );
  }
  return leafDiff(actual, desired).map((f) =>
    makeChange({ op: 'update', subject, path: f.path, before: f.before, after: f.after, command: serviceFieldCommand(ref, name, f.path, f.after) }),
  );
}

function optionValue(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The SetOps command that sets one service field to its desired value (`undefined`: unset). */
export function serviceFieldCommand(ref: StageRef, name: string, path: string, after: unknown): string {
  const scope = { service: name };
  const set = (key: string): string =>
    after === undefined ? setops(ref, scope, ['option:unset', key]) : setops(ref, scope, ['option:set', key, optionValue(after)]);
  if (path === 'version' || path === 'plan') return set(path);
  if (path === 'backup.retentionDays') return set('backup_retention_days');
  if (path === 'backup.schedule') {
    // SetOps schedules a daily backup by hour; other cron schedules have no SetOps form.
    const daily = typeof after === 'string' ? /^0 (\d{1,2}) \* \* \*$/.exec(after) : null;
    if (daily) return setops(ref, scope, ['backup:schedule', '--hour', daily[1]!]);
    return noSetopsEquivalent(after === undefined ? 'backup schedule removed' : `backup schedule "${String(after)}" (the daemon takes the backups)`);
  }
  if (path === 'deletionProtection') return set('deletion_protection');
  if (path.startsWith('options.')) return set(path.slice('options.'.length));
  return noSetopsEquivalent(`service field ${path}`);
}
