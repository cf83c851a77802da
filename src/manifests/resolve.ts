import type { Issue } from '../errors.js';
import { sortKeys } from '../model/canonical.js';
import type {
  AppModel,
  DomainModel,
  EnvValue,
  LinkModel,
  NotificationModel,
  OrganizationModel,
  ServiceModel,
  ServiceType,
  StageModel,
  StageSettings,
} from '../model/stage-model.js';
import { SERVICE_DEFAULTS, appSpecSchema, serviceSpecSchema, type AppSpec, type ServiceSpec } from '../schema/kinds.js';
import { escapePointer, splitPointer, type SchemaProblem } from '../schema/messages.js';
import { didYouMean } from '../schema/suggest.js';
import type { Validators } from '../schema/validate.js';
import { issueAt, normalizeVersion, type DeclaredApp, type DeclaredService, type DeclaredStage } from './documents.js';
import { isPlainObject, mergePatch } from './merge-patch.js';
import { inStage, pinnedStage, type ProjectScope, type Scope } from './scope.js';

/** One resolved stage and the files each of its parts came from. */
export interface ResolvedStage {
  model: StageModel;
  origins: Record<string, string[]>;
}

/**
 * Checks what spans documents (stage order, excludes, overrides, links, domains) and resolves
 * one canonical StageModel per stage. Stages with problems are still checked fully, so every
 * problem is reported at once.
 */
export function resolveStages(scope: Scope, validators: Validators, issues: Issue[]): ResolvedStage[] {
  const out: ResolvedStage[] = [];
  const staged: StagedIssues = new Map();
  for (const key of [...scope.projects.keys()].sort()) {
    const project = scope.projects.get(key)!;
    checkStageOrder(project, issues);
    checkOverrideTargets(project, issues);
    for (const name of [...project.stages.keys()].sort()) {
      const r = resolveStage(project, project.stages.get(name)!, validators, issues, staged);
      if (r) out.push(r);
    }
  }
  flushStaged(staged, issues);
  return out;
}

/**
 * Problems of a project-wide app that recur in several stages (a link to a missing service):
 * reported once, naming every stage, instead of once per stage at the same position.
 */
type StagedIssues = Map<string, { parsed: DeclaredApp['parsed']; pointer: string; stages: string[]; render: (stages: string) => string }>;

function addStaged(staged: StagedIssues, parsed: DeclaredApp['parsed'], pointer: string, stage: string, render: (stages: string) => string): void {
  const key = `${parsed.file}\u0000${parsed.index}\u0000${pointer}\u0000${render('\u0000')}`;
  const entry = staged.get(key);
  if (entry) entry.stages.push(stage);
  else staged.set(key, { parsed, pointer, stages: [stage], render });
}

function flushStaged(staged: StagedIssues, issues: Issue[]): void {
  for (const { parsed, pointer, stages, render } of staged.values()) {
    const sorted = [...stages].sort();
    issues.push(issueAt(parsed, pointer, render(sorted.length === 1 ? `stage ${sorted[0]}` : `stages ${sorted.join(', ')}`)));
  }
}

function checkStageOrder(p: ProjectScope, issues: Issue[]): void {
  const stages = p.stages;
  const names = [...stages.keys()].sort();
  for (const name of names) {
    const d = stages.get(name)!;
    if (!d.specOk) continue;
    const after = d.value.spec.after;
    if (after === undefined) continue;
    if (after === name) {
      issues.push(issueAt(d.parsed, '/spec/after', `stage "${name}" cannot come after itself; name another stage of project ${p.project.name} or remove after`));
    } else if (!stages.has(after)) {
      const known = names.filter((n) => n !== name);
      issues.push(
        issueAt(
          d.parsed,
          '/spec/after',
          `stage "${after}" does not exist in project ${p.project.name}; known stages: ${known.length ? known.join(', ') : 'none'}${didYouMean(after, known)}`,
        ),
      );
    }
  }
  // Cycles: follow `after` from every stage; report each cycle once, at its first stage by name.
  const reported = new Set<string>();
  for (const start of names) {
    const path: string[] = [];
    let cur: string | undefined = start;
    while (cur !== undefined && !path.includes(cur)) {
      path.push(cur);
      const d = stages.get(cur);
      const next: string | undefined = d?.specOk ? d.value.spec.after : undefined;
      cur = next !== undefined && next !== cur && stages.has(next) ? next : undefined;
    }
    if (cur === undefined) continue;
    const cycle = path.slice(path.indexOf(cur));
    const first = [...cycle].sort()[0]!;
    if (reported.has(first)) continue;
    reported.add(first);
    const i = cycle.indexOf(first);
    const ordered = [...cycle.slice(i), ...cycle.slice(0, i), first];
    issues.push(
      issueAt(
        stages.get(first)!.parsed,
        '/spec/after',
        `stages ${ordered.join(' → ')} form an "after" cycle in project ${p.project.name}; remove after from one of them`,
      ),
    );
  }
}

/** `stages:` overrides must name stages the app or service exists in. */
function checkOverrideTargets(p: ProjectScope, issues: Issue[]): void {
  const names = [...p.stages.keys()].sort();
  const all = [...p.apps.values(), ...p.services.values()].flat();
  for (const d of all) {
    if (!d.specOk) continue;
    const overrides = d.value.spec.stages ?? {};
    const pinned = pinnedStage(d);
    const label = `${d.kind === 'App' ? 'app' : 'service'} "${d.name}"`;
    for (const stage of Object.keys(overrides).sort()) {
      const ptr = `/spec/stages/${escapePointer(stage)}`;
      if (!p.stages.has(stage)) {
        issues.push(
          issueAt(
            d.parsed,
            ptr,
            `override for stage "${stage}" matches no stage of project ${p.project.name}; known stages: ${names.length ? names.join(', ') : 'none'}${didYouMean(stage, names)}`,
            'key',
          ),
        );
      } else if (pinned !== undefined && pinned !== stage) {
        issues.push(issueAt(d.parsed, ptr, `override for stage "${stage}" never applies: ${label} exists only in stage "${pinned}"`, 'key'));
      }
    }
  }
}

/** Maps a problem in a merged spec back to the document: into the override where it came from. */
function overrideIssue(d: DeclaredApp | DeclaredService, stage: string, problem: SchemaProblem): Issue {
  const patch = d.value.spec.stages?.[stage];
  const segments = splitPointer(problem.pointer);
  if (problem.missing !== undefined) segments.push(problem.missing);
  let cur: unknown = patch;
  let depth = 0;
  while (depth < segments.length && isPlainObject(cur) && segments[depth]! in cur) {
    cur = cur[segments[depth]!];
    depth++;
  }
  const fromPatch = depth === segments.length || (depth > 0 && !isPlainObject(cur));
  const suffix = ` (in stage ${stage}, after its override)`;
  if (fromPatch) {
    const pointer = `/spec/stages/${escapePointer(stage)}` + (problem.missing !== undefined ? segments.map((s) => '/' + escapePointer(s)).join('') : problem.pointer);
    const message = problem.missing !== undefined ? `${problem.message}: the override removes it` : problem.message;
    return issueAt(d.parsed, pointer, message + suffix, problem.missing !== undefined ? 'key' : problem.at);
  }
  return issueAt(d.parsed, '/spec' + problem.pointer, problem.message + suffix, problem.at);
}

/** Where a merged-spec pointer is written in the document (override or base). */
function specPointer(d: DeclaredApp | DeclaredService, stage: string, pointer: string): string {
  const patch = d.value.spec.stages?.[stage];
  const segments = splitPointer(pointer);
  let cur: unknown = patch;
  let depth = 0;
  while (depth < segments.length && isPlainObject(cur) && segments[depth]! in cur) {
    cur = cur[segments[depth]!];
    depth++;
  }
  if (patch !== undefined && (depth === segments.length || (depth > 0 && !isPlainObject(cur)))) {
    return `/spec/stages/${escapePointer(stage)}${pointer}`;
  }
  return '/spec' + pointer;
}

/** The spec of `d` on `stage`: base, or base + override validated as a whole. */
function specFor<S>(
  d: DeclaredApp | DeclaredService,
  stage: string,
  check: (v: unknown) => SchemaProblem[],
  issues: Issue[],
): S | undefined {
  if (!d.specOk) return undefined;
  const { stages, ...base } = d.value.spec as { stages?: Record<string, unknown> };
  const patch = stages?.[stage];
  if (patch === undefined) return base as S;
  const schema = d.kind === 'App' ? appSpecSchema : serviceSpecSchema;
  const typos = nullRemovals(patch, schema, '');
  if (isPlainObject(patch) && 'stages' in patch) {
    typos.push({ pointer: '/stages', at: 'key', message: 'an override cannot hold stages: overrides do not nest; write each stage under the top-level stages' });
  }
  if (typos.length > 0) issues.push(...typos.map((p) => overrideIssue(d, stage, p)));
  const merged = mergePatch(base, patch);
  if (d.kind === 'Service') normalizeVersion(merged);
  const problems = check(merged);
  if (problems.length > 0) {
    issues.push(...problems.map((p) => overrideIssue(d, stage, p)));
    return undefined;
  }
  return typos.length > 0 ? undefined : (merged as S);
}

/**
 * `null` for a field the spec does not have removes nothing, so the merged spec cannot show the
 * typo (`prot: null`): find such keys against the schema's properties.
 */
function nullRemovals(patch: unknown, schema: unknown, pointer: string): SchemaProblem[] {
  if (!isPlainObject(patch) || !isPlainObject(schema) || !isPlainObject(schema.properties)) return [];
  const properties = schema.properties;
  const out: SchemaProblem[] = [];
  for (const key of Object.keys(patch)) {
    const value = patch[key];
    const at = `${pointer}/${escapePointer(key)}`;
    if (key in properties) out.push(...nullRemovals(value, properties[key], at));
    else if (value === null && schema.additionalProperties === false) {
      out.push({ pointer: at, at: 'key', message: `unknown field "${key}"; removing it changes nothing${didYouMean(key, Object.keys(properties))}` });
    }
  }
  return out;
}

function resolveStage(
  p: ProjectScope,
  stageDecl: DeclaredStage,
  validators: Validators,
  issues: Issue[],
  staged: StagedIssues,
): ResolvedStage | undefined {
  const stage = stageDecl.name;
  const before = issues.length;
  const stagedBefore = [...staged.values()].reduce((n, e) => n + e.stages.length, 0);
  const settings = stageSettings(stageDecl, issues);
  const excluded = new Set<string>(stageDecl.specOk ? stageDecl.value.spec.exclude : []);
  const origins: Record<string, string[]> = { stage: [stageDecl.parsed.file] };
  for (const n of Object.keys(settings?.notifications ?? {})) origins[`notification/${n}`] = [stageDecl.parsed.file];

  // Excludes must name something of the project that exists in this stage.
  if (stageDecl.specOk) {
    const known = new Set<string>();
    for (const [n, list] of [...p.apps, ...p.services]) if (inStage(list as (DeclaredApp | DeclaredService)[], stage)) known.add(n);
    stageDecl.value.spec.exclude.forEach((n, i) => {
      if (!known.has(n)) {
        issues.push(
          issueAt(
            stageDecl.parsed,
            `/spec/exclude/${i}`,
            `exclude names "${n}", which is no app or service of project ${p.project.name} in stage ${stage}${didYouMean(n, known)}`,
          ),
        );
      }
    });
  }

  const services: Record<string, ServiceModel> = {};
  const serviceDecls = new Map<string, DeclaredService>();
  for (const name of [...p.services.keys()].sort()) {
    const d = inStage(p.services.get(name), stage);
    if (!d || excluded.has(name)) continue;
    serviceDecls.set(name, d);
    const spec = specFor<ServiceSpec>(d, stage, validators.serviceSpec, issues);
    if (!spec) continue;
    services[name] = serviceModel(spec, settings?.protected ?? false);
    origins[`service/${name}`] = [d.parsed.file];
  }

  const apps: Record<string, AppModel> = {};
  const domainOwners = new Map<string, { app: string; d: DeclaredApp; ptr: string }>();
  for (const name of [...p.apps.keys()].sort()) {
    const d = inStage(p.apps.get(name), stage);
    if (!d || excluded.has(name)) continue;
    const spec = specFor<AppSpec>(d, stage, validators.appSpec, issues);
    if (!spec) continue;
    const ctx = { d, stage, issues, staged, services, serviceDecls, project: p.project.name };
    const app = appModel(name, spec, ctx);
    if (app.public) {
      spec.domains.forEach((entry, i) => {
        const domain = typeof entry === 'string' ? entry : entry.name;
        const ptr = specPointer(d, stage, `/domains/${i}`);
        const owner = domainOwners.get(domain);
        if (owner && owner.app !== name) {
          const other = owner.app;
          addStaged(staged, d.parsed, ptr, stage, (s) => `domain "${domain}" is already used by public app "${other}" in ${s}; a domain routes to one app`);
        } else if (!owner) {
          domainOwners.set(domain, { app: name, d, ptr });
        }
      });
    }
    apps[name] = app;
    origins[`app/${name}`] = [d.parsed.file];
  }

  const stagedAfter = [...staged.values()].reduce((n, e) => n + e.stages.length, 0);
  // No model from invalid parts (their problems are already reported).
  if (!settings || !p.organization.specOk || !p.project.specOk || issues.length > before || stagedAfter > stagedBefore) return undefined;
  const model: StageModel = sortKeys({
    organization: organizationModel(p),
    project: projectModel(p),
    stage: settings,
    apps,
    services,
  });
  return { model, origins };
}

function organizationModel(p: ProjectScope): OrganizationModel {
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
  return out;
}

function projectModel(p: ProjectScope): StageModel['project'] {
  const description = p.project.value.spec.description;
  return description === undefined ? { name: p.project.name } : { name: p.project.name, description };
}

function stageSettings(d: DeclaredStage, issues: Issue[]): StageSettings | undefined {
  if (!d.specOk) return undefined;
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
    const model: NotificationModel = 'email' in n ? { type: 'email', target: n.email } : { type: 'webhook', target: (n as { webhook: string }).webhook };
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

function serviceModel(spec: ServiceSpec, stageProtected: boolean): ServiceModel {
  const type = spec.type as ServiceType;
  const defaults = SERVICE_DEFAULTS[type] as { version?: string; plan?: string; retentionDays: number; options: Record<string, unknown> };
  const out: ServiceModel = {
    type,
    options: { ...defaults.options, ...(spec.options ?? {}) },
    backup: { retentionDays: spec.backup.retentionDays ?? defaults.retentionDays },
    deletionProtection: spec.deletionProtection ?? stageProtected,
  };
  const version = spec.version ?? defaults.version;
  if (version !== undefined) out.version = String(version);
  const plan = spec.plan ?? defaults.plan;
  if (plan !== undefined) out.plan = plan;
  return out;
}

interface AppContext {
  d: DeclaredApp;
  stage: string;
  project: string;
  issues: Issue[];
  staged: StagedIssues;
  services: Record<string, ServiceModel>;
  serviceDecls: Map<string, DeclaredService>;
}

function appModel(name: string, spec: AppSpec, ctx: AppContext): AppModel {
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
    const type = (ctx.services[link.service]?.type ?? (decl.specOk ? decl.value.spec.type : undefined)) as ServiceType | undefined;
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
  return app;
}
