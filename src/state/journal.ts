import { access, readFile, readdir } from 'node:fs/promises';
import { pidAlive } from '../pid.js';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { EngineError } from '../errors.js';
import { canonicalJson, hashOf, sortKeys } from '../model/canonical.js';
import { stageKey, type StageModel, type StageRef } from '../model/stage-model.js';
import type { Changeset, Summary } from '../model/changeset.js';
import { removeTornTemps, writeFileAtomic } from './atomic.js';
import { JOURNAL_DIR, LOGS_DIR, MODELS_DIR, stageDir } from './paths.js';

/** Lifecycle of a deployment: written `pending` before anything changes, then `running`, then an outcome. */
export type DeploymentStatus = 'pending' | 'running' | 'succeeded' | 'failed';

/** What started a deployment. */
export type Trigger = 'cli' | 'plan-file' | 'daemon' | 'rollback' | 'redeploy' | 'preview' | (string & {});

/**
 * One numbered deployment of one stage, as stored in `<stageDir>/journal/NNNNNN.json`.
 * The changeset is the masked one from the plan (it never holds a secret value).
 */
export interface Deployment {
  formatVersion: 1;
  number: number;
  /** `org/project/stage`. */
  stage: string;
  /** `apply` converges the stage to a desired model; `destroy` removes it. */
  kind: 'apply' | 'destroy';
  commit: string | null;
  ref: string | null;
  trigger: Trigger;
  /** For trigger `rollback`: the deployment whose stored model this one re-applied. */
  rollbackOf?: number;
  changeset: Changeset;
  /**
   * Hash of the desired StageModel (null for a destroy). The model itself is stored under
   * `models/<desiredHash>.json` (journals written before setopsd stored models have none).
   */
  desiredHash: string | null;
  status: DeploymentStatus;
  /** ISO times from `deps.clock`. */
  startedAt: string;
  endedAt?: string;
  error?: { code: string; message: string };
  /** Absolute path of the deployment log. */
  log: string;
  /** The config directory the deployment ran from (local engine: app workdirs are below it). */
  configRoot?: string;
  /** Subjects the engine reported done (also after a failure). */
  applied: string[];
  /** Counts by operation, plus engine-specific counts. */
  summary: Summary & Record<string, number>;
  /** The process that ran the deployment, to tell an interrupted one from a live one. */
  pid: number;
  host: string;
}

/** The fields a caller gives when opening a deployment; the journal fills in the rest. */
export type NewDeployment = Pick<Deployment, 'kind' | 'commit' | 'ref' | 'trigger' | 'changeset' | 'desiredHash' | 'summary'> & Pick<Partial<Deployment>, 'rollbackOf' | 'configRoot'>;

const FILE_RE = /^(\d{6,})\.json$/;

/**
 * The deployment journal of one stage. Every write replaces one entry file atomically, so a
 * crash leaves either the previous or the next version of an entry, never a torn one.
 * Callers hold the stage lock (`src/state/lock.ts`) while they open and update entries.
 */
export class Journal {
  readonly dir: string;
  readonly logsDir: string;
  readonly modelsDir: string;

  constructor(
    readonly stateDir: string,
    readonly ref: StageRef,
    private readonly now: () => number,
  ) {
    this.dir = join(stageDir(stateDir, ref), JOURNAL_DIR);
    this.logsDir = join(stageDir(stateDir, ref), LOGS_DIR);
    this.modelsDir = join(stageDir(stateDir, ref), MODELS_DIR);
  }

  /**
   * Stores a desired StageModel under its hash (canonical JSON, atomically; a model already
   * stored is not written again) and returns the hash. Models hold `{secret}` references only.
   */
  async storeModel(model: StageModel): Promise<string> {
    const hash = hashOf(model);
    const file = join(this.modelsDir, `${hash}.json`);
    if (!(await exists(file))) await writeFileAtomic(file, canonicalJson(model) + '\n');
    return hash;
  }

  /** The desired model a deployment applied; null for a destroy or an entry older than stored models. */
  async model(entry: Pick<Deployment, 'number' | 'desiredHash'>): Promise<StageModel | null> {
    if (entry.desiredHash === null) return null;
    const file = join(this.modelsDir, `${entry.desiredHash}.json`);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new EngineError(`stage ${stageKey(this.ref)}: cannot read the model of deployment #${entry.number} (${file}): ${(err as Error).message}; check that the state directory is readable`, {
        code: 'E_STATE_UNREADABLE',
        cause: err,
      });
    }
    const model = parseJson<StageModel>(text, () => new EngineError(`stage ${stageKey(this.ref)}: ${file} is not valid JSON; move it aside to continue`, { code: 'E_STATE_CORRUPT', data: { file } }));
    if (hashOf(model) !== entry.desiredHash) {
      throw new EngineError(`stage ${stageKey(this.ref)}: ${file} does not hash to ${entry.desiredHash}; it was edited; restore it or move it aside`, { code: 'E_STATE_CORRUPT', data: { file } });
    }
    return model;
  }

  /** The newest deployment that succeeded, or null. */
  async lastSucceeded(): Promise<Deployment | null> {
    return this.newest((e) => e.status === 'succeeded');
  }

  /** The newest deployment made at `commit` (any outcome), or null. */
  async lastAtCommit(commit: string): Promise<Deployment | null> {
    return this.newest((e) => e.commit === commit);
  }

  /** Whether a deployment at `commit` succeeded on this stage. */
  async succeededAt(commit: string): Promise<boolean> {
    return (await this.newest((e) => e.commit === commit && e.status === 'succeeded')) !== null;
  }

  /** The newest entry matching `pred`, reading from the newest down. */
  private async newest(pred: (entry: Deployment) => boolean): Promise<Deployment | null> {
    const numbers = await this.numbers();
    for (let i = numbers.length - 1; i >= 0; i--) {
      const entry = await this.get(numbers[i]!);
      if (pred(entry)) return entry;
    }
    return null;
  }

  /** Path of entry `number`. */
  pathOf(number: number): string {
    return join(this.dir, `${String(number).padStart(6, '0')}.json`);
  }

  /** Every entry, oldest first. */
  async list(): Promise<Deployment[]> {
    const numbers = await this.numbers();
    const out: Deployment[] = [];
    for (const n of numbers) out.push(await this.get(n));
    return out;
  }

  /** The newest entry, or null when the stage was never deployed. */
  async latest(): Promise<Deployment | null> {
    const numbers = await this.numbers();
    const last = numbers[numbers.length - 1];
    return last === undefined ? null : this.get(last);
  }

  /** Reads entry `number`. */
  async get(number: number): Promise<Deployment> {
    const file = this.pathOf(number);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new EngineError(`stage ${stageKey(this.ref)}: cannot read journal entry ${file}: ${(err as Error).message}; check that the state directory is readable`, {
        code: 'E_STATE_UNREADABLE',
        cause: err,
      });
    }
    try {
      return JSON.parse(text) as Deployment;
    } catch (err) {
      throw new EngineError(`stage ${stageKey(this.ref)}: journal entry ${file} is not valid JSON; move it aside to continue`, {
        code: 'E_STATE_CORRUPT',
        cause: err,
        data: { file },
      });
    }
  }

  /** Writes a new `pending` entry with the next number and returns it. Call with the stage lock held. */
  async open(fields: NewDeployment): Promise<Deployment> {
    const numbers = await this.numbers();
    const number = (numbers[numbers.length - 1] ?? 0) + 1;
    const entry: Deployment = {
      formatVersion: 1,
      number,
      stage: stageKey(this.ref),
      ...fields,
      status: 'pending',
      startedAt: new Date(this.now()).toISOString(),
      log: join(this.logsDir, `deploy-${String(number).padStart(6, '0')}.log`),
      applied: [],
      pid: process.pid,
      host: hostname(),
    };
    await this.write(entry);
    return entry;
  }

  /** Marks an entry `running`. */
  async start(entry: Deployment): Promise<Deployment> {
    const next: Deployment = { ...entry, status: 'running' };
    await this.write(next);
    return next;
  }

  /** Records the outcome of an entry. */
  async finish(
    entry: Deployment,
    outcome: { status: 'succeeded' | 'failed'; applied: string[]; error?: { code: string; message: string }; summary?: Record<string, number> },
  ): Promise<Deployment> {
    const next: Deployment = {
      ...entry,
      status: outcome.status,
      endedAt: new Date(this.now()).toISOString(),
      applied: outcome.applied,
      summary: { ...entry.summary, ...(outcome.summary ?? {}) },
    };
    if (outcome.error) next.error = outcome.error;
    else delete next.error;
    await this.write(next);
    return next;
  }

  /**
   * Closes entries left `pending`/`running` by a process that is gone: they become `failed` with
   * the error "interrupted (process PID gone)". Entries are never deleted. Call with the stage lock
   * held (then no live process can own an open entry); entries of a live process on this host are
   * left alone all the same. Returns the closed entries.
   */
  async closeInterrupted(isAlive: (pid: number) => boolean = pidAlive): Promise<Deployment[]> {
    const closed: Deployment[] = [];
    // Torn temp files of a killed writer (journal entries, stored models, state.json).
    for (const dir of [this.dir, this.modelsDir, dirname(this.dir)]) await removeTornTemps(dir, isAlive);
    for (const entry of await this.list()) {
      if (entry.status !== 'pending' && entry.status !== 'running') continue;
      // An open entry of this process, or of a live one on this host, is still being worked on.
      if (entry.host === hostname() && (entry.pid === process.pid || isAlive(entry.pid))) continue;
      const next: Deployment = {
        ...entry,
        status: 'failed',
        endedAt: new Date(this.now()).toISOString(),
        error: { code: 'E_INTERRUPTED', message: `interrupted (process ${entry.pid} gone)` },
      };
      await this.write(next);
      closed.push(next);
    }
    return closed;
  }

  private async write(entry: Deployment): Promise<void> {
    await writeFileAtomic(this.pathOf(entry.number), JSON.stringify(sortKeys(entry), null, 2) + '\n');
  }

  private async numbers(): Promise<number[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: number[] = [];
    for (const name of names) {
      const m = FILE_RE.exec(name);
      if (m) out.push(Number(m[1]));
    }
    return out.sort((a, b) => a - b);
  }
}

/** Whether the process that wrote an entry is known to be gone (same host, pid not alive). */
export function processGone(entry: Pick<Deployment, 'pid' | 'host'>): boolean {
  return entry.host === hostname() && entry.pid !== process.pid && !pidAlive(entry.pid);
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

function parseJson<T>(text: string, bad: () => Error): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw bad();
  }
}
