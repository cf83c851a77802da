import { SetopsError } from '../../errors.js';
import type { ReviewClient } from './client.js';
import { githubReview } from './github.js';
import { gitlabReview } from './gitlab.js';

/** What names the pull request; the rest comes from the environment a CI runner sets. */
export interface ReviewTarget {
  forge?: 'github' | 'gitlab';
  /** `owner/repo` (GitHub) or `group/project` (GitLab); GitLab falls back to `CI_PROJECT_ID`. */
  slug?: string;
  pr: number;
}

/** Which forge: given, else GitLab when `GITLAB_CI` or `CI_API_V4_URL` is set, else GitHub. */
export function forgeOf(env: Record<string, string | undefined>, given?: 'github' | 'gitlab'): 'github' | 'gitlab' {
  if (given) return given;
  return env.GITLAB_CI || env.CI_API_V4_URL ? 'gitlab' : 'github';
}

function config(message: string): SetopsError {
  return new SetopsError(message, { code: 'E_REVIEW_CONFIG' });
}

/**
 * The review client for a pull request, from the environment: GitHub with `GITHUB_TOKEN` and
 * `GITHUB_API_URL` (default https://api.github.com); GitLab with `GITLAB_TOKEN` or
 * `CI_JOB_TOKEN`, `CI_API_V4_URL` and the project (`--repo-slug` or `CI_PROJECT_ID`).
 * Throws `E_REVIEW_CONFIG` naming what is missing (never a token's value).
 */
export function reviewClientFromEnv(env: Record<string, string | undefined>, target: ReviewTarget): ReviewClient {
  if (!Number.isSafeInteger(target.pr) || target.pr < 1) throw config(`--pr must be a pull request number, got ${String(target.pr)}`);
  const forge = forgeOf(env, target.forge);
  if (forge === 'github') {
    const slug = target.slug ?? env.GITHUB_REPOSITORY;
    const m = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(slug ?? '');
    if (!m) throw config(slug === undefined ? 'no repository: give --repo-slug OWNER/REPO (or set GITHUB_REPOSITORY)' : `--repo-slug must be OWNER/REPO, got "${slug}"`);
    const token = env.GITHUB_TOKEN;
    if (!token) throw config('GITHUB_TOKEN is not set; in GitHub Actions pass it to the step: env: { GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }} }');
    return githubReview({ owner: m[1]!, repo: m[2]!, pr: target.pr, token, ...(env.GITHUB_API_URL ? { baseUrl: env.GITHUB_API_URL } : {}) });
  }
  const apiUrl = env.CI_API_V4_URL;
  if (!apiUrl) throw config('CI_API_V4_URL is not set; GitLab CI sets it (e.g. https://gitlab.com/api/v4)');
  const project = target.slug ?? env.CI_PROJECT_ID;
  if (!project) throw config('no project: give --repo-slug GROUP/PROJECT (or set CI_PROJECT_ID)');
  const token = env.GITLAB_TOKEN ? { kind: 'private' as const, value: env.GITLAB_TOKEN } : env.CI_JOB_TOKEN ? { kind: 'job' as const, value: env.CI_JOB_TOKEN } : null;
  if (!token) throw config('neither GITLAB_TOKEN nor CI_JOB_TOKEN is set; give a token with the api scope as the GITLAB_TOKEN CI/CD variable');
  return gitlabReview({ apiUrl, project, mr: target.pr, token });
}
