/**
 * Where a plan comment goes: the comments (notes) of one pull request (merge request) and the
 * commit status of its head. Small on purpose: `postPlanComment` (src/operations/plan-comment.ts)
 * decides what to write; an implementation only speaks one forge's REST API.
 */

/** A comment on the pull request, as the forge returns it. */
export interface ReviewComment {
  id: number;
  body: string;
  /** Link for the reader, when the forge gives one. */
  url?: string;
}

/** A commit status (`setopsd/plan`) on the head commit. */
export interface ReviewStatus {
  sha: string;
  state: 'success' | 'failure' | 'pending';
  /** One line, at most 140 characters (GitHub's limit). */
  description: string;
  /** The status's name: `setopsd/plan`, one per config directory beyond the root. */
  context: string;
}

/** The comments of one pull request and the statuses of its commits. */
export interface ReviewClient {
  /** `github` or `gitlab`, for messages. */
  readonly forge: 'github' | 'gitlab';
  /** `owner/repo#12` or `group/project!12`, for messages. */
  readonly target: string;
  listComments(signal: AbortSignal): Promise<ReviewComment[]>;
  createComment(body: string, signal: AbortSignal): Promise<ReviewComment>;
  updateComment(id: number, body: string, signal: AbortSignal): Promise<ReviewComment>;
  deleteComment(id: number, signal: AbortSignal): Promise<void>;
  setStatus(status: ReviewStatus, signal: AbortSignal): Promise<void>;
}
