import { CanceledError, SetopsError } from '../../errors.js';

/** Replaces every occurrence of each token in `text` (a token never reaches a message). */
export function redact(text: string, tokens: readonly (string | undefined)[]): string {
  let out = text;
  for (const t of tokens) if (t !== undefined && t.length >= 4) out = out.split(t).join('[REDACTED]');
  return out;
}

/**
 * The SetopsError for a failed forge API call: `E_REVIEW_AUTH` (terminal) for 401/403/404,
 * `E_REVIEW_API` (retryable) otherwise. The message names the call and the forge's own short
 * message, never a header or the token.
 */
export function reviewApiError(forge: string, what: string, status: number | undefined, detail: string, tokens: readonly (string | undefined)[]): SetopsError {
  const auth = status === 401 || status === 403 || status === 404;
  const hint =
    status === 401
      ? `check the token (${forge === 'GitHub' ? 'GITHUB_TOKEN' : 'GITLAB_TOKEN or CI_JOB_TOKEN'})`
      : status === 403
        ? 'the token lacks permission: GitHub needs pull-requests: write and statuses: write, GitLab the api scope'
        : status === 404
          ? 'check --repo-slug and --pr (and that the token can see the repository)'
          : 'it may pass when tried again';
  const said = redact(detail, tokens).replace(/\s+/g, ' ').trim().slice(0, 200);
  return new SetopsError(`${forge} API: ${what} failed${status === undefined ? '' : ` (HTTP ${status})`}${said ? `: ${said}` : ''}; ${hint}`, {
    code: auth ? 'E_REVIEW_AUTH' : 'E_REVIEW_API',
    data: { forge, status: status ?? null },
  });
}

/** Turns an abort into the CanceledError every setopsd operation throws. */
export function canceledOr(err: unknown, signal: AbortSignal): unknown {
  return signal.aborted ? new CanceledError('posting the plan comment was canceled', { cause: signal.reason }) : err;
}
