import type { NotificationModel, StageModel, StageRef } from '../model/stage-model.js';
import type { Change } from '../model/changeset.js';
import { makeChange } from './change.js';
import { diffKeyed, leafDiff } from './diff-values.js';
import { isStateful } from './diff-services.js';
import { andThen, noSetopsEquivalent, setops, setopsProject } from './setops-command.js';

/** Stage-level fields that cannot change in place: changing one replaces the whole stage. */
const STAGE_REPLACE_FIELDS: Record<string, string> = {
  'organization.name': 'the organization cannot change in place',
  'organization.provider': 'the provider (engine) cannot change in place',
  'organization.aws.region': 'the AWS region cannot change in place',
  'organization.aws.accountId': 'the AWS account cannot change in place',
};

/** `create stage`. */
export function createStage(ref: StageRef): Change {
  return makeChange({ op: 'create', subject: 'stage', command: setopsProject(ref, ['stage:create', ref.stage]) });
}

/** `delete stage`: data loss when the stage has stateful services. */
export function deleteStage(ref: StageRef, actual: StageModel): Change {
  return makeChange({
    op: 'delete',
    subject: 'stage',
    dataLoss: Object.values(actual.services).some(isStateful),
    command: setopsProject(ref, ['stage:destroy', ref.stage, '--force']),
  });
}

/**
 * The stage replace when a field in `STAGE_REPLACE_FIELDS` differs, else null.
 * Data loss when the actual stage has stateful services.
 */
export function stageReplace(ref: StageRef, desired: StageModel, actual: StageModel): Change | null {
  const fields = leafDiff(actual.organization, desired.organization, 'organization').filter((f) => STAGE_REPLACE_FIELDS[f.path] !== undefined);
  if (fields.length === 0) return null;
  const first = fields[0]!;
  return makeChange({
    op: 'replace',
    subject: 'stage',
    path: first.path,
    before: first.before,
    after: first.after,
    dataLoss: Object.values(actual.services).some(isStateful),
    reason: fields.map((f) => STAGE_REPLACE_FIELDS[f.path]).join('; '),
    command: andThen(setopsProject(ref, ['stage:destroy', ref.stage, '--force']), setopsProject(ref, ['stage:create', ref.stage])),
  });
}

/** In-place changes of the stage's own settings, organization and project fields (subject `stage`). */
export function diffStageSettings(ref: StageRef, desired: StageModel, actual: StageModel): Change[] {
  const out: Change[] = [];
  const { notifications: _dn, name: _dname, ...dSettings } = desired.stage;
  const { notifications: _an, name: _aname, ...aSettings } = actual.stage;
  for (const f of leafDiff(aSettings, dSettings)) {
    out.push(makeChange({ op: 'update', subject: 'stage', path: f.path, before: f.before, after: f.after, command: noSetopsEquivalent(`stage setting ${f.path}`) }));
  }
  for (const f of leafDiff(actual.organization, desired.organization, 'organization')) {
    if (STAGE_REPLACE_FIELDS[f.path] !== undefined) continue;
    out.push(makeChange({ op: 'update', subject: 'stage', path: f.path, before: f.before, after: f.after, command: noSetopsEquivalent(`organization setting ${f.path}`) }));
  }
  for (const f of leafDiff(actual.project, desired.project, 'project')) {
    if (f.path === 'project.name') continue; // a different project is a different stage
    out.push(makeChange({ op: 'update', subject: 'stage', path: f.path, before: f.before, after: f.after, command: noSetopsEquivalent(`project setting ${f.path}`) }));
  }
  return out;
}

function notificationCreateCommand(ref: StageRef, name: string, n: NotificationModel): string {
  return setops(ref, {}, ['notification:create', name, '--type', n.type, '--target', n.target]);
}

/** Changes of the stage's notifications (`notification/NAME`). */
export function diffNotifications(ref: StageRef, desired: Record<string, NotificationModel>, actual: Record<string, NotificationModel>): Change[] {
  return diffKeyed(desired, actual, {
    subject: (name) => `notification/${name}`,
    create: (name, n) => notificationCreateCommand(ref, name, n),
    destroy: (name) => setops(ref, {}, ['notification:destroy', name]),
  });
}
