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
/** The key of a branch-list problem among the per-branch ones. */
const BRANCH_LIST = '\0branches';

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
  private unread = new Map<string, { number: number; branch: string }>();
  /** The source's branches as last listed (null: not listed since the start). */
  private branches: string[] | null = null;

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
  unreadable(): ReadonlyMap<string, { number: number; branch: string }> {
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
    const unread = new Map<string, { number: number; branch: string }>();
    if (this.matches) {
      const branches = await this.branchList();
      for (const branch of branches ?? []) {
        const number = /(\d+)$/.exec(branch)?.[1];
        if (this.matches(branch) && number !== undefined && !wanted.has(Number(number))) wanted.set(Number(number), branch);
      }
      // The branches cannot be listed (and never were since the start): every known preview not
      // opened by a webhook may still have its branch, so none of them ends now.
      if (branches === null) for (const key of this.state.known) this.holdKey(key, wanted, unread);
    }
    const out: PreviewStage[] = [];
    for (const [number, branch] of [...wanted].sort(([a], [b]) => a - b)) {
      const made = await this.stageOf(number, branch, signal).catch((err: Error) => err);
      if (!(made instanceof Error)) {
        this.problems.delete(branch);
        this.lastRead.set(number, made);
        out.push(made);
        continue;
      }
      if (signal.aborted) throw made;
      // A preview ends (and is destroyed with its data) only when its branch is known to be gone
      // or its own manifests say so; any other failure (a fetch on the way, a disk, a bug) holds it.
      const ends = made instanceof PreviewGone || isBranchGone(made);
      const last = ends ? undefined : this.lastRead.get(number);
      const message = ends ? made.message : `${made.message}; ${last ? 'it keeps running as last read' : 'it is left as it is'} until the branch can be read`;
      if (this.problems.get(branch) !== message) this.deps.log.warn({ branch, preview: number }, `preview of branch ${branch}: ${message}`);
      this.problems.set(branch, message);
      if (ends) this.lastRead.delete(number);
      else if (last !== undefined && last.branch === branch) out.push(last);
      else for (const key of this.state.known) if (key.endsWith(`/${previewStageName(number)}`)) unread.set(key, { number, branch });
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

  /** The source's branches; when they cannot be listed, the last list (logged), or null when there is none. */
  private async branchList(): Promise<string[] | null> {
    try {
      this.branches = await this.source.branches!();
      this.problems.delete(BRANCH_LIST);
      return this.branches;
    } catch (err) {
      const message = `the branches cannot be listed (${(err as Error).message}); previews of --preview-branches stay as they are`;
      if (this.problems.get(BRANCH_LIST) !== message) this.deps.log.warn({}, message);
      this.problems.set(BRANCH_LIST, message);
      return this.branches;
    }
  }

  /** Holds a known preview key not wanted by a webhook: its last read if there is one, else left as deployed. */
  private holdKey(key: string, wanted: Map<number, string>, unread: Map<string, { number: number; branch: string }>): void {
    const number = Number(/\/pr-(\d+)$/.exec(key)?.[1]);
    if (!Number.isSafeInteger(number) || wanted.has(number)) return;
    const last = this.lastRead.get(number);
    if (last !== undefined) wanted.set(number, last.branch);
    else unread.set(key, { number, branch: '' });
  }

  private async stageOf(number: number, branch: string, signal: AbortSignal): Promise<PreviewStage> {
    const files = await this.source.readBranch!(branch, signal);
    const loaded = loadDesired(files);
    if (!loaded.ok) throw new PreviewGone(`its manifests are invalid (${loaded.issues.length} problem${loaded.issues.length === 1 ? '' : 's'}); no preview until they validate`);
    const keys = loaded.value.stages.map((s) => stageKey(refOf(s)));
    let key: string | undefined;
    try {
      [key] = selectStages(keys, [this.settings.from]);
    } catch (err) {
      throw new PreviewGone(`it has no stage ${this.settings.from} to copy: ${(err as Error).message}`);
    }
    const from = loaded.value.stages.find((s) => stageKey(refOf(s)) === key)!;
    const model = previewModel(from, previewStageName(number));
    return { key: stageKey(refOf(model)), number, branch, model, commit: files.commit ?? null, ref: `refs/heads/${branch}`, configRoot: configDirOf(files) };
  }

  private async save(): Promise<void> {
    await writeFileAtomic(join(this.stateDir, FILE), JSON.stringify(this.state, null, 2) + '\n');
  }
}

/** A branch's manifests make no preview (invalid, or without the FROM stage): that ends the preview. */
class PreviewGone extends Error {}

/** Whether reading a branch failed because the branch is not there (git sources say so with `E_GIT_BRANCH_MISSING`); anything else is a failure on the way. */
function isBranchGone(err: Error): boolean {
  return err instanceof SetopsError && err.code === 'E_GIT_BRANCH_MISSING';
}
