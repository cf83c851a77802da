import type { Issue } from '../errors.js';
import { sortKeys } from '../model/canonical.js';
import type { AppModel, ServiceModel, StageModel } from '../model/stage-model.js';
import type { AppSpec, ServiceSpec } from '../schema/kinds.js';
import { didYouMean } from '../schema/suggest.js';
import type { Validators } from '../schema/validate.js';
import { issueAt, type DeclaredApp, type DeclaredService, type DeclaredStage } from './documents.js';
import { appModel, organizationModel, projectModel, serviceModel, stageSettings } from './models.js';
import { specFor, specPointer } from './overrides.js';
import { inStage, type ProjectScope, type Scope } from './scope.js';
import { checkOverrideTargets, checkStageOrder } from './stage-checks.js';
import { addStaged, flushStaged, stagedCount, type StagedIssues } from './staged-issues.js';

/** One resolved stage and the files each of its parts came from. */
export interface ResolvedStage {
  model: StageModel;
  /** In key order. */
  origins: Record<string, string[]>;
}

/**
 * Stages resolved by an earlier load, by `org/project/stage`, with the declarations they were
 * resolved from (see `LoadOptions.stageCache`). Only stages that resolved without a problem are
 * kept; entries of stages a load did not resolve are dropped, so it holds at most one entry per
 * stage of the newest load.
 */
export type StageCache = Map<string, { inputs: readonly unknown[]; resolved: ResolvedStage }>;

/**
 * Checks what spans documents (stage order, excludes, overrides, links, domains) and resolves
 * one canonical StageModel per stage. Stages with problems are still checked fully, so every
 * problem is reported at once. With a `cache`, a stage whose declarations are the very objects
 * it was resolved from last time (a parse cache hands back the same frozen declarations for an
 * unchanged file) is not resolved again: its earlier result is returned, the same object.
 */
export function resolveStages(
  scope: Scope,
  validators: Validators,
  issues: Issue[],
  keep: (key: string) => boolean = () => true,
  cache?: StageCache,
): ResolvedStage[] {
  const out: ResolvedStage[] = [];
  const staged: StagedIssues = new Map();
  const seen = new Set<string>();
  for (const key of [...scope.projects.keys()].sort()) {
    const project = scope.projects.get(key)!;
    checkStageOrder(project, issues);
    checkOverrideTargets(project, issues);
    for (const name of [...project.stages.keys()].sort()) {
      const stageKey = `${key}/${name}`;
      if (!keep(stageKey)) continue;
      const stageDecl = project.stages.get(name)!;
      const inputs = cache ? stageInputs(project, stageDecl) : [];
      const hit = cache?.get(stageKey);
      if (hit && sameInputs(hit.inputs, inputs)) {
        seen.add(stageKey);
        out.push(hit.resolved);
        continue;
      }
      const before = issues.length;
      const stagedBefore = stagedCount(staged);
      const r = resolveStage(project, stageDecl, validators, issues, staged);
      if (r) out.push(r);
      if (cache && r && issues.length === before && stagedCount(staged) === stagedBefore) {
        cache.set(stageKey, { inputs, resolved: r });
        seen.add(stageKey);
      }
    }
  }
  if (cache) for (const key of cache.keys()) if (!seen.has(key)) cache.delete(key);
  flushStaged(staged, issues);
  return out;
}

/** Everything `resolveStage` reads for one stage: the declarations of its project that apply to it, by name. */
function stageInputs(p: ProjectScope, stageDecl: DeclaredStage): unknown[] {
  const inputs: unknown[] = [p.organization, p.project, stageDecl];
  for (const [name, list] of p.services) inputs.push(name, inStage(list, stageDecl.name));
  for (const [name, list] of p.apps) inputs.push(name, inStage(list, stageDecl.name));
  return inputs;
}

function sameInputs(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
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
  // Parts whose spec failed its schema are still checked (from their well-formed rest), never modelled.
  let incomplete = !stageDecl.specOk;
  const stagedBefore = stagedCount(staged);
  const settings = stageSettings(stageDecl, issues);
  const excluded = new Set<string>(stageDecl.checkable ? stageDecl.value.spec.exclude.filter((n) => typeof n === 'string') : []);
  const origins: Record<string, string[]> = { stage: [stageDecl.parsed.file] };
  for (const n of Object.keys(settings?.notifications ?? {})) origins[`notification/${n}`] = [stageDecl.parsed.file];

  // Excludes must name something of the project that exists in this stage.
  if (stageDecl.checkable) {
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
    if (!d.specOk) incomplete = true;
    const spec = specFor<ServiceSpec>(d, stage, validators.serviceSpec, issues);
    if (!spec) continue;
    services[name] = serviceModel(spec, settings?.protected ?? false);
    origins[`service/${name}`] = [d.parsed.file];
  }

  const apps: Record<string, AppModel> = {};
  /** Domain → the public app that claimed it first in this stage. */
  const domainOwners = new Map<string, string>();
  for (const name of [...p.apps.keys()].sort()) {
    const d = inStage(p.apps.get(name), stage);
    if (!d || excluded.has(name)) continue;
    if (!d.specOk) incomplete = true;
    const spec = specFor<AppSpec>(d, stage, validators.appSpec, issues);
    if (!spec) continue;
    const app = appModel(name, spec, { d, stage, issues, staged, services, serviceDecls });
    if (app.public) {
      spec.domains.forEach((entry, i) => {
        const domain = typeof entry === 'string' ? entry : entry.name;
        const owner = domainOwners.get(domain);
        if (owner === undefined) domainOwners.set(domain, name);
        else if (owner !== name) {
          const ptr = specPointer(d, stage, `/domains/${i}`);
          addStaged(staged, d.parsed, ptr, stage, (s) => `domain "${domain}" is already used by public app "${owner}" in ${s}; a domain routes to one app`);
        }
      });
    }
    apps[name] = app;
    origins[`app/${name}`] = [d.parsed.file];
  }

  // No model from invalid parts (their problems are already reported).
  if (incomplete || !settings || !p.organization.specOk || !p.project.specOk || issues.length > before || stagedCount(staged) > stagedBefore) return undefined;
  const model: StageModel = sortKeys({
    organization: organizationModel(p),
    project: projectModel(p),
    stage: settings,
    apps,
    services,
  });
  return { model, origins: sortKeys(origins) };
}

