import type { ReviewClient, ReviewComment, ReviewStatus } from './client.js';
import { canceledOr, reviewApiError } from './errors.js';

/**
 * Where and how to reach GitLab: `CI_API_V4_URL`, the project (`CI_PROJECT_ID` or its path), the
 * merge request's iid (`CI_MERGE_REQUEST_IID`), and `GITLAB_TOKEN` (a project or personal access
 * token, sent as `PRIVATE-TOKEN`) or `CI_JOB_TOKEN` (sent as `JOB-TOKEN`).
 */
export interface GitlabTarget {
  apiUrl: string;
  /** Numeric id or `group/project` path. */
  project: string;
  mr: number;
  token: { kind: 'private' | 'job'; value: string };
}

/** Merge-request notes and commit statuses through GitLab's REST API v4 (five calls; plain fetch). */
export function gitlabReview(target: GitlabTarget): ReviewClient {
  const base = `${target.apiUrl.replace(/\/+$/, '')}/projects/${encodeURIComponent(target.project)}`;
  const notes = `${base}/merge_requests/${target.mr}/notes`;
  const name = `${target.project}!${target.mr}`;
  const headers = { [target.token.kind === 'job' ? 'JOB-TOKEN' : 'PRIVATE-TOKEN']: target.token.value, 'content-type': 'application/json', 'user-agent': 'setopsd' };
  const call = async (what: string, method: string, url: string, signal: AbortSignal, body?: unknown): Promise<{ json: unknown; res: Response }> => {
    let res: Response;
    try {
      res = await fetch(url, { method, headers, signal, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    } catch (err) {
      const e = canceledOr(err, signal);
      if (e !== err) throw e;
      throw reviewApiError('GitLab', `${what} on ${name}`, undefined, ((err as Error).cause as Error | undefined)?.message ?? (err as Error).message, [target.token.value]);
    }
    const text = await res.text();
    if (!res.ok) {
      let detail = '';
      try {
        const parsed = JSON.parse(text) as { message?: unknown; error?: unknown };
        detail = typeof parsed.message === 'string' ? parsed.message : typeof parsed.error === 'string' ? parsed.error : JSON.stringify(parsed.message ?? '');
      } catch {
        detail = '';
      }
      throw reviewApiError('GitLab', `${what} on ${name}`, res.status, detail, [target.token.value]);
    }
    return { json: text === '' ? null : (JSON.parse(text) as unknown), res };
  };
  const note = (n: unknown): ReviewComment => {
    const o = n as { id: number; body?: string };
    return { id: o.id, body: o.body ?? '' };
  };
  return {
    forge: 'gitlab',
    target: name,
    listComments: async (signal) => {
      const out: ReviewComment[] = [];
      for (let page = 1; ; page++) {
        const { json, res } = await call('listing notes', 'GET', `${notes}?per_page=100&page=${page}&sort=asc&order_by=created_at`, signal);
        out.push(...(json as unknown[]).map(note));
        const next = res.headers.get('x-next-page');
        if (!next || (json as unknown[]).length === 0) return out;
      }
    },
    createComment: async (body, signal) => note((await call('creating a note', 'POST', notes, signal, { body })).json),
    updateComment: async (id, body, signal) => note((await call(`updating note ${id}`, 'PUT', `${notes}/${id}`, signal, { body })).json),
    deleteComment: async (id, signal) => {
      await call(`deleting note ${id}`, 'DELETE', `${notes}/${id}`, signal);
    },
    setStatus: async (s: ReviewStatus, signal) => {
      const state = s.state === 'failure' ? 'failed' : s.state;
      await call(`setting the commit status of ${s.sha.slice(0, 12)}`, 'POST', `${base}/statuses/${s.sha}`, signal, { state, name: s.context, description: s.description.slice(0, 255) });
    },
  };
}
