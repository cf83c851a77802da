import { isMap, isSeq } from 'yaml';
import { UsageError } from '../errors.js';
import type { StageModel } from '../model/stage-model.js';
import type { ManifestDoc, ManifestSet } from './edit.js';

/**
 * The manifest edits of the stage operations (promote, stage clone / reset / remove), on a
 * `ManifestSet` (pure). Apps and services are found by project (and organization when the
 * document names one); per-stage settings go where a person would write them: under the app's or
 * service's `spec.stages.STAGE` override. Each returns the subjects it changed.
 */

/** Which project the edit is about. */
export interface ProjectScope {
  organization: string;
  project: string;
}

function inScope(d: ManifestDoc, scope: ProjectScope): boolean {
  return d.project === scope.project && (d.organization === undefined || d.organization === scope.organization);
}

function appDocs(set: ManifestSet, scope: ProjectScope): ManifestDoc[] {
  return set.documents().filter((d) => d.kind === 'App' && inScope(d, scope));
}

function stageDoc(set: ManifestSet, scope: ProjectScope, stage: string): ManifestDoc {
  const found = set.documents().find((d) => d.kind === 'Stage' && d.name === stage && inScope(d, scope));
  if (!found) throw new UsageError(`no Stage manifest for ${scope.organization}/${scope.project}/${stage}`);
  return found;
}

/**
 * Sets the image of each app in `images` on `stage` (in the app's override for that stage) where
 * the stage's resolved image differs. Only image fields change.
 */
export function setStageImages(set: ManifestSet, scope: ProjectScope, stage: string, current: StageModel, images: Record<string, string>): string[] {
  const changed: string[] = [];
  for (const d of appDocs(set, scope)) {
    const image = d.name === undefined ? undefined : images[d.name];
    if (image === undefined || current.apps[d.name!]?.image === image) continue;
    set.set(d, ['spec', 'stages', stage, 'image'], image);
    changed.push(`app/${d.name}`);
  }
  return changed.sort();
}

/**
 * A new Stage `target` copying `source`'s settings (not protected, `approval: auto`, no `after:`)
 * and every app's and service's override for `source` (apps without domains).
 */
export function cloneStageDocs(set: ManifestSet, scope: ProjectScope, source: string, target: string): string[] {
  if (set.documents().some((d) => d.kind === 'Stage' && d.name === target && inScope(d, scope))) {
    throw new UsageError(`stage ${scope.organization}/${scope.project}/${target} already exists`);
  }
  const from = stageDoc(set, scope, source);
  const spec = (from.doc.get('spec') && isMap(from.doc.get('spec')) ? (from.doc.toJS() as { spec?: Record<string, unknown> }).spec : undefined) ?? {};
  const { after: _after, protected: _protected, approval: _approval, ...settings } = spec;
  const metadata: Record<string, string> = { name: target, ...(from.organization ? { organization: from.organization } : {}), project: scope.project };
  set.append(from.path, { apiVersion: 'setopsd/v1', kind: 'Stage', metadata, spec: { ...settings, approval: 'auto', protected: false } }, ` A clone of stage ${source} (setopsd stage clone): not protected, approval auto, no domains.`);
  const changed = ['stage'];
  for (const d of set.documents().filter((x) => (x.kind === 'App' || x.kind === 'Service') && inScope(x, scope))) {
    const override = d.doc.getIn(['spec', 'stages', source]);
    const hasDomains = d.kind === 'App' && hasItems(d.doc.getIn(['spec', 'domains'])) ;
    if (override === undefined && !hasDomains) continue;
    const copy = override !== undefined && isMap(override) ? (override.toJSON() as Record<string, unknown>) : {};
    if (d.kind === 'App' && (hasDomains || 'domains' in copy)) copy.domains = [];
    set.set(d, ['spec', 'stages', target], copy);
    changed.push(`${d.kind === 'App' ? 'app' : 'service'}/${d.name}`);
  }
  return changed;
}

/** Removes Stage `stage` and every override for it. Refused for a protected stage or one another stage runs after. */
export function removeStageDocs(set: ManifestSet, scope: ProjectScope, stage: string, desired: StageModel | undefined, stages: readonly StageModel[]): string[] {
  if (desired?.stage.protected) throw new UsageError(`stage ${scope.organization}/${scope.project}/${stage} is protected; remove protected: true in its own commit first, if you really mean to delete it`);
  const dependent = stages.filter((s) => s.project.name === scope.project && s.stage.after === stage).map((s) => s.stage.name);
  if (dependent.length > 0) throw new UsageError(`stage ${dependent.join(', ')} runs after ${stage}; change its after: first`);
  set.remove(stageDoc(set, scope, stage));
  const changed = ['stage'];
  for (const d of set.documents().filter((x) => (x.kind === 'App' || x.kind === 'Service') && inScope(x, scope))) {
    if (set.delete(d, ['spec', 'stages', stage])) changed.push(`${d.kind === 'App' ? 'app' : 'service'}/${d.name}`);
  }
  return changed;
}

function hasItems(node: unknown): boolean {
  return isSeq(node) && node.items.length > 0;
}
