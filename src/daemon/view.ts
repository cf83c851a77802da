import type { PullRequestEvent } from './webhooks.js';
import type { Issue } from '../errors.js';
import type { Change } from '../model/changeset.js';
import type { Deployment } from '../state/journal.js';
import type { StageStatusRecord } from '../state/status-record.js';
import type { DaemonEvent } from './controller.js';

/**
 * What the daemon's HTTP side (API, status page, metrics) may read and do. Implemented by the
 * running daemon (`src/daemon/daemon.ts`); the HTTP layer never reaches past it into engines or
 * the CLI, and tests give it a hand-made one.
 */
export interface DaemonView {
  /** The source followed, e.g. `/srv/config (branch main)`; never with credentials. */
  readonly source: string;
  /** `/readyz`: each check with whether it passes. */
  readiness(): Promise<{ ready: boolean; checks: Record<string, { ok: boolean; message?: string }> }>;
  /** The newest revision seen and whether it is valid; its located problems when it is not. */
  revision(): { commit: string | null; valid: boolean; issues: Issue[]; error?: { code: string; message: string } };
  /** Every stage this daemon manages, in `after:` order within each project. */
  stages(): Promise<StageView[]>;
  stage(key: string): Promise<StageView | null>;
  /** A stage's deployments, newest first. */
  deployments(key: string, limit: number): Promise<Deployment[]>;
  /** Approves the waiting plan (the named one, else the current); returns the approved id. UsageError when nothing waits. */
  approve(key: string, planId?: string): Promise<string>;
  retry(key: string): Promise<void>;
  /** Reads the source now (a webhook or `setopsd sync`); `acceptForcePush` (an explicit `setopsd sync`): accept a head refused as a force-push. */
  sync(how?: { acceptForcePush?: boolean }): Promise<void>;
  /** Set when webhooks are configured: the secret they are verified with, the tracked branch (null: any push), and where each delivery is counted. */
  webhook?: {
    secret: string;
    branch: string | null;
    delivered?(provider: string, result: string): void;
    /**
     * Set with `--preview-stages` or `--comment-prs`: a pull request opened, updated or closed
     * (remembered before it resolves); resolves to what the webhook answer reports.
     */
    pullRequest?(event: PullRequestEvent): Promise<Record<string, unknown>>;
  };
  /** Checks every stage for drift now (and heals it with `--self-heal`). */
  checkDrift?(): Promise<void>;
  /** Live events for `/api/v1/events`; returns the unsubscribe function. */
  subscribe(listener: (event: DaemonEvent) => void): () => void;
}

/** One stage as the API and the page show it: everything reads the status record. */
export interface StageView {
  key: string;
  organization: string;
  project: string;
  stage: string;
  /** `after:` of the desired stage, for the pipeline order. */
  after: string | null;
  approval: 'auto' | 'manual' | null;
  record: StageStatusRecord | null;
  /** The newest deployment, if any. */
  lastDeployment: Pick<Deployment, 'number' | 'status' | 'commit' | 'startedAt' | 'endedAt' | 'kind'> & { error?: Deployment['error'] } | null;
  /** For `waiting-approval`: the changes of the waiting plan (secrets masked) and the command that approves it. */
  pending: { planId: string; changes: Change[]; approveCommand: string } | null;
  /** Set for a preview stage (`--preview-stages`): its pull request, branch and where its public apps answer. */
  preview?: { number: number; branch: string; commit: string | null; urls: Record<string, string> };
  /** Set while the stage is pinned (`setopsd rollback`, `setopsd pin`): the branch is planned, not applied. */
  pin?: { deployment: number; reason: 'rollback' | 'pin'; commit: string | null; since: string; message: string } | null;
}
