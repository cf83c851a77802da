import type { Issue } from '../errors.js';
import { didYouMean } from '../schema/suggest.js';
import {
  issueAt,
  type AnyDeclared,
  type DeclaredApp,
  type DeclaredOrganization,
  type DeclaredProject,
  type DeclaredService,
  type DeclaredStage,
} from './documents.js';
import { locate } from './yaml-docs.js';

/** Everything declared in one project, by name. */
export interface ProjectScope {
  organization: DeclaredOrganization;
  project: DeclaredProject;
  stages: Map<string, DeclaredStage>;
  /** Apps by name: one project-wide declaration, or one per stage it is pinned to. */
  apps: Map<string, DeclaredApp[]>;
  services: Map<string, DeclaredService[]>;
}

/** The declarations of a whole source, indexed by scope, duplicates and dangling references removed. */
export interface Scope {
  organizations: Map<string, DeclaredOrganization>;
  /** By `org/project`. */
  projects: Map<string, ProjectScope>;
}

function where(d: AnyDeclared): string {
  const p = locate(d.parsed, '/metadata/name');
  return `${d.parsed.file}:${p.line}:${p.col}`;
}

function metadataOf(d: AnyDeclared): { organization?: string; project?: string; stage?: string } {
  return (d.value as { metadata: { organization?: string; project?: string; stage?: string } }).metadata;
}

/**
 * Indexes declarations by scope and reports duplicates and references to organizations,
 * projects and stages that do not exist. Declarations with such problems are left out, so
 * later checks do not repeat them.
 */
export function buildScope(declared: AnyDeclared[], issues: Issue[]): Scope {
  const scope: Scope = { organizations: new Map(), projects: new Map() };
  const byKind = (k: string) => declared.filter((d) => d.kind === k);

  for (const d of byKind('Organization') as DeclaredOrganization[]) {
    const first = scope.organizations.get(d.name);
    if (first) issues.push(duplicate(d, first, ''));
    else scope.organizations.set(d.name, d);
  }
  const orgNames = [...scope.organizations.keys()].sort();

  const organizationOf = (d: AnyDeclared): DeclaredOrganization | undefined => {
    const named = metadataOf(d).organization;
    if (named === undefined) {
      if (orgNames.length === 1) return scope.organizations.get(orgNames[0]!);
      issues.push(
        issueAt(
          d.parsed,
          '/metadata',
          orgNames.length === 0
            ? `${d.kind.toLowerCase()} "${d.name}" has no organization: no Organization manifest was found; add one (kind: Organization)`
            : `${d.kind.toLowerCase()} "${d.name}" must name its organization (metadata.organization): there are ${orgNames.length}: ${orgNames.join(', ')}`,
        ),
      );
      return undefined;
    }
    const org = scope.organizations.get(named);
    if (!org) {
      issues.push(
        issueAt(
          d.parsed,
          '/metadata/organization',
          `organization "${named}" does not exist; known organizations: ${orgNames.length ? orgNames.join(', ') : 'none'}${didYouMean(named, orgNames)}`,
        ),
      );
    }
    return org;
  };

  for (const d of byKind('Project') as DeclaredProject[]) {
    const org = organizationOf(d);
    if (!org) continue;
    const key = `${org.name}/${d.name}`;
    const first = scope.projects.get(key);
    if (first) issues.push(duplicate(d, first.project, ` in organization ${org.name}`));
    else scope.projects.set(key, { organization: org, project: d, stages: new Map(), apps: new Map(), services: new Map() });
  }

  const projectOf = (d: AnyDeclared): ProjectScope | undefined => {
    const org = organizationOf(d);
    if (!org) return undefined;
    const name = metadataOf(d).project!;
    const p = scope.projects.get(`${org.name}/${name}`);
    if (!p) {
      const known = [...scope.projects.values()].filter((x) => x.organization === org).map((x) => x.project.name);
      issues.push(
        issueAt(
          d.parsed,
          '/metadata/project',
          `project "${name}" does not exist in organization ${org.name}; known projects: ${known.length ? known.sort().join(', ') : 'none (add a Project manifest)'}${didYouMean(name, known)}`,
        ),
      );
    }
    return p;
  };

  for (const d of byKind('Stage') as DeclaredStage[]) {
    const p = projectOf(d);
    if (!p) continue;
    const first = p.stages.get(d.name);
    if (first) issues.push(duplicate(d, first, ` in project ${p.project.name}`));
    else p.stages.set(d.name, d);
  }

  for (const d of [...byKind('App'), ...byKind('Service')] as (DeclaredApp | DeclaredService)[]) {
    const p = projectOf(d);
    if (!p) continue;
    const stage = metadataOf(d).stage;
    if (stage !== undefined && !p.stages.has(stage)) {
      const known = [...p.stages.keys()];
      issues.push(
        issueAt(
          d.parsed,
          '/metadata/stage',
          `stage "${stage}" does not exist in project ${p.project.name}; known stages: ${known.length ? known.sort().join(', ') : 'none'}${didYouMean(stage, known)}`,
        ),
      );
      continue;
    }
    const map = (d.kind === 'App' ? p.apps : p.services) as Map<string, AnyDeclared[]>;
    const list = map.get(d.name) ?? [];
    const clash = list.find((o) => metadataOf(o).stage === undefined || stage === undefined || metadataOf(o).stage === stage);
    if (clash) {
      const suffix = stage === undefined && metadataOf(clash).stage === undefined ? ` in project ${p.project.name}` : ` in project ${p.project.name} stage ${stage ?? metadataOf(clash).stage}`;
      issues.push(duplicate(d, clash, suffix));
      continue;
    }
    list.push(d);
    map.set(d.name, list);
  }
  return scope;
}

function duplicate(d: AnyDeclared, first: AnyDeclared, scope: string): Issue {
  return issueAt(
    d.parsed,
    '/metadata/name',
    `${d.kind.toLowerCase()} "${d.name}" is declared twice${scope} (first at ${where(first)}); rename or remove one`,
  );
}

/** The stage an app or service is pinned to, if any. */
export function pinnedStage(d: DeclaredApp | DeclaredService): string | undefined {
  return d.value.metadata.stage;
}

/** The declaration of `name` that exists in `stage` (project-wide or pinned to it). */
export function inStage<D extends DeclaredApp | DeclaredService>(list: D[] | undefined, stage: string): D | undefined {
  return list?.find((d) => pinnedStage(d) === undefined || pinnedStage(d) === stage);
}
