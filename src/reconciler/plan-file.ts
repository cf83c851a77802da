import { stageKey, type StageModel, type StageRef } from '../model/stage-model.js';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalJson, hashOf } from '../model/canonical.js';
import type { ActualState } from '../model/actual-state.js';
import { PlanError, StalePlanError } from '../errors.js';
import { isPlainObject } from '../manifests/merge-patch.js';
import type { Change, Changeset } from '../model/changeset.js';
import { planDocument, type PlanDocument, type PlanSource, type PlanStageJson } from './plan-document.js';
import type { StagePlan } from './stage-plan.js';
import { summarize } from './summary.js';

/** Version of the saved-plan layout; bumped only for incompatible changes. */
export const PLAN_FILE_VERSION = 1;

/** One stage of a saved plan: its JSON plan entry plus the full desired model that was reviewed. */
export interface PlanFileStage extends PlanStageJson {
  /** The desired StageModel to apply; null for a stage delete. */
  desired: StageModel | null;
}

/**
 * A saved plan (`setopsd plan --out FILE`): the JSON plan plus what `apply FILE` needs to apply
 * exactly what was reviewed — each stage's desired model, the actual serial it was planned
 * against (`actualSerial`), and where the manifests came from.
 */
export interface PlanFile extends Omit<PlanDocument, 'stages' | 'source'> {
  planFileVersion: 1;
  source: PlanDocument['source'] & {
    /** Absolute config root (directory source) or repository path (git source). */
    root: string;
    /** Sub-directory holding the manifests ('' for the root). */
    dir: string;
  };
  stages: PlanFileStage[];
  /**
   * `hmac-sha256:<hex>` over the canonical JSON of every other field, with the plan key of the
   * state directory (or `SETOPSD_PLAN_KEY`): any edit of the file is refused by `apply`.
   */
  signature?: string;
}

const SIGNATURE_PREFIX = 'hmac-sha256:';

function signatureOf(file: PlanFile, key: Uint8Array): string {
  const { signature: _unsigned, ...content } = file;
  return SIGNATURE_PREFIX + createHmac('sha256', key).update(canonicalJson(content)).digest('hex');
}

/** The plan file with its signature (see `PlanFile.signature`). */
export function signPlanFile(file: PlanFile, key: Uint8Array): PlanFile {
  return { ...file, signature: signatureOf(file, key) };
}

/**
 * Throws PlanError `E_PLAN_FILE` unless the file carries the signature `key` gives its content:
 * a plan file that was edited after it was made (anything in it: models, changes, serials,
 * source), or that was made with another plan key.
 */
export function verifyPlanFile(file: PlanFile, key: Uint8Array, path: string): void {
  if (typeof file.signature !== 'string' || !file.signature.startsWith(SIGNATURE_PREFIX)) {
    throw new PlanError(`${path}: the plan file is not signed (made by an older setopsd, or the signature was removed); make a new one with \`setopsd plan --out ${path}\``, {
      code: 'E_PLAN_FILE',
      data: { file: path },
    });
  }
  const expected = Buffer.from(signatureOf(file, key));
  const given = Buffer.from(file.signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new PlanError(
      `${path}: the plan file does not match its signature: it was edited after it was made, or made with another plan key (the state directory's plan.key, or SETOPSD_PLAN_KEY where plan and apply run on different machines); nothing was applied — plan again and apply the new file`,
      { code: 'E_PLAN_FILE', data: { file: path } },
    );
  }
}

/** Builds the saved plan of a set of stage plans. */
export function planFileOf(plans: readonly StagePlan[], source: PlanSource & { root: string; dir: string }): PlanFile {
  const doc = planDocument(plans, source);
  return {
    planFileVersion: PLAN_FILE_VERSION,
    formatVersion: doc.formatVersion,
    source: { ...doc.source, root: source.root, dir: source.dir },
    warnings: doc.warnings,
    stages: doc.stages.map((s, i) => ({ ...s, desired: plans[i]!.desired })),
    summary: doc.summary,
  };
}

/** Whether a file's text looks like a saved plan (JSON object with `planFileVersion`), so `apply` can tell it from a directory. */
export function isPlanFileText(text: string): boolean {
  if (!text.trimStart().startsWith('{')) return false;
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && 'planFileVersion' in v;
  } catch {
    return false;
  }
}

function bad(path: string, what: string): PlanError {
  return new PlanError(`${path}: not a valid setopsd plan file: ${what}; make a new one with \`setopsd plan --out ${path}\``, { code: 'E_PLAN_FILE', data: { file: path } });
}

const isStringOrNull = (v: unknown): boolean => v === null || typeof v === 'string';
const OPS = new Set(['create', 'update', 'replace', 'delete']);

/** Validates the text of a saved plan (pure). */
export function parsePlanFile(text: string, path: string): PlanFile {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw bad(path, 'it is not JSON');
  }
  if (!isPlainObject(v)) throw bad(path, 'it is not a JSON object');
  if (v.planFileVersion === undefined) throw bad(path, 'planFileVersion is missing (a `--format json` plan cannot be applied; use --out)');
  if (v.planFileVersion !== PLAN_FILE_VERSION) {
    throw new PlanError(`${path}: plan file version ${String(v.planFileVersion)} is not supported by this setopsd (supports ${PLAN_FILE_VERSION}); plan again with this version`, { code: 'E_PLAN_FILE' });
  }
  if (v.signature !== undefined && typeof v.signature !== 'string') throw bad(path, 'signature must be a string');
  if (v.formatVersion !== 1) throw bad(path, `formatVersion ${String(v.formatVersion)} is not 1`);
  const source = v.source;
  if (!isPlainObject(source) || !isStringOrNull(source.ref) || !isStringOrNull(source.commit) || typeof source.root !== 'string' || typeof source.dir !== 'string') {
    throw bad(path, 'source must hold ref, commit, root and dir');
  }
  if (!Array.isArray(v.stages)) throw bad(path, 'stages must be a list');
  v.stages.forEach((s: unknown, i: number) => {
    const at = `stages[${i}]`;
    if (!isPlainObject(s)) throw bad(path, `${at} is not an object`);
    for (const k of ['organization', 'project', 'stage', 'engine']) if (typeof s[k] !== 'string' || s[k] === '') throw bad(path, `${at}.${k} must be a non-empty string`);
    if (!isStringOrNull(s.actualSerial)) throw bad(path, `${at}.actualSerial must be a string or null`);
    if (!isStringOrNull(s.desiredHash)) throw bad(path, `${at}.desiredHash must be a string or null`);
    if (!Array.isArray(s.changes)) throw bad(path, `${at}.changes must be a list`);
    s.changes.forEach((c: unknown, j: number) => {
      if (!isPlainObject(c) || !OPS.has(c.op as string) || typeof c.subject !== 'string' || typeof c.command !== 'string' || typeof c.dataLoss !== 'boolean') {
        throw bad(path, `${at}.changes[${j}] must have op, subject, dataLoss and command`);
      }
    });
    const key = `${String(s.organization)}/${String(s.project)}/${String(s.stage)}`;
    if (s.desired === null) {
      if (s.desiredHash !== null) throw bad(path, `${at} (${key}) has a desiredHash but no desired model`);
    } else {
      const d = s.desired;
      if (!isPlainObject(d) || !isPlainObject(d.organization) || !isPlainObject(d.project) || !isPlainObject(d.stage) || !isPlainObject(d.apps) || !isPlainObject(d.services)) {
        throw bad(path, `${at}.desired must be a stage model or null`);
      }
      if (d.organization.name !== s.organization || d.project.name !== s.project || d.stage.name !== s.stage) {
        throw bad(path, `${at}.desired describes a different stage than ${key}`);
      }
      if (hashOf(d) !== s.desiredHash) {
        throw new PlanError(`${path}: stage ${key}: the desired model does not match its desiredHash; the plan file was edited after it was made; plan again`, { code: 'E_PLAN_FILE', data: { file: path, stage: key } });
      }
    }
  });
  return v as unknown as PlanFile;
}

/** The StageRef of a saved stage plan. */
export function planStageRef(stage: Pick<PlanStageJson, 'organization' | 'project' | 'stage'>): StageRef {
  return { organization: stage.organization, project: stage.project, stage: stage.stage };
}

/** The reviewed changeset of a saved stage plan (the files annotation dropped). */
export function planStageChangeset(stage: PlanFileStage): Changeset {
  return {
    ref: planStageRef(stage),
    changes: stage.changes.map(({ files: _files, ...c }) => c as Change),
  };
}

/**
 * Throws StalePlanError when the stage's actual state changed since the plan was made
 * (its serial differs from the one recorded at planning time).
 */
export function verifyNotStale(stage: Pick<PlanStageJson, 'organization' | 'project' | 'stage' | 'actualSerial'>, actual: ActualState): void {
  if (stage.actualSerial === actual.serial) return;
  const key = stageKey(stage);
  const show = (s: string | null): string => (s === null ? 'none (nothing deployed)' : s);
  throw new StalePlanError(
    `stage ${key}: the plan is stale: it was made against state serial ${show(stage.actualSerial)}, but the stage is now at serial ${show(actual.serial)}; run setopsd plan again and review the new plan`,
    { data: { stage: key, planned: stage.actualSerial, actual: actual.serial } },
  );
}

/**
 * The stage plans of a saved plan, as the renderers take them (`setopsd show PLANFILE`). Pure.
 * What the file does not keep is left out: the recorded model (a delete is shown without the
 * details of what it deletes) and the state serial is the one the plan was made against.
 */
export function savedStagePlans(file: PlanFile): StagePlan[] {
  return file.stages.map((s) => {
    const ref = planStageRef(s);
    const files: Record<string, string[]> = {};
    for (const c of s.changes) if (c.files !== undefined && c.files.length > 0) files[c.subject] = [...c.files];
    return {
      ref,
      key: stageKey(ref),
      engine: s.engine as StagePlan['engine'],
      desired: s.desired,
      actual: { model: null, serial: s.actualSerial },
      desiredHash: s.desiredHash,
      changeset: planStageChangeset(s),
      // A file checked only by parsePlanFile (no plan key to verify it) may lack the added fields.
      summary: s.summary ?? summarize(planStageChangeset(s).changes),
      problems: (s.warnings ?? []).map((w) => ({ code: w.code, stage: ref, subject: w.subject, refused: w.refused, message: w.message })),
      resources: s.resources ?? [],
      notes: [...(s.notes ?? [])],
      files,
      violations: (s.violations ?? []).map((v) => ({ ...v, details: [...v.details] })),
    };
  });
}
