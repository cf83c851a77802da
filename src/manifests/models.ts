import type { Issue } from '../errors.js';
import type {
  AppModel,
  DomainModel,
  EnvValue,
  LinkModel,
  NotificationModel,
  OrganizationModel,
  ServiceModel,
  ScheduleModel,
  ServiceType,
  SmtpModel,
  StageModel,
  StageSettings,
} from '../model/stage-model.js';
import { SERVICE_DEFAULTS, type AppSpec, type OrganizationDoc, type ServiceSpec, type StageDoc } from '../schema/kinds.js';
import { didYouMean } from '../schema/suggest.js';
import { issueAt, type DeclaredApp, type DeclaredService, type DeclaredStage } from './documents.js';
import { specPointer } from './overrides.js';
import type { ProjectScope } from './scope.js';
import { addStaged, type StagedIssues } from './staged-issues.js';

/** The organization part of a StageModel. */
export function organizationModel(p: ProjectScope): OrganizationModel {
  const spec = p.organization.value.spec;
  const out: OrganizationModel = { name: p.organization.name, provider: spec.provider };
  if (spec.provider === 'aws' && spec.aws) {
    out.aws = { region: spec.aws.region };
    if (spec.aws.accountId !== undefined) out.aws.accountId = spec.aws.accountId;
    if (spec.aws.vpcId !== undefined) out.aws.vpcId = spec.aws.vpcId;
  }
  if (spec.backend !== undefined) out.backend = spec.backend;
  if (spec.secrets !== undefined) {
    out.secrets = {};
    if (spec.secrets.file !== undefined) out.secrets.file = spec.secrets.file;
    if (spec.secrets.env !== undefined) out.secrets.env = { prefix: spec.secrets.env.prefix };
  }
  if (spec.smtp !== undefined) out.smtp = smtpModel(spec.smtp);
  return out;
}

/** The project part of a StageModel. */
export function projectModel(p: ProjectScope): StageModel['project'] {
  const description = p.project.value.spec.description;
  return description === undefined ? { name: p.project.name } : { name: p.project.name, description };
}

/** A stage's settings; notifications get their default names. Undefined when the spec is invalid. */
export function stageSettings(d: DeclaredStage, issues: Issue[]): StageSettings | undefined {
  if (!d.checkable) return undefined;
  const spec = d.value.spec;
  const notifications: Record<string, NotificationModel> = {};
  const explicit = new Map<string, number>();
  spec.notifications.forEach((n, i) => {
    if (n.name === undefined) return;
    if (explicit.has(n.name)) {
      issues.push(issueAt(d.parsed, `/spec/notifications/${i}/name`, `notification name "${n.name}" is used twice in stage ${d.name}; names must be unique`));
    } else explicit.set(n.name, i);
  });
  const used = new Set(explicit.keys());
  spec.notifications.forEach((n) => {
    const model = notificationModel(n);
    let name = n.name;
    if (name === undefined) {
      const base = defaultNotificationName(model);
      name = base;
      for (let k = 2; used.has(name); k++) name = `${base}-${k}`;
      used.add(name);
    }
    if (!(name in notifications)) notifications[name] = model;
  });
  const out: StageSettings = { name: d.name, approval: spec.approval, protected: spec.protected, notifications };
  if (spec.after !== undefined) out.after = spec.after;
  return out;
}

/** `email-<local part>` / `webhook-<host>`, reduced to a valid name. */
export function defaultNotificationName(n: NotificationModel): string {
  let raw: string;
  if (n.type === 'email') raw = n.target.split('@')[0] ?? '';
  else {
    try {
      raw = new URL(n.target).hostname;
    } catch {
      raw = '';
    }
  }
  const slug = raw
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 30)
    .replace(/-+$/, '');
  return slug ? `${n.type}-${slug}` : n.type;
}

/** A service with its type's defaults; deletion protection follows the stage's `protected`. */
export function serviceModel(spec: ServiceSpec, stageProtected: boolean): ServiceModel {
  const type = spec.type as ServiceType;
  const defaults = SERVICE_DEFAULTS[type] as { version?: string; plan?: string; retentionDays: number; options: Record<string, unknown> };
  const out: ServiceModel = {
    type,
    options: { ...defaults.options, ...(spec.options ?? {}) },
    backup: { retentionDays: spec.backup.retentionDays ?? defaults.retentionDays, ...(spec.backup.schedule !== undefined ? { schedule: spec.backup.schedule.trim().split(/\s+/).join(' ') } : {}) },
    deletionProtection: spec.deletionProtection ?? stageProtected,
  };
  // Recorded only when given, so models of manifests without it keep their hash.
  if (spec.finalSnapshot !== undefined) out.finalSnapshot = spec.finalSnapshot;
  const version = spec.version ?? defaults.version;
  if (version !== undefined) out.version = String(version);
  const plan = spec.plan ?? defaults.plan;
  if (plan !== undefined) out.plan = plan;
  return out;
}

/** What resolving one app on one stage needs. */
export interface AppContext {
  d: DeclaredApp;
  stage: string;
  issues: Issue[];
  staged: StagedIssues;
  services: Record<string, ServiceModel>;
  serviceDecls: Map<string, DeclaredService>;
}

/** An app as the model holds it: env, domains and links resolved and checked. */
export function appModel(name: string, spec: AppSpec, ctx: AppContext): AppModel {
  const { d, stage, issues } = ctx;
  const at = (ptr: string) => specPointer(d, stage, ptr);

  const env: Record<string, EnvValue> = {};
  for (const key of Object.keys(spec.env)) {
    const v = spec.env[key]!;
    env[key] = typeof v === 'object' ? { secret: v.secret } : String(v);
  }

  const domains: Record<string, DomainModel> = {};
  let primaries = 0;
  spec.domains.forEach((entry, i) => {
    const domain = typeof entry === 'string' ? entry : entry.name;
    const primary = typeof entry === 'string' ? false : (entry.primary ?? false);
    if (domain in domains) {
      issues.push(issueAt(d.parsed, at(`/domains/${i}`), `domain "${domain}" is listed twice for app "${name}"; remove one`));
      return;
    }
    if (primary) primaries++;
    if (primary && primaries > 1) {
      issues.push(issueAt(d.parsed, at(`/domains/${i}/primary`), `app "${name}" has more than one primary domain; mark only one primary: true`));
    }
    domains[domain] = { primary };
  });
  const names = Object.keys(domains);
  if (primaries === 0 && names.length > 0) domains[names[0]!] = { primary: true };

  const links: Record<string, LinkModel> = {};
  spec.links.forEach((link, i) => {
    const ptr = at(`/links/${i}`);
    if (link.service in links) {
      issues.push(issueAt(d.parsed, ptr, `app "${name}" links service "${link.service}" twice; remove one`));
      return;
    }
    const decl = ctx.serviceDecls.get(link.service);
    if (!decl) {
      const known = [...ctx.serviceDecls.keys()].sort();
      const service = link.service;
      addStaged(
        ctx.staged,
        d.parsed,
        at(`/links/${i}/service`),
        stage,
        (s) => `app "${name}" links service "${service}" which does not exist in ${s}; known services: ${known.length ? known.join(', ') : 'none'}${didYouMean(service, known)}`,
      );
      return;
    }
    const type = (ctx.services[link.service]?.type ?? (decl.checkable ? decl.value.spec.type : undefined)) as ServiceType | undefined;
    if (type === 'volume' && link.path === undefined) {
      issues.push(issueAt(d.parsed, ptr, `link to volume service "${link.service}" needs a mount path; add path: /data (any absolute path)`));
    }
    if (type !== undefined && type !== 'volume' && (link.path !== undefined || link.readOnly !== undefined)) {
      issues.push(
        issueAt(
          d.parsed,
          at(`/links/${i}/${link.path !== undefined ? 'path' : 'readOnly'}`),
          `path and readOnly are only for volume services; "${link.service}" is a ${type} service`,
          'key',
        ),
      );
    }
    if (type === 'volume' && link.envKey !== undefined) {
      issues.push(issueAt(d.parsed, at(`/links/${i}/envKey`), `envKey is not used for volume services; remove it (the volume is mounted at path)`, 'key'));
    }
    const model: LinkModel = {};
    if (link.envKey !== undefined) model.envKey = link.envKey;
    if (link.path !== undefined) model.path = link.path;
    if (link.readOnly !== undefined) model.readOnly = link.readOnly;
    links[link.service] = model;
  });

  const hc = spec.healthCheck;
  const healthCheck: AppModel['healthCheck'] = {
    path: hc.path,
    status: hc.status,
    interval: hc.interval,
    timeout: hc.timeout,
    retries: hc.retries,
    startPeriod: hc.startPeriod,
  };
  if (hc.command !== undefined) healthCheck.command = hc.command;

  const app: AppModel = {
    port: spec.port,
    protocol: spec.protocol,
    public: spec.public,
    scale: spec.scale,
    resources: { cpu: spec.resources.cpu, memory: spec.resources.memory },
    healthCheck,
    env,
    domains,
    links,
  };
  if (spec.image !== undefined) app.image = spec.image;
  if (spec.command !== undefined) app.command = spec.command;
  if (spec.entrypoint !== undefined) app.entrypoint = spec.entrypoint;
  if (spec.workdir !== undefined) app.workdir = spec.workdir;
  if (spec.preDeploy !== undefined) app.preDeploy = { command: spec.preDeploy.command };
  const schedules: Record<string, ScheduleModel> = {};
  (spec.schedules ?? []).forEach((s, i) => {
    if (s.name in schedules) {
      issues.push(issueAt(d.parsed, at(`/schedules/${i}/name`), `schedule "${s.name}" is defined twice for app "${name}"; names must be unique`));
      return;
    }
    const model: ScheduleModel = { cron: s.cron.trim().split(/\s+/).join(' '), command: s.command };
    if (s.timezone !== undefined) model.timezone = s.timezone;
    if (s.timeout !== undefined) model.timeout = s.timeout;
    schedules[s.name] = model;
  });
  // Only when there are some: models without schedules keep the hash they had.
  if (Object.keys(schedules).length > 0) app.schedules = schedules;
  return app;
}

/** The SMTP settings of an Organization, fields present only when written. */
function smtpModel(spec: NonNullable<OrganizationDoc['spec']['smtp']>): SmtpModel {
  const out: SmtpModel = { host: spec.host, from: spec.from };
  if (spec.port !== undefined) out.port = spec.port;
  if (spec.secure !== undefined) out.secure = spec.secure;
  if (spec.user !== undefined) out.user = spec.user;
  if (spec.password !== undefined) out.password = { secret: spec.password.secret };
  return out;
}

/** One notification target; optional settings are kept only when written (existing models keep their hash). */
function notificationModel(n: StageDoc['spec']['notifications'][number]): NotificationModel {
  const out: NotificationModel = 'email' in n ? { type: 'email', target: n.email } : { type: 'webhook', target: (n as { webhook: string }).webhook };
  if (n.events !== undefined) out.events = [...n.events];
  if ('webhook' in n) {
    const w = n as { format?: 'json' | 'slack'; secret?: { secret: string }; timeout?: number };
    if (w.format !== undefined) out.format = w.format;
    if (w.secret !== undefined) out.secret = { secret: w.secret.secret };
    if (w.timeout !== undefined) out.timeout = w.timeout;
  }
  return out;
}
