import { isSecretRef, type AppModel, type DomainModel, type LinkModel, type ScheduleModel, type StageRef } from '../model/stage-model.js';
import type { Change } from '../model/changeset.js';
import { makeChange } from './change.js';
import { diffKeyed, leafDiff, pairKeys } from './diff-values.js';
import { maskEnvValue } from './mask.js';
import { andThen, commandWords, noSetopsEquivalent, setops, setopsSecretEnv } from './setops-command.js';

/** App fields that are separate subjects or keyed maps, diffed on their own. */
const SEPARATE = new Set(['env', 'links', 'domains', 'schedules']);

/** Fields that cannot change in place: changing one replaces the app. */
const REPLACE_FIELDS: Record<string, string> = { protocol: 'protocol cannot change in place' };

/** Changes of every app, link and domain of a stage (unordered; `order.ts` sorts them). */
export function diffApps(ref: StageRef, desired: Record<string, AppModel>, actual: Record<string, AppModel>): Change[] {
  const out: Change[] = [];
  const { added, removed, common } = pairKeys(actual, desired);
  for (const name of added) {
    out.push(createApp(ref, name));
    out.push(...diffLinks(ref, name, desired[name]!.links, {}));
    out.push(...diffDomains(ref, name, desired[name]!.domains, {}));
    out.push(...diffSchedules(name, desired[name]!.schedules ?? {}, {}));
  }
  for (const name of removed) out.push(deleteApp(ref, name));
  for (const name of common) out.push(...diffApp(ref, name, desired[name]!, actual[name]!));
  return out;
}

/** `create app/NAME`. The app's settings are in the desired model; links and domains follow as their own subjects. */
export function createApp(ref: StageRef, name: string): Change {
  return makeChange({ op: 'create', subject: `app/${name}`, command: setops(ref, {}, ['app:create', name]) });
}

/** `delete app/NAME`; its links, domains and env go with it. */
export function deleteApp(ref: StageRef, name: string): Change {
  return makeChange({ op: 'delete', subject: `app/${name}`, command: setops(ref, {}, ['app:destroy', name]) });
}

function diffApp(ref: StageRef, name: string, desired: AppModel, actual: AppModel): Change[] {
  const subject = `app/${name}`;
  const out: Change[] = [];
  const fields = leafDiff(strip(actual), strip(desired));
  const replace = fields.find((f) => REPLACE_FIELDS[f.path] !== undefined);
  if (replace) {
    // Re-created with the desired settings: the other field changes are part of the replace.
    out.push(
      makeChange({
        op: 'replace',
        subject,
        path: replace.path,
        before: replace.before,
        after: replace.after,
        reason: REPLACE_FIELDS[replace.path],
        command: andThen(setops(ref, {}, ['app:destroy', name]), setops(ref, {}, ['app:create', name])),
      }),
    );
  } else {
    for (const f of fields) {
      out.push(makeChange({ op: 'update', subject, path: f.path, before: f.before, after: f.after, command: appFieldCommand(ref, name, f.path, desired) }));
    }
    const env = pairKeys(actual.env, desired.env);
    for (const key of [...env.added, ...env.removed, ...env.common].sort()) {
      const before = maskEnvValue(actual.env[key]);
      const after = maskEnvValue(desired.env[key]);
      if (before === after) continue;
      const value = desired.env[key];
      const command =
        after === undefined ? setops(ref, { app: name }, ['env:unset', key]) : isSecretRef(value) ? setopsSecretEnv(ref, name, key, value.secret) : setops(ref, { app: name }, ['env:set', `${key}=${after}`]);
      out.push(makeChange({ op: 'update', subject, path: `env.${key}`, before, after, command }));
    }
  }
  out.push(...diffLinks(ref, name, desired.links, actual.links));
  out.push(...diffDomains(ref, name, desired.domains, actual.domains));
  out.push(...diffSchedules(name, desired.schedules ?? {}, actual.schedules ?? {}));
  return out;
}

/** A schedule's command as written: a shell string as is, an exec list joined by spaces. */
function shown(command: string | string[]): string {
  return typeof command === 'string' ? command : command.join(' ');
}

/**
 * Changes of an app's scheduled tasks (`schedule/APP/NAME`). SetOps has no scheduled tasks, so
 * each line says so and names what setopsd does (supervisor cron locally, EventBridge Scheduler on AWS).
 */
export function diffSchedules(app: string, desired: Record<string, ScheduleModel>, actual: Record<string, ScheduleModel>): Change[] {
  const { added, removed, common } = pairKeys(actual, desired);
  const out: Change[] = [];
  const create = (key: string) => noSetopsEquivalent(`schedule ${key} of app ${app}: "${desired[key]!.cron}"${desired[key]!.timezone ? ` (${desired[key]!.timezone})` : ''} runs ${shown(desired[key]!.command)}`);
  for (const key of added) out.push(makeChange({ op: 'create', subject: `schedule/${app}/${key}`, command: create(key) }));
  for (const key of removed) out.push(makeChange({ op: 'delete', subject: `schedule/${app}/${key}`, command: noSetopsEquivalent(`schedule ${key} of app ${app} is removed`) }));
  for (const key of common) {
    for (const f of leafDiff(actual[key], desired[key])) {
      out.push(makeChange({ op: 'update', subject: `schedule/${app}/${key}`, path: f.path, before: f.before, after: f.after, command: create(key) }));
    }
  }
  return out;
}

function strip(app: AppModel): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(app)) if (!SEPARATE.has(k)) out[k] = v;
  return out;
}

const HEALTH_CHECK_CONTAINER = new Set(['interval', 'timeout', 'retries', 'startPeriod', 'command']);

/** The SetOps command that sets one app field to its desired value. */
export function appFieldCommand(ref: StageRef, name: string, path: string, desired: AppModel): string {
  const scope = { app: name };
  const [head, sub] = path.split('.', 2);
  switch (head) {
    case 'image':
      return desired.image === undefined ? setops(ref, scope, ['container:unset', 'image']) : setops(ref, scope, ['release:create', desired.image]);
    case 'command':
    case 'entrypoint': {
      const v = desired[head];
      return v === undefined ? setops(ref, scope, ['container:unset', head]) : setops(ref, scope, ['container:set', head, '--', ...commandWords(v)]);
    }
    case 'port':
      return setops(ref, scope, ['network:set', 'port', String(desired.port)]);
    case 'public':
      return setops(ref, scope, ['network:set', 'public', String(desired.public)]);
    case 'scale':
      return setops(ref, scope, ['resource:set', 'scale', String(desired.scale)]);
    case 'resources':
      if (sub === 'cpu' || sub === 'memory') return setops(ref, scope, ['resource:set', sub, String(desired.resources[sub])]);
      break;
    case 'healthCheck': {
      const hc = desired.healthCheck;
      if (sub === 'path') return setops(ref, scope, ['network:set', 'health-check-path', hc.path]);
      if (sub === 'status') return setops(ref, scope, ['network:set', 'health-check-status', hc.status]);
      if (sub !== undefined && HEALTH_CHECK_CONTAINER.has(sub)) {
        const words = ['container:set', 'health-check', '--interval', String(hc.interval), '--timeout', String(hc.timeout), '--retries', String(hc.retries), '--start-period', String(hc.startPeriod)];
        if (hc.command !== undefined) words.push('--', ...commandWords(hc.command));
        return setops(ref, scope, words);
      }
      break;
    }
    case 'workdir':
      return noSetopsEquivalent('app workdir (local engine)');
    case 'preDeploy':
      return noSetopsEquivalent('preDeploy.command (runs before the new version is activated)');
  }
  return noSetopsEquivalent(`app field ${path}`);
}

function linkCreateCommand(ref: StageRef, app: string, service: string, link: LinkModel): string {
  const words = ['link:create', service];
  if (link.envKey !== undefined) words.push('--env-key', link.envKey);
  if (link.path !== undefined) words.push('--path', link.path);
  if (link.readOnly === true) words.push('--read-only');
  return setops(ref, { app }, words);
}

/** Changes of an app's links: create/delete of `link/APP/SERVICE`, field updates re-create the link. */
export function diffLinks(ref: StageRef, app: string, desired: Record<string, LinkModel>, actual: Record<string, LinkModel>): Change[] {
  return diffKeyed(desired, actual, {
    subject: (service) => `link/${app}/${service}`,
    create: (service, link) => linkCreateCommand(ref, app, service, link),
    destroy: (service) => setops(ref, { app }, ['link:destroy', service]),
  });
}

function domainCreateCommand(ref: StageRef, app: string, domain: string, model: DomainModel): string {
  return setops(ref, { app }, model.primary ? ['domain:create', domain, '--primary'] : ['domain:create', domain]);
}

/** Changes of an app's custom domains: create/delete of `domain/APP/NAME`, `primary` updates. */
export function diffDomains(ref: StageRef, app: string, desired: Record<string, DomainModel>, actual: Record<string, DomainModel>): Change[] {
  return diffKeyed(desired, actual, {
    subject: (domain) => `domain/${app}/${domain}`,
    create: (domain, model) => domainCreateCommand(ref, app, domain, model),
    destroy: (domain) => setops(ref, { app }, ['domain:destroy', domain]),
  });
}
