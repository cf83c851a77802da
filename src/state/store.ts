import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from '../errors.js';
import { stageKey, type StageModel, type StageRef } from '../model/stage-model.js';
import type { ActualState } from '../model/actual-state.js';
import { sortKeys } from '../model/canonical.js';
import { writeFileAtomic } from './atomic.js';
import { STATE_FILE, stageDir } from './paths.js';
import { stageDirRefs } from './stage-dirs.js';

/** On-disk form of `state.json`. */
interface StateFile {
  formatVersion: 1;
  serial: number;
  model: StageModel | null;
  /** Digests of the secrets the model uses (`secret-digests.ts`); absent in older files. */
  secretDigests?: Record<string, string>;
}

/**
 * Recorded stage state under the state directory: what the local engine applied, and what
 * `setopsd plan` reads for local stages. Writes are atomic; the serial increases by one per write.
 */
export class StateStore {
  constructor(readonly stateDir: string) {}

  /** The recorded state of a stage; `{ model: null, serial: null }` when nothing was ever recorded. */
  async read(ref: StageRef): Promise<ActualState> {
    const file = join(stageDir(this.stateDir, ref), STATE_FILE);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { model: null, serial: null };
      throw new EngineError(`stage ${stageKey(ref)}: cannot read ${file}: ${(err as Error).message}; check that the state directory is readable`, { code: 'E_STATE_UNREADABLE', cause: err });
    }
    let parsed: StateFile;
    try {
      parsed = JSON.parse(text) as StateFile;
    } catch (err) {
      throw new EngineError(
        `stage ${stageKey(ref)}: ${file} is not valid JSON; restore it from a backup or remove it to treat the stage as not deployed`,
        { code: 'E_STATE_CORRUPT', cause: err, data: { file } },
      );
    }
    if (parsed.formatVersion !== 1) {
      throw new EngineError(`stage ${stageKey(ref)}: ${file} has unknown formatVersion ${String(parsed.formatVersion)}; upgrade setopsd`, { code: 'E_STATE_CORRUPT' });
    }
    return { model: parsed.model, serial: String(parsed.serial), ...(parsed.secretDigests ? { secretDigests: parsed.secretDigests } : {}) };
  }

  /** Records `model` (null: the stage is gone) and returns the new serial. */
  async write(ref: StageRef, model: StageModel | null, extra: { secretDigests?: Record<string, string> } = {}): Promise<string> {
    const current = await this.read(ref);
    const serial = (current.serial === null ? 0 : Number(current.serial)) + 1;
    const body: StateFile = { formatVersion: 1, serial, model, ...(extra.secretDigests ? { secretDigests: extra.secretDigests } : {}) };
    await writeFileAtomic(join(stageDir(this.stateDir, ref), STATE_FILE), JSON.stringify(sortKeys(body), null, 2) + '\n');
    return String(serial);
  }

  /**
   * Every stage that has a state file, sorted level by level (organization, project, stage).
   * Only looks for the files; `read` parses (and reports) them.
   */
  async list(): Promise<StageRef[]> {
    const out: StageRef[] = [];
    for (const ref of await stageDirRefs(this.stateDir)) {
      if (existsSync(join(stageDir(this.stateDir, ref), STATE_FILE))) out.push(ref);
    }
    return out;
  }
}
