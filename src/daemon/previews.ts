import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import picomatch from 'picomatch';
import type { Deps } from '../deps.js';
import { SetopsError, UsageError } from '../errors.js';
import { configDirOf } from '../manifests/api.js';
import { loadDesired } from '../manifests/load.js';
import { previewModel, previewStageName } from '../model/preview-stage.js';
import { refOf, stageKey, type StageModel } from '../model/stage-model.js';
import { selectStages } from '../reconciler/stage-plan.js';
import { writeFileAtomic } from '../state/atomic.js';
import type { ConfigSource } from './sources/source.js';
import type { PullRequestEvent } from './webhooks.js';

/** `setopsd daemon --preview-stages FROM=STAGE [--preview-branches GLOB]`. */
export interface PreviewSettings {
  /** The stage each preview copies (`staging`, `shop/staging` or `acme/shop/staging`), as the branch's manifests declare it. */
  from: string;
  /** Branches that get a preview without a webhook, e.g. `pr/*`; the number is the branch name's last digits. */
  branches?: string;
}

/** One preview stage the daemon should run now. */
export interface PreviewStage {
  key: string;
  number: number;
  branch: string;
  model: StageModel;
  commit: string | null;
  ref: string;
  configRoot: string;
}

interface PreviewFile {
  formatVersion: 1;
  /** Open pull requests from webhooks: number → head branch. */
  open: Record<string, string>;
  /** Every preview stage key this daemon made, until its destroy succeeded. */
  known: string[];
}

const FILE = 'previews.json';

/**
 * Preview stages per pull request: which are open (from `pull_request` webhooks, or branches
 * matching `--preview-branches`), the stage model of each (the `from` stage of the branch's own
 * manifests, renamed `pr-<number>` and made unprotected), and which stage keys are previews (their
 * destroy needs no person). Remembered in `<stateDir>/previews.json` across restarts.
 */
export class Previews {
  private state: PreviewFile = { formatVersion: 1, open: {}, known: [] };
  private readonly matches: ((branch: string) => boolean) | null;
  /** Why a branch's preview could not be made, by branch (shown in the daemon log once per reason). */
  private readonly problems = new Map<string, string>();
  /** The preview last read from its branch, by pull request number: kept while the branch cannot be fetched. */
  private readonly lastRead = new Map<number, PreviewStage>();
  /** Known preview keys whose branch could not be read in the last {@link stages} and that have no last read (after a restart). */
  private unread = new Set<string>();

  constructor(
    private readonly stateDir: string,
    private readonly source: ConfigSource,
    readonly settings: PreviewSettings,
    private readonly deps: Pick<Deps, 'log'>,
  ) {
    if (!source.branches || !source.readBranch) throw new UsageError(`--preview-stages needs a git repository source with branches; ${source.description} has none`);
    this.matches = settings.branches ? picomatch(settings.branches) : null;
  }

  async load(): Promise<void> {
    const text = await readFile(join(this.stateDir, FILE), 'utf8').catch(() => null);
    if (text === null) return;
    try {
      const parsed = JSON.parse(text) as PreviewFile;
      if (parsed.formatVersion === 1) this.state = { formatVersion: 1, open: parsed.open ?? {}, known: parsed.known ?? [] };
    } catch {
      this.deps.log.warn({ file: join(this.stateDir, FILE) }, `${join(this.stateDir, FILE)} is not valid JSON; open pull requests are learned again from the next webhooks`);
    }
  }

  /**
   * A pull request opened, updated or closed; resolves once remembered, to whether it has a
   * preview. One from a fork has none: its code would run in a stage of this daemon, with the
   * stage's secrets, and a branch of the same name here is not its code either.
   */
  async pullRequest(event: PullRequestEvent): Promise<boolean> {
    const preview = event.open && event.fromFork !== true;
    if (preview) this.state.open[String(event.number)] = event.branch;
    else delete this.state.open[String(event.number)];
    await this.save();
    return preview;
  }

  /**
   * Known preview stages that the last {@link stages} could not read from their branch (a fetch
   * failed on the way) and has no earlier read of: the daemon leaves them as they are, neither
   * changed nor destroyed, until their branch can be read again.
   */
  unreadable(): ReadonlySet<string> {
    return this.unread;
  }

  /** Whether a stage key is (or was) one of this daemon's preview stages. */
  isPreview(key: string): boolean {
    return this.state.known.includes(key);
  }

  /** A preview stage is gone (its destroy succeeded). */
  async forget(key: string): Promise<void> {
    if (!this.state.known.includes(key)) return;
    this.state.known = this.state.known.filter((k) => k !== key);
    await this.save();
  }

  /** The preview stages to run now, each from its branch's manifests; branches whose manifests are invalid or lack the stage are left out (logged). */
  async stages(signal: AbortSignal): Promise<PreviewStage[]> {
    const wanted = new Map<number, string>();
    for (const [n, branch] of Object.entries(this.state.open)) wanted.set(Number(n), branch);
    if (this.matches) {
      for (const branch of await this.source.branches!()) {
        const number = /(\d+)$/.exec(branch)?.[1];
        if (this.matches(branch) && number !== undefined && !wanted.has(Number(number))) wanted.set(Number(number), branch);
      }
    }
    const out: PreviewStage[] = [];
    const unread = new Set<string>();
    for (const [number, branch] of [...wanted].sort(([a], [b]) => a - b)) {
      const made = await this.stageOf(number, branch, signal).catch((err: Error) => err);
      if (made instanceof Error) {
        if (signal.aborted) throw made;
        // Only a branch that is gone, or whose manifests say so, ends its preview; a fetch that
        // failed on the way (a remote source) keeps the preview as it was last read.
        const held = isReadFailure(made);
        const last = held ? this.lastRead.get(number) : undefined;
        const message = held ? `${made.message}; ${last ? 'it keeps running as last read' : 'it is left as it is'} until the branch can be read` : made.message;
        if (this.problems.get(branch) !== message) this.deps.log.warn({ branch, preview: number }, `preview of branch ${branch}: ${message}`);
        this.problems.set(branch, message);
        if (last !== undefined && last.branch === branch) out.push(last);
        else if (held) for (const key of this.state.known) if (key.endsWith(`/${previewStageName(number)}`)) unread.add(key);
        if (!held) this.lastRead.delete(number);
        continue;
      }
      this.problems.delete(branch);
      this.lastRead.set(number, made);
      out.push(made);
    }
    for (const n of [...this.lastRead.keys()]) if (!wanted.has(n)) this.lastRead.delete(n);
    this.unread = unread;
    const keys = out.map((p) => p.key).filter((k) => !this.state.known.includes(k));
    if (keys.length > 0) {
      this.state.known = [...this.state.known, ...keys].sort();
      await this.save();
    }
    return out;
  }

  private async stageOf(number: number, branch: string, signal: AbortSignal): Promise<PreviewStage> {
    const files = await this.source.readBranch!(branch, signal);
    const loaded = loadDesired(files);
    if (!loaded.ok) throw new Error(`its manifests are invalid (${loaded.issues.length} problem${loaded.issues.length === 1 ? '' : 's'}); no preview until they validate`);
    const keys = loaded.value.stages.map((s) => stageKey(refOf(s)));
    let key: string | undefined;
    try {
      [key] = selectStages(keys, [this.settings.from]);
    } catch (err) {
      throw new Error(`it has no stage ${this.settings.from} to copy: ${(err as Error).message}`);
    }
    const from = loaded.value.stages.find((s) => stageKey(refOf(s)) === key)!;
    const model = previewModel(from, previewStageName(number));
    return { key: stageKey(refOf(model)), number, branch, model, commit: files.commit ?? null, ref: `refs/heads/${branch}`, configRoot: configDirOf(files) };
  }

  private async save(): Promise<void> {
    await writeFileAtomic(join(this.stateDir, FILE), JSON.stringify(this.state, null, 2) + '\n');
  }
}

/**
 * Whether reading a branch failed on the way (a fetch from a remote: network, server, credentials)
 * rather than because the branch is gone or its manifests are not a preview: git sources report a
 * branch that is not there as `E_GIT_BRANCH_MISSING` (remote) or a ManifestError (local).
 */
function isReadFailure(err: Error): boolean {
  if (!(err instanceof SetopsError)) return false;
  return err.code.startsWith('E_GIT_') && err.code !== 'E_GIT_BRANCH_MISSING';
}
