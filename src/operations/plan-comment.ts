import { throwIfAborted } from '../errors.js';
import type { ReviewClient, ReviewComment, ReviewStatus } from '../providers/review/client.js';
import type { StagePlan } from '../reconciler/stage-plan.js';
import { COMMENT_LIMIT, MAX_COMMENTS, parseMarker, splitComment } from '../render/comment-parts.js';
import { renderMarkdown, renderMarkdownIssues, type ReviewCommands } from '../render/markdown.js';
import type { PlanReview } from './plan-review.js';

/** What `postPlanComment` posts, and where. */
export interface PlanCommentRequest {
  client: ReviewClient;
  review: PlanReview;
  /** The config directory inside the repository ('' or `.` for its root): one comment (set) per directory. */
  dir: string;
  commands: ReviewCommands;
  /** The head commit to set the `setopsd/plan` status on; none: no status. */
  sha?: string;
  /** Overrides the policy counts, which otherwise come from the plans' `violations`. The status fails when `denied` > 0. */
  policy?: { violations: number; denied: number };
  /** Largest comment body (default 65,535, GitHub's limit). */
  limit?: number;
}

/** What was done. */
export interface PlanCommentOutcome {
  /** The comments that now hold the plan, in order. */
  comments: ReviewComment[];
  created: number;
  updated: number;
  /** Comments already holding exactly this text. */
  unchanged: number;
  /** Older extra parts removed (the plan got shorter). */
  deleted: number;
  status: Omit<ReviewStatus, 'sha'> | null;
}

/** The counts behind the status line. */
export interface ReviewCounts {
  changes: number;
  dataLoss: number;
  policyViolations: number;
  denied: number;
}

/** Changes, data-loss changes and policy violations (all, and `deny` ones) of a plan; `policy` overrides the last two. */
export function reviewCounts(plans: readonly StagePlan[], policy?: { violations: number; denied: number }): ReviewCounts {
  let changes = 0;
  let dataLoss = 0;
  let violations = 0;
  let denied = 0;
  for (const p of plans) {
    changes += p.summary.create + p.summary.update + p.summary.replace + p.summary.delete;
    dataLoss += p.summary.dataLoss;
    violations += p.violations?.length ?? 0;
    denied += p.violations?.filter((v) => v.severity === 'deny').length ?? 0;
  }
  return { changes, dataLoss, policyViolations: policy?.violations ?? violations, denied: policy?.denied ?? denied };
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** The `setopsd/plan` status: "N to change, M data loss, K policy violations"; failure for invalid manifests or a denying policy. */
export function reviewStatus(review: PlanReview, dir: string, policy?: { violations: number; denied: number }): Omit<ReviewStatus, 'sha'> {
  const context = dir === '' || dir === '.' ? 'setopsd/plan' : `setopsd/plan (${dir})`;
  if (!review.ok) return { context, state: 'failure', description: `invalid manifests: ${plural(review.issues.length, 'problem')}, nothing planned` };
  const c = reviewCounts(review.plans, policy);
  const description = `${c.changes} to change, ${c.dataLoss} data loss, ${plural(c.policyViolations, 'policy violation')}`;
  return { context, state: c.denied > 0 ? 'failure' : 'success', description };
}

/** The comment bodies: the markdown plan (or the manifests' problems), split into at most MAX_COMMENTS parts. */
export function commentBodies(req: Pick<PlanCommentRequest, 'review' | 'dir' | 'commands' | 'limit'>): string[] {
  const limit = req.limit ?? COMMENT_LIMIT;
  const dir = req.dir === '' ? '.' : req.dir;
  const title = dir === '.' ? 'setopsd plan' : `setopsd plan: ${dir}`;
  const render = (length: number): string =>
    req.review.ok
      ? renderMarkdown(req.review.plans, { source: req.review.source, showFiles: req.review.showFiles, title, commands: req.commands, limit: length, cutReason: `to keep the plan within ${MAX_COMMENTS} comments` })
      : renderMarkdownIssues(req.review.issues, { source: req.review.source, title, commands: req.commands, limit: length });
  // Render for all parts at once, then split; closing and reopening fences costs a little per
  // part, so when the split needs more than MAX_COMMENTS parts render shorter (details are cut).
  let length = MAX_COMMENTS * (limit - 400);
  for (;;) {
    const parts = splitComment(render(length), dir, limit);
    if (parts.length <= MAX_COMMENTS || length < limit) return parts.slice(0, MAX_COMMENTS);
    length = Math.floor(length * 0.9);
  }
}

/**
 * Posts the plan of a pull request as its sticky comment: finds setopsd's earlier comments for
 * `dir` by their hidden marker, updates them in place (part by part), creates the parts that are
 * missing, deletes parts left over from a longer plan, then sets the `setopsd/plan` status on
 * `sha`. Running it twice with the same plan changes nothing.
 */
export async function postPlanComment(req: PlanCommentRequest, signal: AbortSignal): Promise<PlanCommentOutcome> {
  const dir = req.dir === '' ? '.' : req.dir;
  const bodies = commentBodies(req);
  throwIfAborted(signal);
  const ours = (await req.client.listComments(signal))
    .map((c) => ({ c, m: parseMarker(c.body) }))
    .filter((x) => x.m !== null && x.m.dir === dir)
    .sort((a, b) => a.m!.part - b.m!.part || a.c.id - b.c.id);
  // The first comment of each part number is the one to keep; duplicates (two runs racing) go.
  const byPart = new Map<number, ReviewComment>();
  const extra: ReviewComment[] = [];
  for (const { c, m } of ours) {
    if (byPart.has(m!.part) || m!.part > bodies.length) extra.push(c);
    else byPart.set(m!.part, c);
  }
  const out: PlanCommentOutcome = { comments: [], created: 0, updated: 0, unchanged: 0, deleted: 0, status: null };
  for (const [i, body] of bodies.entries()) {
    const existing = byPart.get(i + 1);
    if (existing === undefined) {
      out.comments.push(await req.client.createComment(body, signal));
      out.created += 1;
    } else if (existing.body === body) {
      out.comments.push(existing);
      out.unchanged += 1;
    } else {
      out.comments.push(await req.client.updateComment(existing.id, body, signal));
      out.updated += 1;
    }
  }
  for (const c of extra) {
    await req.client.deleteComment(c.id, signal);
    out.deleted += 1;
  }
  if (req.sha !== undefined) {
    const status = reviewStatus(req.review, dir, req.policy);
    await req.client.setStatus({ ...status, sha: req.sha }, signal);
    out.status = status;
  }
  return out;
}
