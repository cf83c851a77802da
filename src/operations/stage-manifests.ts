import { createTwoFilesPatch } from 'diff';
import type { Deps } from '../deps.js';
import { UsageError, ValidationError } from '../errors.js';
import type { DesiredState, SourceFiles } from '../manifests/api.js';
import { ManifestSet, type FileEdit } from '../manifests/edit.js';
import { commitEdits } from '../manifests/git-write.js';
import { loadDesired } from '../manifests/load.js';
import { manifestPaths } from '../manifests/parse-selected.js';
import { cloneStageDocs, removeStageDocs, setStageImages, type ProjectScope } from '../manifests/stage-edits.js';
import { refOf, stageKey, type StageModel } from '../model/stage-model.js';
import { selectStages } from '../reconciler/stage-plan.js';
import { Journal } from '../state/journal.js';

/**
 * The stage operations that change the branch rather than the stage: promote, stage clone, stage
 * reset and stage remove edit the manifests and hand the result over as a commit on a new branch
 * or as a unified diff, ready for a pull request. The edited manifests are validated before
 * anything is written; nothing is applied here (the commit is planned and applied like any other).
 */

/** A change of the manifests, not written yet. */
export interface ManifestChange {
  edits: FileEdit[];
  /** The commit message: what changed and where it came from. */
  message: string;
  /** Subjects changed, by stage key. */
  changed: Record<string, string[]>;
  /** The desired state after the change (validated). */
  desired: DesiredState;
}

/** How to hand over a change: a commit on a new branch, or a patch. */
export type ChangeOutput = { kind: 'commit'; branch: string; timestamp?: number } | { kind: 'patch' };

/** The stage a name selects in the desired state (`org/project/stage`, `project/stage` or `stage`). */
function stageOf(desired: DesiredState, name: string): StageModel {
  const [key] = selectStages(desired.stages.map((s) => stageKey(refOf(s))), [name]);
  return desired.stages.find((s) => stageKey(refOf(s)) === key)!;
}

function scopeOf(model: StageModel): ProjectScope {
  return { organization: model.organization.name, project: model.project.name };
}

function desiredOf(files: SourceFiles): DesiredState {
  const result = loadDesired(files);
  if (!result.ok) throw new ValidationError(result.issues, 'the manifests are invalid; fix them before changing stages');
  return result.value;
}

/** The edited manifests, validated: an edit that would leave them invalid is refused. */
function finish(files: SourceFiles, set: ManifestSet, message: string, changed: Record<string, string[]>): ManifestChange {
  const edits = set.edits();
  if (edits.length === 0) throw new UsageError(`nothing to change: ${message.split('\n')[0]} is already what the manifests say`);
  const byPath = new Map(edits.map((e) => [e.path, e.after]));
  const after: SourceFiles = { ...files, files: [...files.files.filter((f) => !byPath.has(f.path)), ...[...byPath].filter(([, t]) => t !== null).map(([path, text]) => ({ path, text: text! }))] };
  const result = loadDesired(after);
  if (!result.ok) throw new ValidationError(result.issues, 'the change would leave the manifests invalid; nothing was written');
  return { edits, message, changed, desired: result.value };
}

/**
 * `promote --from SOURCE --to TARGET [--apps …]`: the images the source stage runs (its last
 * deployment, which must have succeeded at exactly the commit being edited) become the target's.
 */
export async function promoteImages(
  ad: { deps: Deps; stateDir: string },
  files: SourceFiles,
  opts: { from: string; to: string; apps?: readonly string[] },
): Promise<ManifestChange> {
  const desired = desiredOf(files);
  const source = stageOf(desired, opts.from);
  const target = stageOf(desired, opts.to);
  const sourceKey = stageKey(refOf(source));
  if (source.project.name !== target.project.name || source.organization.name !== target.organization.name) {
    throw new UsageError(`promote works inside one project: ${sourceKey} and ${stageKey(refOf(target))} are in different projects`);
  }
  const journal = new Journal(ad.stateDir, refOf(source), () => ad.deps.clock.now());
  const last = await journal.latest();
  if (last === null || last.kind !== 'apply') throw new UsageError(`stage ${sourceKey} has no deployment to promote from`);
  if (last.status !== 'succeeded') throw new UsageError(`the last deployment of ${sourceKey} (#${last.number}) ${last.status === 'failed' ? 'failed' : 'has not finished'}; promote only what runs successfully`);
  if (files.commit === undefined) throw new UsageError('promote needs a git source (--repo), so that it can check the commit the source stage runs');
  if (last.commit !== files.commit) {
    throw new UsageError(`${sourceKey} runs commit ${last.commit?.slice(0, 12) ?? '(none)'} (deployment #${last.number}), not ${files.commit.slice(0, 12)} being promoted; deploy it there first, or promote from that commit (--ref)`);
  }
  const model = await journal.model(last);
  if (model === null) throw new UsageError(`deployment #${last.number} of ${sourceKey} predates stored models; deploy it again before promoting`);
  const names = opts.apps && opts.apps.length > 0 ? [...opts.apps] : Object.keys(model.apps).sort();
  const images: Record<string, string> = {};
  for (const name of names) {
    const app = model.apps[name];
    if (app === undefined) throw new UsageError(`${sourceKey} has no app ${name} (apps: ${Object.keys(model.apps).sort().join(', ')})`);
    if (app.image === undefined) {
      if (opts.apps?.includes(name)) throw new UsageError(`app ${name} on ${sourceKey} has no image to promote (it runs a command)`);
      continue;
    }
    if (name in target.apps) images[name] = app.image;
  }
  const set = manifestSetOf(files);
  const changed = setStageImages(set, scopeOf(target), target.stage.name, target, images);
  const lines = changed.map((s) => `- ${s}: ${target.apps[s.slice(4)]?.image ?? '(none)'} → ${images[s.slice(4)]}`);
  const message = `Promote ${changed.map((s) => s.slice(4)).join(', ')} from ${source.stage.name} to ${target.stage.name}\n\nThe images ${sourceKey} runs since deployment #${last.number} (commit ${last.commit!.slice(0, 12)}):\n${lines.join('\n')}\n`;
  return finish(files, set, message, { [stageKey(refOf(target))]: changed });
}

/** `stage clone SOURCE NEW`: a new stage with SOURCE's settings and overrides (not protected, approval auto, no domains, no after). */
export function cloneStage(files: SourceFiles, opts: { source: string; name: string }): ManifestChange {
  const desired = desiredOf(files);
  const source = stageOf(desired, opts.source);
  const set = manifestSetOf(files);
  const changed = cloneStageDocs(set, scopeOf(source), source.stage.name, opts.name);
  const key = `${source.organization.name}/${source.project.name}/${opts.name}`;
  return finish(files, set, `Add stage ${opts.name}, a clone of ${source.stage.name}\n\nsetopsd stage clone ${stageKey(refOf(source))} ${opts.name}: its settings and overrides, not protected, approval auto, no domains.\n`, { [key]: changed });
}

/** `stage reset STAGE --to OTHER`: STAGE's app images become OTHER's (as the manifests say them). */
export function resetStage(files: SourceFiles, opts: { stage: string; to: string }): ManifestChange {
  const desired = desiredOf(files);
  const stage = stageOf(desired, opts.stage);
  const other = stageOf(desired, opts.to);
  const images = Object.fromEntries(Object.entries(other.apps).filter(([n, a]) => a.image !== undefined && n in stage.apps).map(([n, a]) => [n, a.image!]));
  const set = manifestSetOf(files);
  const changed = setStageImages(set, scopeOf(stage), stage.stage.name, stage, images);
  return finish(files, set, `Reset the images of ${stage.stage.name} to those of ${other.stage.name}\n\n${changed.map((s) => `- ${s}: ${images[s.slice(4)]}`).join('\n')}\n`, { [stageKey(refOf(stage))]: changed });
}

/** `stage remove STAGE`: the Stage manifest and its overrides go; planning that commit shows the destroy. */
export function removeStage(files: SourceFiles, opts: { stage: string }): ManifestChange {
  const desired = desiredOf(files);
  const stage = stageOf(desired, opts.stage);
  const set = manifestSetOf(files);
  const changed = removeStageDocs(set, scopeOf(stage), stage.stage.name, stage, desired.stages);
  return finish(files, set, `Remove stage ${stage.stage.name}\n\nsetopsd stage remove ${stageKey(refOf(stage))}: its Stage manifest and overrides. Applying this destroys the stage.\n`, { [stageKey(refOf(stage))]: changed });
}

/** Hands a change over: a commit on a new branch (returns its SHA) or a unified diff. */
export async function writeChange(change: ManifestChange, files: SourceFiles, output: ChangeOutput): Promise<{ commit?: string; patch?: string }> {
  if (output.kind === 'patch') {
    const prefix = files.dir ? `${files.dir}/` : '';
    const patch = change.edits
      .map((e) =>
        createTwoFilesPatch(e.before === null ? '/dev/null' : `a/${prefix}${e.path}`, e.after === null ? '/dev/null' : `b/${prefix}${e.path}`, e.before ?? '', e.after ?? '', undefined, undefined, { context: 3 })
          .split('\n')
          .filter((l) => !l.startsWith('====='))
          .join('\n'),
      )
      .join('');
    return { patch };
  }
  if (files.commit === undefined) throw new UsageError('--commit needs a git source: give --repo PATH (or run inside a git working tree)');
  const commit = await commitEdits(change.edits, { repo: files.root, base: files.commit, dir: files.dir, branch: output.branch, message: change.message, ...(output.timestamp !== undefined ? { timestamp: output.timestamp } : {}) });
  return { commit };
}

/** The manifests open for editing: only the files `loadDesired` reads (never a CI file or other YAML beside them). */
function manifestSetOf(files: SourceFiles): ManifestSet {
  const paths = new Set(manifestPaths(files));
  return new ManifestSet(files.files.filter((f) => paths.has(f.path)));
}
