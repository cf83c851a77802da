import type { Deps } from '../deps.js';
import { SetopsError } from '../errors.js';
import { configDirOf, type SourceFiles } from '../manifests/api.js';
import type { OrganizationModel } from '../model/stage-model.js';
import { postPlanComment } from '../operations/plan-comment.js';
import type { EngineFactory } from '../operations/plan-stages.js';
import { planReview } from '../operations/plan-review.js';
import { reviewClientFromEnv } from '../providers/review/from-env.js';
import { secretsFor } from '../providers/registry.js';
import { shellQuote } from '../reconciler/setops-command.js';
import type { ConfigSource } from './sources/source.js';
import type { PullRequestEvent } from './webhooks.js';

/** The actions that change what a pull request would deploy (GitHub; GitLab's in the second half). */
const PLANNED_ACTIONS = new Set(['opened', 'synchronize', 'reopened', 'open', 'update', 'reopen']);

/** What `--comment-prs` needs besides the daemon's own settings. */
export interface PrCommentOptions {
  stateDir: string;
  source: ConfigSource;
  secretsFile?: string;
  engineFactory?: EngineFactory;
}

/**
 * `setopsd daemon --comment-prs`: a `pull_request` webhook (opened, synchronize, reopened; GitLab
 * open, update, reopen) plans the pull request's head against its base and posts or updates its
 * sticky plan comment, as `setopsd comment` does; a closed or merged one is left alone. Tokens come
 * from the daemon's environment (`GITHUB_TOKEN`, `GITHUB_API_URL`; `GITLAB_TOKEN`, `CI_API_V4_URL`).
 * One comment run per pull request at a time: a newer event waits for the one in flight, and
 * events that arrive meanwhile collapse into one run of the newest.
 */
export class PrComments {
  private readonly running = new Map<number, Promise<void>>();
  private readonly next = new Map<number, PullRequestEvent>();
  /** Settles when every comment run started so far has ended (tests, shutdown). */
  idle(): Promise<void> {
    return Promise.all([...this.running.values()]).then(() => undefined);
  }

  constructor(
    private readonly deps: Deps,
    private readonly opts: PrCommentOptions,
    private readonly signal: AbortSignal,
  ) {}

  /** Whether the event is one this daemon comments on. */
  wants(event: PullRequestEvent): boolean {
    return event.open && PLANNED_ACTIONS.has(event.action);
  }

  /** Starts (or queues) the comment run for `event`; never throws: failures are logged. */
  pullRequest(event: PullRequestEvent): boolean {
    if (!this.wants(event)) return false;
    if (this.running.has(event.number)) {
      this.next.set(event.number, event);
      return true;
    }
    const run = (async () => {
      let current: PullRequestEvent | undefined = event;
      while (current && !this.signal.aborted) {
        await this.comment(current).catch((err: unknown) => {
          const e = err as SetopsError;
          this.deps.log.warn({ pr: current!.number, code: e?.code }, `pull request #${current!.number}: the plan comment failed: ${e?.message ?? String(err)}`);
        });
        current = this.next.get(event.number);
        this.next.delete(event.number);
      }
    })().finally(() => this.running.delete(event.number));
    this.running.set(event.number, run);
    return true;
  }

  private async comment(event: PullRequestEvent): Promise<void> {
    const { source } = this.opts;
    const signal = this.signal;
    const readHead = (): Promise<SourceFiles> =>
      source.readPullRequest
        ? source.readPullRequest({ number: event.number, provider: event.provider, branch: event.branch, ...(event.headSha ? { headSha: event.headSha } : {}), ...(event.fromFork ? { fromFork: true } : {}) }, signal)
        : event.headSha && source.readCommit
          ? source.readCommit(event.headSha, signal)
          : source.readBranch!(event.branch, signal);
    const baseBranch = event.base ?? source.branch;
    const head = await readHead();
    const base = event.baseSha && source.readCommit ? await source.readCommit(event.baseSha, signal).catch(() => undefined) : undefined;
    const baseFiles = base ?? (baseBranch ? await source.readBranch!(baseBranch, signal) : undefined);
    const client = reviewClientFromEnv(this.deps.env, { forge: event.provider, pr: event.number, ...(event.repository ? { slug: event.repository } : {}) });
    const review = await planReview(
      this.deps,
      {
        head,
        ...(baseFiles ? { base: baseFiles } : {}),
        stateDir: this.opts.stateDir,
        ...(this.opts.engineFactory ? { engineFor: this.opts.engineFactory } : {}),
        secretsFor: (organization: OrganizationModel) => secretsFor(organization, { ...(this.opts.secretsFile ? { secretsFile: this.opts.secretsFile } : {}), configRoot: configDirOf(head), env: this.deps.env }),
      },
      signal,
    );
    const dir = head.dir || '.';
    const where = ['--repo', '.', ...(head.dir ? ['--dir', head.dir] : [])];
    const words = (ws: string[]) => ws.map(shellQuote).join(' ');
    const commands = {
      replan: `# the daemon plans again on every push to the pull request; by hand:\n${words(['setopsd', 'plan', ...where, '--base', baseBranch ?? 'main', '--head', event.branch])}`,
      apply: `# merge the pull request: the daemon applies ${baseBranch ?? 'the tracked branch'} (manual stages after \`setopsd approve\`)`,
    };
    const outcome = await postPlanComment({ client, review, dir, commands, ...(head.commit ? { sha: head.commit } : {}) }, signal);
    this.deps.log.info({ pr: event.number, created: outcome.created, updated: outcome.updated, deleted: outcome.deleted }, `pull request #${event.number}: plan comment ${outcome.created ? 'created' : outcome.updated ? 'updated' : 'unchanged'}`);
  }
}
