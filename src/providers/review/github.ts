import { Octokit } from '@octokit/rest';
import type { ReviewClient, ReviewComment, ReviewStatus } from './client.js';
import { canceledOr, reviewApiError } from './errors.js';

/** Where and how to reach GitHub: `GITHUB_API_URL` (Actions sets it; GitHub Enterprise) and `GITHUB_TOKEN`. */
export interface GithubTarget {
  owner: string;
  repo: string;
  pr: number;
  token: string;
  /** Default `https://api.github.com`. */
  baseUrl?: string;
}

const SILENT = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/**
 * Pull-request comments and commit statuses through `@octokit/rest`: issue comments
 * (a pull request is an issue for comments) and `POST /repos/{owner}/{repo}/statuses/{sha}`.
 */
export function githubReview(target: GithubTarget): ReviewClient {
  const octokit = new Octokit({ auth: target.token, baseUrl: (target.baseUrl ?? 'https://api.github.com').replace(/\/+$/, ''), userAgent: 'setopsd', log: SILENT });
  const { owner, repo, pr } = target;
  const name = `${owner}/${repo}#${pr}`;
  const call = async <T>(what: string, signal: AbortSignal, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      const e = canceledOr(err, signal);
      if (e !== err) throw e;
      // RequestError: `status` and GitHub's own `message` (e.g. "Bad credentials") when GitHub
      // answered; no `response` when the request never got an answer (Octokit then says 500).
      const answered = (err as { response?: unknown }).response !== undefined;
      const status = answered ? (err as { status?: number }).status : undefined;
      const detail = answered ? (err as Error).message : (((err as Error).cause as Error | undefined)?.message ?? (err as Error).message);
      throw reviewApiError('GitHub', `${what} on ${name}`, status, detail ?? '', [target.token]);
    }
  };
  const comment = (c: { id: number; body?: string | null; html_url?: string }): ReviewComment => ({ id: c.id, body: c.body ?? '', ...(c.html_url ? { url: c.html_url } : {}) });
  return {
    forge: 'github',
    target: name,
    listComments: (signal) =>
      call('listing comments', signal, async () =>
        (await octokit.paginate(octokit.rest.issues.listComments, { owner, repo, issue_number: pr, per_page: 100, request: { signal } })).map(comment),
      ),
    createComment: (body, signal) =>
      call('creating a comment', signal, async () => comment((await octokit.rest.issues.createComment({ owner, repo, issue_number: pr, body, request: { signal } })).data)),
    updateComment: (id, body, signal) =>
      call(`updating comment ${id}`, signal, async () => comment((await octokit.rest.issues.updateComment({ owner, repo, comment_id: id, body, request: { signal } })).data)),
    deleteComment: (id, signal) =>
      call(`deleting comment ${id}`, signal, async () => {
        await octokit.rest.issues.deleteComment({ owner, repo, comment_id: id, request: { signal } });
      }),
    setStatus: (s: ReviewStatus, signal) =>
      call(`setting the commit status of ${s.sha.slice(0, 12)}`, signal, async () => {
        await octokit.rest.repos.createCommitStatus({ owner, repo, sha: s.sha, state: s.state, description: s.description.slice(0, 140), context: s.context, request: { signal } });
      }),
  };
}
