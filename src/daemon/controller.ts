import { createHash } from 'node:crypto';
import { commitsAhead } from '../manifests/commits-ahead.js';
import type { Deps } from '../deps.js';
import { SetopsError, UsageError, formatIssue } from '../errors.js';
import { loadDesired, type ParseCache, type StageCache } from '../manifests/load.js';
import { configDirOf, type SourceFiles } from '../manifests/api.js';
import { hashOf } from '../model/canonical.js';
import { refOf, stageKey, type OrganizationModel, type StageModel, type StageRef } from '../model/stage-model.js';
import type { ApplyEvent } from '../operations/apply-stage.js';
import { checkDrift } from '../operations/check-drift.js';
import type { Notifier } from '../providers/notify/notifier.js';
import { driftNotice } from '../providers/notify/notices.js';
import { planner } from '../operations/jobs.js';
import { rulesInScope } from '../reconciler/policies.js';
import { cachedEngines, type EngineFactory } from '../operations/plan-stages.js';
import { reconcileStage, type DesiredSnapshot, type ReconcileContext, type ReconcileResult } from '../operations/reconcile-stage.js';
import { secretsFor } from '../providers/registry.js';
import { StatusRecords, type StageStatusRecord } from '../state/status-record.js';
import { StateStore } from '../state/store.js';
import type { ConfigSource } from './sources/source.js';
import type { PreviewStage, Previews } from './previews.js';

/** What the daemon reports as it works: the API's event stream, logs and metrics hang on it. */
export type DaemonEvent =
  | { type: 'synced'; revision: string | null; stages: number; changed: string[] }
  | { type: 'invalid'; revision: string | null; issues: number; /** The first problems, as `file:line:col: /pointer: message`. */ problems: string[] }
  | { type: 'source-error'; code: string; message: string }
  | { type: 'apply'; stage: string; event: ApplyEvent }
  | { type: 'held'; stage: string; reason: string }
  | { type: 'approved'; stage: string; planId: string }
  | { type: 'retry'; stage: string }
  | { type: 'drift'; stage: string; findings: string[]; healing: boolean };

/** Which stages this daemon owns: `--shard K/N` (1-based K). */
export interface Shard {
  index: number;
  count: number;
}

export interface ControllerOptions {
  deps: Deps;
  stateDir: string;
  source: ConfigSource;
  /** `--secrets FILE`, absolute. */
  secretsFile?: string;
  shard?: Shard;
  stallAfter?: number;
  engineFactory?: EngineFactory;
  onEvent?: (event: DaemonEvent) => void;
  /** Delivers notices to the stages' `notifications` (deployments, approvals, stalls, drift). */
  notifier?: Notifier;
  /** `--preview-stages`: a `pr-<number>` stage per open pull request, from its branch. */
  previews?: Previews;
}

/**
 * The daemon's reconciler: loads the newest revision of the source into a desired snapshot,
 * tells the work queue which stages changed, and reconciles one stage at a time per key through
 * `reconcileStage` — after its `after:` stage has converged to the same snapshot, never when it
 * is stalled on the same desired state (until `retry`), never when it is another shard's.
 */
export class Controller {
  private current: DesiredSnapshot;
  private lastError: { code: string; message: string; issues?: DesiredSnapshot['issues'] } | null = null;
  private synced = false;
  private readonly hashes = new Map<string, string>();
  /** Per stage, the hash of the policy rules in its scope: a commit that changes them reconciles the stage again. */
  private readonly ruleHashes = new Map<string, string>();
  private readonly approvals = new Map<string, string>();
  private readonly retries = new Set<string>();
  private readonly repairs = new Set<string>();
  /** Parsed documents by file and content: a commit that changes one file parses one file. */
  private readonly parseCache: ParseCache = new Map();
  /** Resolved stages by key: a stage whose declarations did not change is not resolved again (the same model object). */
  private readonly stageCache: StageCache = new Map();
  /** Desired hashes by model object: an unchanged stage is not hashed again. */
  private readonly modelHashes = new WeakMap<StageModel, string>();
  private readonly engineOf: (organization: OrganizationModel) => ReturnType<EngineFactory>;
  readonly records: StatusRecords;
  private previewStages = new Map<string, PreviewStage>();

  constructor(
    private readonly opts: ControllerOptions,
    private readonly enqueue: (key: string) => void,
  ) {
    this.engineOf = cachedEngines(opts.stateDir, opts.deps, opts.engineFactory);
    this.records = new StatusRecords(opts.stateDir, () => opts.deps.clock.now());
    this.current = { commit: null, ref: null, configRoot: '', stages: new Map() };
  }

  /** The open preview stage of a key (its pull request number and branch), if it is one. */
  preview(key: string): PreviewStage | undefined {
    return this.previewStages.get(key);
  }

  /** Where a stage's public apps answer, from its engine (preview links); empty when nothing runs. */
  async appUrls(key: string, signal?: AbortSignal): Promise<Record<string, string>> {
    const model = this.current.stages?.get(key);
    if (!model) return {};
    const engine = await this.engineOf(model.organization);
    const status = await engine.status?.(parseKey(key), signal).catch(() => null);
    return Object.fromEntries(Object.entries(status?.apps ?? {}).flatMap(([n, a]) => (a.url ? [[n, a.url]] : [])));
  }

  /** The newest snapshot (stages null: the newest revision is invalid and nothing applies). */
  snapshot(): DesiredSnapshot {
    return this.current;
  }

  /** Whether the first sync has completed (for `/readyz`). */
  ready(): boolean {
    return this.synced;
  }

  /** The error of the newest sync: a source that could not be read, or an invalid revision with its issues. */
  error(): { code: string; message: string; issues?: DesiredSnapshot['issues'] } | null {
    return this.lastError;
  }

  /**
   * Reads the newest revision and enqueues every stage of this shard whose desired state changed,
   * and recorded stages gone from the manifests. An invalid revision applies nothing: it becomes
   * the snapshot (so no reconcile applies an older one) and is reported with its issues.
   */
  async sync(signal: AbortSignal): Promise<void> {
    let files: SourceFiles;
    try {
      files = await this.opts.source.read(signal);
    } catch (err) {
      const e = err instanceof SetopsError ? err : new SetopsError(`${this.opts.source.description}: ${(err as Error).message}`, { code: 'E_MANIFEST', cause: err });
      if (signal.aborted) throw e; // stopping: not a source problem
      this.lastError = { code: e.code, message: e.message };
      this.emit({ type: 'source-error', code: e.code, message: e.message });
      throw e;
    }
    const revision = files.commit ?? null;
    const configRoot = configDirOf(files);
    const loaded = loadDesired(files, { cache: this.parseCache, stageCache: this.stageCache });
    if (!loaded.ok) {
      // Located as in the repository (`config/setops.yaml:3:5`), as `setopsd validate --repo` shows them.
      const issues = files.dir ? loaded.issues.map((i) => ({ ...i, file: `${files.dir}/${i.file}` })) : loaded.issues;
      this.current = { commit: revision, ref: files.ref ?? null, configRoot, stages: null, issues };
      this.lastError = { code: 'E_VALIDATION', message: `${issues.length} problem${issues.length === 1 ? '' : 's'} in the manifests at ${revision ?? 'the working tree'}`, issues };
      this.synced = true;
      this.emit({ type: 'invalid', revision, issues: issues.length, problems: issues.slice(0, 20).map(formatIssue) });
      return;
    }
    const wasInvalid = this.current.stages === null;
    const stages = new Map<string, StageModel>();
    for (const model of loaded.value.stages) {
      const key = stageKey(refOf(model));
      if (this.owns(key)) stages.set(key, model);
    }
    // Preview stages come from their own branches; a name the main branch declares itself wins.
    const origins = new Map<string, { commit: string | null; ref: string | null; configRoot: string }>();
    this.previewStages = new Map();
    for (const p of (await this.opts.previews?.stages(signal)) ?? []) {
      if (stages.has(p.key) || !this.owns(p.key)) continue;
      stages.set(p.key, p.model);
      origins.set(p.key, { commit: p.commit, ref: p.ref, configRoot: p.configRoot });
      this.previewStages.set(p.key, p);
    }
    // A preview whose branch could not be fetched just now (and that this daemon has not read since
    // it started) is wanted as it was deployed, from the commit it was deployed from: neither
    // reconciled nor destroyed until its branch reads again.
    const held = new Set<string>();
    for (const [key, { number, branch }] of this.opts.previews?.unreadable() ?? []) {
      if (stages.has(key) || !this.owns(key)) continue;
      const [organization = '', project = '', stage = ''] = key.split('/');
      const ref = { organization, project, stage };
      const recorded = (await new StateStore(this.opts.stateDir).read(ref)).model;
      if (recorded === null) continue;
      const commit = (await this.records.read(ref))?.lastAppliedRevision ?? null;
      const branchRef = branch === '' ? null : `refs/heads/${branch}`;
      stages.set(key, recorded);
      held.add(key);
      origins.set(key, { commit, ref: branchRef, configRoot });
      if (branch !== '') this.previewStages.set(key, { key, number, branch, model: recorded, commit, ref: branchRef!, configRoot });
    }
    this.current = { commit: revision, ref: files.ref ?? null, configRoot, stages, ...(origins.size > 0 ? { origins } : {}), ...(loaded.value.policies?.length ? { policies: loaded.value.policies } : {}) };
    this.lastError = null;
    const changed: string[] = [];
    const policies = loaded.value.policies ?? [];
    // Each rule hashed once per revision; a stage's key is the hashes of the rules in its scope.
    const ruleHash = new Map(policies.map((r) => [r, hashOf([r.policy, r.rule, r.severity, r.schema])]));
    for (const [key, model] of stages) {
      const hash = this.hashOf(model);
      if (held.has(key)) {
        this.hashes.set(key, hash);
        continue;
      }
      // What a rule says decides whether the stage may apply: a stage refused by a rule that a
      // commit relaxes (or newly in the scope of a stricter one) is reconciled again.
      const rules = policies.length === 0 ? '' : rulesInScope(policies, model).map((r) => ruleHash.get(r)).join(',');
      if (this.hashes.get(key) !== hash || (this.ruleHashes.get(key) ?? '') !== rules || wasInvalid || !this.synced) changed.push(key);
      this.hashes.set(key, hash);
      if (rules === '') this.ruleHashes.delete(key);
      else this.ruleHashes.set(key, rules);
    }
    const stored = new Set<string>();
    for (const ref of await new StateStore(this.opts.stateDir).list()) {
      const key = stageKey(ref);
      stored.add(key);
      if (!stages.has(key) && this.owns(key) && this.hashes.get(key) !== 'deleted') {
        changed.push(key);
        this.hashes.set(key, 'deleted');
      }
    }
    // Stages neither desired nor stored any more (a closed preview, a renamed stage never applied) are forgotten.
    for (const key of this.hashes.keys()) if (!stages.has(key) && !stored.has(key)) this.hashes.delete(key);
    for (const key of this.ruleHashes.keys()) if (!stages.has(key)) this.ruleHashes.delete(key);
    this.synced = true;
    this.emit({ type: 'synced', revision, stages: stages.size, changed });
    for (const key of changed.sort()) this.enqueue(key);
  }

  /** How many entries the caches kept across revisions hold (each bounded by the newest revision's files, blobs and stages). */
  cacheSizes(): { parsedFiles: number; resolvedStages: number; desiredHashes: number } {
    return { parsedFiles: this.parseCache.size, resolvedStages: this.stageCache.size, desiredHashes: this.hashes.size };
  }

  /** Every stage key of this shard: desired now, or known to the state directory. */
  async stageKeys(): Promise<string[]> {
    const keys = new Set(this.current.stages?.keys() ?? this.hashes.keys());
    for (const ref of await new StateStore(this.opts.stateDir).list()) if (this.owns(stageKey(ref))) keys.add(stageKey(ref));
    return [...keys].sort();
  }

  /** The work queue's reconcile function. */
  reconcile = async (key: string, signal: AbortSignal): Promise<ReconcileResult> => {
    const snapshot = this.current;
    const ref = parseKey(key);
    const desired = snapshot.stages?.get(key) ?? null;
    const record = await this.records.read(ref);
    if (record?.state === 'stalled' && record.desiredHash === (desired === null ? null : this.hashOf(desired)) && !this.retries.delete(key)) return {};
    if (snapshot.stages !== null && desired?.stage.after) {
      const before = stageKey({ ...ref, stage: desired.stage.after });
      if (!(await this.convergedTo(before, snapshot))) {
        this.emit({ type: 'held', stage: key, reason: `waits for ${before} to converge first` });
        return {};
      }
    }
    const result = await reconcileStage(this.context(), key, signal);
    // A stage that converged lets the stages that run after it go next.
    for (const [other, model] of snapshot.stages ?? []) if (model.stage.after === ref.stage && other !== key && sameProject(parseKey(other), ref)) this.enqueue(other);
    return result;
  };

  /**
   * Approves the plan waiting on a stage (the one named, else the current one) and enqueues the
   * stage. Throws a UsageError when nothing waits or the id is not the waiting plan's.
   */
  async approve(key: string, id?: string): Promise<string> {
    const record = await this.records.read(parseKey(key));
    const waiting = record?.state === 'waiting-approval' ? record.pendingPlan : undefined;
    if (!waiting) throw new UsageError(`stage ${key} has no plan waiting for approval (it is ${record?.state ?? 'unknown'})`);
    if (id !== undefined && id !== waiting.id) {
      throw new UsageError(`stage ${key}: plan ${id} is not the waiting plan (${waiting.id}); the desired or actual state changed since, review the new plan`);
    }
    this.approvals.set(key, waiting.id);
    this.emit({ type: 'approved', stage: key, planId: waiting.id });
    this.enqueue(key);
    return waiting.id;
  }

  /** Tries a stalled or failed stage once more, whatever its failure count. */
  retry(key: string): void {
    this.retries.add(key);
    this.emit({ type: 'retry', stage: key });
    this.enqueue(key);
  }

  /**
   * Compares what runs with what the stage's engine recorded (`checkDrift`), writes the findings
   * to the status record and reports them; with `heal`, a stage that drifted is deployed again
   * with its recorded model (a supervisor killed with SIGKILL comes back without a manifest change).
   * Stages that are not `ready` are left alone: their own reconcile is under way or waits.
   */
  async checkDrift(key: string, heal: boolean, signal: AbortSignal): Promise<string[]> {
    const ref = parseKey(key);
    const record = await this.records.read(ref);
    if (record?.state !== 'ready') return record?.drift ?? [];
    const actual = await new StateStore(this.opts.stateDir).read(ref);
    const recorded = actual.model;
    if (recorded === null) return [];
    const secrets = secretsFor(recorded.organization, { ...(this.opts.secretsFile ? { secretsFile: this.opts.secretsFile } : {}), configRoot: this.current.configRoot, env: this.opts.deps.env });
    const findings = await checkDrift(await this.engineOf(recorded.organization), ref, recorded, signal, { stateDir: this.opts.stateDir, recorded: actual.secretDigests, lookup: secrets });
    await this.records.update(ref, { type: 'drift', findings });
    if (findings.length > 0) {
      this.emit({ type: 'drift', stage: key, findings, healing: heal });
      // Once per new set of findings, not on every check while the same drift stays.
      if (JSON.stringify(record.drift ?? []) !== JSON.stringify(findings)) {
        this.opts.notifier?.notify(recorded, driftNotice(ref, { findings }, this.opts.deps.clock.now()), secrets);
      }
      if (heal) {
        this.repairs.add(key);
        this.enqueue(key);
      }
    }
    return findings;
  }

  /** The status record of a stage. */
  record(key: string): Promise<StageStatusRecord | null> {
    return this.records.read(parseKey(key));
  }

  /** Whether this daemon reconciles `key` (`--shard`). */
  owns(key: string): boolean {
    return ownsKey(key, this.opts.shard);
  }

  private context(): ReconcileContext {
    const { deps, stateDir } = this.opts;
    return {
      deps,
      stateDir,
      desired: () => this.current,
      engineOf: (organization) => this.engineOf(organization),
      secretsFor: (organization, snapshot) => secretsFor(organization, { ...(this.opts.secretsFile ? { secretsFile: this.opts.secretsFile } : {}), configRoot: snapshot.configRoot, env: deps.env }),
      planner,
      approved: (stage, id) => this.approvals.get(stage) === id,
      repair: (stage) => this.repairs.delete(stage),
      commitsAhead: (commit, head) => commitsAhead(this.current.configRoot, commit, head),
      ...(this.opts.previews ? { preview: (key: string) => this.opts.previews!.isPreview(key), previewGone: (key: string) => this.opts.previews!.forget(key) } : {}),
      stallAfter: this.opts.stallAfter ?? 3,
      onEvent: (event) => this.emit({ type: 'apply', stage: stageKey(event.ref), event }),
      ...(this.opts.notifier ? { notifier: this.opts.notifier } : {}),
    };
  }

  /** Whether stage `key` is ready at exactly the desired state `snapshot` has for it. */
  private async convergedTo(key: string, snapshot: DesiredSnapshot): Promise<boolean> {
    const want = snapshot.stages?.get(key);
    if (want === undefined) return true; // not managed here (another shard, or gone): nothing to wait for
    const record = await this.records.read(parseKey(key));
    return record?.state === 'ready' && record.desiredHash === this.hashOf(want);
  }

  private hashOf(model: StageModel): string {
    let hash = this.modelHashes.get(model);
    if (hash === undefined) this.modelHashes.set(model, (hash = hashOf(model)));
    return hash;
  }

  private emit(event: DaemonEvent): void {
    this.opts.onEvent?.(event);
  }
}

/** Whether `--shard K/N` owns a stage: a stable hash of its key, so every daemon agrees. */
export function ownsKey(key: string, shard: Shard | undefined): boolean {
  if (shard === undefined || shard.count <= 1) return true;
  const n = createHash('sha256').update(key).digest().readUInt32BE(0);
  return n % shard.count === shard.index - 1;
}

/** `org/project/stage` → StageRef. */
export function parseKey(key: string): StageRef {
  const [organization, project, stage, ...rest] = key.split('/');
  if (!organization || !project || !stage || rest.length > 0) throw new UsageError(`"${key}" is not a stage; use ORG/PROJECT/STAGE`);
  return { organization, project, stage };
}

function sameProject(a: StageRef, b: StageRef): boolean {
  return a.organization === b.organization && a.project === b.project;
}


