/**
 * Reading Pulumi stack state without the CLI: the DIY checkpoint file
 * (`{version, features?, checkpoint: {stack, latest}}`) or the `deployment` of
 * `pulumi stack export` (`{version, features?, deployment}`). Both hold the same deployment
 * object (`apitype.DeploymentV3`). Secret values stay as they are stored (encrypted envelopes):
 * nothing here decrypts or prints them.
 *
 * Serial: `sha256:` of the canonical JSON of the deployment. It changes with every recorded
 * update (each checkpoint write has a new manifest time) and stays put while the stack does
 * not change; the file and export paths give the same serial for the same deployment.
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { EngineError } from '../../../errors.js';
import { hashOf } from '../../../model/canonical.js';
import type { StageModel } from '../../../model/stage-model.js';
import { isSecretValue } from './values.js';

/** The output of the stack that holds the applied StageModel (canonical JSON). */
export const MODEL_OUTPUT = 'setopsdStageModel';

/**
 * Deployment features setopsd knows, spelled as Pulumi writes them in a v4 state's `features`.
 * They change how the engine treats resources (or how values are encoded: `byteString`), not the
 * stack outputs setopsd reads, so a deployment that uses them can be read safely.
 */
export const KNOWN_FEATURES: readonly string[] = [
  'refreshBeforeUpdate',
  'views',
  'hooks',
  'taint',
  'replaceWith',
  'snippets-prototype',
  'extensionParameterization',
  'byteString',
];

/** The environment variable that makes the DIY backend write zstd-compressed checkpoints. */
export const ZSTD_VARIABLE = 'PULUMI_DIY_BACKEND_ZSTD';

/** What to do about a damaged state file. */
const RESTORE = "restore the stack's state from the backend's .pulumi/backups (or `pulumi stack import` a good export)";

/** A pending operation left by an interrupted deployment. */
export interface PendingOperation {
  urn: string;
  /** `creating`, `updating`, `deleting`, `reading`, `importing`. */
  type: string;
  /** Provider id when known (needed for `--import-pending-creates`). */
  id?: string;
}

/** What setopsd takes from a stack's recorded deployment. */
export interface DeploymentInfo {
  version: number;
  resourceCount: number;
  /** Outputs of the root `pulumi:pulumi:Stack` resource (secrets still encrypted); null when absent. */
  outputs: Record<string, unknown> | null;
  pendingOperations: PendingOperation[];
  /**
   * Final snapshot identifiers the recorded resources carry (`inputs.finalSnapshotIdentifier`),
   * by logical name (the URN's last part): the program keeps each database's first one.
   */
  finalSnapshots: Record<string, string>;
  /** Null when the deployment has no resources (a new or destroyed stack). */
  serial: string | null;
}

interface RawResource {
  urn?: string;
  type?: string;
  id?: string;
  outputs?: Record<string, unknown>;
}

function fail(source: string, message: string, data: Record<string, unknown> = {}): never {
  throw new EngineError(`${source}: ${message}`, { code: 'E_PULUMI_STATE', data: { source, ...data } });
}

/** Checks version and features of a versioned envelope. */
function checkVersion(source: string, version: unknown, features: unknown): number {
  if (version === undefined) {
    fail(
      source,
      'the Pulumi state has no "version": it was written by a Pulumi release older than 1.0 (or is not Pulumi state); ' +
        'upgrade it by running `pulumi stack export --file state.json && pulumi stack import --file state.json` with a current Pulumi CLI',
      { pointer: '/version' },
    );
  }
  if (version === 1 || version === 2) {
    fail(
      source,
      `Pulumi state version ${String(version)} is from a Pulumi release older than 1.0 and setopsd does not read it; ` +
        'upgrade it by running `pulumi stack export --file state.json && pulumi stack import --file state.json` with a current Pulumi CLI',
      { version },
    );
  }
  if (version !== 3 && version !== 4) {
    fail(source, `/version: unknown Pulumi state version ${JSON.stringify(version)}; upgrade setopsd to read state written by newer Pulumi releases`, { version, pointer: '/version' });
  }
  if (version === 4) {
    const list = Array.isArray(features) ? features : [];
    const unknown = list.filter((f) => typeof f !== 'string' || !KNOWN_FEATURES.includes(f));
    if (unknown.length > 0) {
      fail(
        source,
        `the Pulumi state uses features setopsd does not support (${unknown.map(String).join(', ')}); upgrade setopsd, or read the stage with a Pulumi CLI that supports them`,
        { version, features: list },
      );
    }
  }
  return version;
}

/**
 * Reads a deployment object (checkpoint `latest` or export `deployment`; `pointer` is where it
 * sits in the file, for messages). Damaged parts are located errors (`E_PULUMI_STATE`), never a
 * TypeError or RangeError.
 */
export function parseDeployment(deployment: unknown, version: number, source: string, pointer = ''): DeploymentInfo {
  try {
    return readDeployment(deployment, version, source, pointer);
  } catch (err) {
    // Recursion over values nested deeper than the stack allows (hashing, secret checks).
    if (err instanceof RangeError) {
      fail(source, `${pointer || '/'}: the Pulumi state nests values deeper than setopsd can read; ${RESTORE}`, { pointer });
    }
    throw err;
  }
}

function readDeployment(deployment: unknown, version: number, source: string, pointer: string): DeploymentInfo {
  if (deployment === null || deployment === undefined) {
    return { version, resourceCount: 0, outputs: null, pendingOperations: [], finalSnapshots: {}, serial: null };
  }
  if (typeof deployment !== 'object' || Array.isArray(deployment)) fail(source, `${pointer || '/'}: the deployment is not a JSON object; the state file is damaged; ${RESTORE}`, { pointer });
  const d = deployment as { resources?: unknown; pending_operations?: unknown };
  const resources = (Array.isArray(d.resources) ? d.resources : []) as RawResource[];
  resources.forEach((r, i) => {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) {
      fail(source, `${pointer}/resources/${i}: a resource is ${r === null ? 'null' : `a ${Array.isArray(r) ? 'list' : typeof r}`}, not an object; the state file is damaged; ${RESTORE}`, { pointer: `${pointer}/resources/${i}` });
    }
  });
  const root = resources.find((r) => r.type === 'pulumi:pulumi:Stack' && !(r as { delete?: boolean }).delete);
  const pendingOperations: PendingOperation[] = [];
  const pending = (Array.isArray(d.pending_operations) ? d.pending_operations : []) as unknown[];
  pending.forEach((raw, i) => {
    const at = `${pointer}/pending_operations/${i}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      fail(source, `${at}: a pending operation is ${raw === null ? 'null' : 'not an object'}; the state file is damaged; ${RESTORE}`, { pointer: at });
    }
    const op = raw as { resource?: unknown; type?: unknown };
    const resource = (typeof op.resource === 'object' && op.resource !== null ? op.resource : {}) as RawResource;
    const p: PendingOperation = { urn: typeof resource.urn === 'string' ? resource.urn : '(unknown)', type: typeof op.type === 'string' ? op.type : 'unknown' };
    if (typeof resource.id === 'string' && resource.id !== '') p.id = resource.id;
    pendingOperations.push(p);
  });
  const finalSnapshots: Record<string, string> = {};
  for (const r of resources) {
    const id = (r as { inputs?: Record<string, unknown> }).inputs?.finalSnapshotIdentifier;
    if (typeof r.urn === 'string' && typeof id === 'string' && id !== '' && !(r as { delete?: boolean }).delete) {
      finalSnapshots[r.urn.slice(r.urn.lastIndexOf('::') + 2)] = id;
    }
  }
  return {
    version,
    resourceCount: resources.length,
    outputs: root?.outputs ?? null,
    pendingOperations,
    finalSnapshots,
    serial: resources.length === 0 && pendingOperations.length === 0 ? null : hashOf(deployment),
  };
}

/** Parses the text of a DIY checkpoint file. */
export function parseCheckpoint(text: string, source: string): DeploymentInfo {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    fail(source, `not valid JSON (${(err as Error).message}); restore the state from the backend's .pulumi/backups or history`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) fail(source, 'not a Pulumi checkpoint (expected a JSON object)');
  const env = parsed as { version?: unknown; features?: unknown; checkpoint?: { latest?: unknown } };
  const version = checkVersion(source, env.version, env.features);
  if (typeof env.checkpoint !== 'object' || env.checkpoint === null) fail(source, 'not a Pulumi checkpoint (no "checkpoint" object)');
  return parseDeployment(env.checkpoint.latest, version, source, '/checkpoint/latest');
}

/** Parses the output of `pulumi stack export` (`{version, features?, deployment}`). */
export function parseExport(text: string, source: string): DeploymentInfo {
  let parsed: { version?: unknown; features?: unknown; deployment?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch (err) {
    fail(source, `\`pulumi stack export\` printed invalid JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) fail(source, '`pulumi stack export` did not print a JSON object');
  const version = checkVersion(source, parsed.version, parsed.features);
  return parseDeployment(parsed.deployment, version, source, '/deployment');
}

/** Reads the first existing checkpoint file among `paths`; null when none exists. */
export async function readCheckpointFile(paths: readonly string[]): Promise<DeploymentInfo | null> {
  for (const path of paths) {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new EngineError(`${path}: cannot read the Pulumi checkpoint: ${(err as Error).message}`, { code: 'E_PULUMI_STATE', cause: err });
    }
    if (path.endsWith('.zst')) {
      fail(path, `the checkpoint is zstd-compressed, which setopsd cannot read without the Pulumi CLI; install the Pulumi CLI, or unset ${ZSTD_VARIABLE} and let the next update write it uncompressed`);
    }
    let text: string;
    try {
      text = path.endsWith('.gz') ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8');
    } catch (err) {
      fail(path, `the gzip-compressed checkpoint is damaged (${(err as Error).message}); ${RESTORE}`);
    }
    return parseCheckpoint(text, path);
  }
  return null;
}

/** The applied StageModel from the stack outputs; null when the stack has no setopsd model. */
export function modelFromOutputs(outputs: Record<string, unknown> | null, source: string): StageModel | null {
  const value = outputs?.[MODEL_OUTPUT];
  if (value === undefined || value === null) return null;
  if (isSecretValue(value)) {
    fail(source, `the stack output ${MODEL_OUTPUT} is a secret; setopsd never decrypts state. Export it as a plain output (it holds no secret values)`);
  }
  if (typeof value === 'string') {
    try {
      return JSON.parse(value) as StageModel;
    } catch {
      fail(source, `the stack output ${MODEL_OUTPUT} is not valid JSON; run \`setopsd apply\` to record the stage again`);
    }
  }
  if (typeof value === 'object') return value as StageModel;
  fail(source, `the stack output ${MODEL_OUTPUT} has type ${typeof value}, expected a JSON string`);
}
