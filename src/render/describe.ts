import type { StageModel } from '../model/stage-model.js';
import type { Change } from '../model/changeset.js';
import { isMaskedSecret } from '../reconciler/mask.js';

/** A value as shown in text and markdown: strings quoted (JSON), masked secrets bare, absent `(none)`. */
export function showValue(value: unknown): string {
  if (value === undefined) return '(none)';
  if (isMaskedSecret(value)) return value;
  return JSON.stringify(value);
}

/** `path: before → after` for a field change, `''` for whole-subject changes. */
export function showDelta(change: Change): string {
  if (change.path === undefined) return '';
  return `${change.path}: ${showValue(change.before)} → ${showValue(change.after)}`;
}

function cmd(v: string | string[]): string {
  return JSON.stringify(v);
}

/**
 * A short description of a whole subject for create/delete lines, read from the model that
 * holds it (desired for creates, actual for deletes), e.g. `postgresql 16, plan db.t3.micro`.
 */
export function describeSubject(subject: string, model: StageModel | null): string {
  if (model === null) return '';
  const [kind, a, b] = subject.split('/');
  switch (kind) {
    case 'stage': {
      const s = model.stage;
      const parts = [`${model.organization.provider} engine`, `approval ${s.approval}`];
      if (s.protected) parts.push('protected');
      if (s.after !== undefined) parts.push(`after ${s.after}`);
      return parts.join(', ');
    }
    case 'app': {
      const app = model.apps[a!];
      if (!app) return '';
      const parts: string[] = [];
      if (app.image !== undefined) parts.push(`image ${app.image}`);
      if (app.command !== undefined) parts.push(`command ${cmd(app.command)}`);
      parts.push(`port ${app.port}/${app.protocol}`);
      if (app.public) parts.push('public');
      parts.push(`scale ${app.scale}`, `cpu ${app.resources.cpu}`, `memory ${app.resources.memory}`);
      const env = Object.keys(app.env).length;
      if (env > 0) parts.push(`${env} env var${env === 1 ? '' : 's'}`);
      return parts.join(', ');
    }
    case 'service': {
      const svc = model.services[a!];
      if (!svc) return '';
      const parts = [svc.version === undefined ? svc.type : `${svc.type} ${svc.version}`];
      if (svc.plan !== undefined) parts.push(`plan ${svc.plan}`);
      if (svc.deletionProtection) parts.push('deletion protection');
      return parts.join(', ');
    }
    case 'link': {
      const link = model.apps[a!]?.links[b!];
      if (!link) return '';
      const parts: string[] = [];
      if (link.envKey !== undefined) parts.push(`env ${link.envKey}`);
      if (link.path !== undefined) parts.push(`path ${link.path}`);
      if (link.readOnly) parts.push('read-only');
      return parts.join(', ');
    }
    case 'domain': {
      const name = subject.slice(`domain/${a}/`.length);
      return model.apps[a!]?.domains[name]?.primary ? 'primary' : '';
    }
    case 'schedule': {
      const sch = model.apps[a!]?.schedules?.[b!];
      return sch ? `"${sch.cron}"${sch.timezone ? ` ${sch.timezone}` : ''}: ${cmd(sch.command)}` : '';
    }
    case 'notification': {
      const n = model.stage.notifications[a!];
      return n ? `${n.type} ${n.target}` : '';
    }
  }
  return '';
}

/** The text of one change after its marker, e.g. `app/web scale: 1 → 3` or `service/cache (redis 7)`. */
export function changeText(change: Change, desired: StageModel | null, actual: StageModel | null): string {
  let text = change.subject;
  if (change.path !== undefined) {
    text += ` ${showDelta(change)}`;
  } else if (change.op === 'create' || change.op === 'delete') {
    const detail = describeSubject(change.subject, change.op === 'create' ? desired : actual);
    if (detail) text += ` (${detail})`;
  }
  if (change.reason !== undefined) text += ` (${change.reason})`;
  if (change.dataLoss) text += ' [data loss]';
  return text;
}

/** The plan marker of an operation: `+` create, `~` update, `-/+` replace, `-` delete. */
export function marker(op: Change['op']): string {
  return op === 'create' ? '+' : op === 'update' ? '~' : op === 'replace' ? '-/+' : '-';
}
