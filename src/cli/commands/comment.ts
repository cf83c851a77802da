import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command, CommandContext } from '../command.js';
import { UsageError } from '../../errors.js';
import { type PlanReview } from '../../operations/plan-review.js';
import { planKey, readPlanFile } from '../../operations/plan-files.js';
import { savedStagePlans } from '../../reconciler/plan-file.js';
import { postPlanComment, type PlanCommentOutcome } from '../../operations/plan-comment.js';
import { reviewClientFromEnv } from '../../providers/review/from-env.js';
import { shellQuote } from '../../reconciler/setops-command.js';
import type { ReviewCommands } from '../../render/markdown.js';
import { reviewFromArgs } from '../review-args.js';
import { SOURCE_OPTIONS } from '../source-args.js';
import { STATE_DIR_HELP, STATE_DIR_OPTION, resolveStateDir } from '../state-dir.js';

const command: Command = {
  name: 'comment',
  summary: 'Post the plan as a pull-request comment and keep it up to date',
  help: [
    'Usage: setopsd comment --repo-slug OWNER/REPO --pr N [--repo PATH --base REF --head REF] [--dir SUBDIR]',
    '       setopsd comment --repo-slug OWNER/REPO --pr N --plan FILE',
    '                       [DIR | --repo PATH [--ref REF]] [--stage STAGE …] [--sha SHA] [--forge github|gitlab]',
    '',
    'Plans the pull request and posts the markdown plan as one comment on it; the next run updates the',
    'same comment (found by its hidden marker <!-- setopsd:plan dir=… -->, one per config directory)',
    'instead of adding another. A plan over 65,535 characters is split into numbered comments (at most',
    '10; parts left over from a longer plan are deleted). Invalid manifests get a comment listing every',
    'problem with file:line:col. With --sha (default: the head commit) the commit gets the status',
    '`setopsd/plan`: "N to change, M data loss, K policy violations".',
    '',
    'GitHub: GITHUB_TOKEN (pull-requests: write, statuses: write); GITHUB_API_URL (set by Actions; default',
    'https://api.github.com). GitLab (chosen when GITLAB_CI or CI_API_V4_URL is set, or --forge gitlab):',
    'GITLAB_TOKEN (api scope) or CI_JOB_TOKEN, CI_API_V4_URL, and the project as --repo-slug or CI_PROJECT_ID;',
    '--pr is the merge request iid (CI_MERGE_REQUEST_IID).',
    '',
    'Options:',
    '  --repo-slug SLUG     OWNER/REPO on GitHub (default $GITHUB_REPOSITORY), GROUP/PROJECT on GitLab.',
    '  --pr N               Pull request number (GitLab: merge request iid). Default in CI:',
    '                       CI_MERGE_REQUEST_IID, or the pull_request event at GITHUB_EVENT_PATH.',
    '  --repo PATH --base REF --head REF',
    '                       Plan the head commit and list only stages whose desired state differs from base.',
    '  DIR | --repo PATH [--ref REF] [--dir SUBDIR]',
    '                       Or plan one source as `setopsd plan` does.',
    '  --plan FILE          Post a plan saved with `setopsd plan --out FILE` instead of planning (checked',
    '                       with the plan key, as `apply FILE` does).',
    '  --stage STAGE        ORG/PROJECT/STAGE, PROJECT/STAGE or STAGE; repeatable.',
    '  --sha SHA            Commit to set the status on (default: the planned commit; none for a directory).',
    '  --forge NAME         github or gitlab (default: from the environment).',
    '  --replan-command CMD, --apply-command CMD',
    '                       What the comment tells reviewers to run (defaults: the matching setopsd commands).',
    '  --secrets FILE       Secrets file, as for plan.',
    STATE_DIR_HELP,
    '',
    'Exit codes: 0 posted, 1 error or invalid manifests (the comment lists the problems).',
  ].join('\n'),
  options: {
    ...SOURCE_OPTIONS,
    ...STATE_DIR_OPTION,
    'repo-slug': { type: 'string' },
    pr: { type: 'string' },
    plan: { type: 'string' },
    base: { type: 'string' },
    head: { type: 'string' },
    stage: { type: 'string', multiple: true },
    sha: { type: 'string' },
    forge: { type: 'string' },
    'replan-command': { type: 'string' },
    'apply-command': { type: 'string' },
    secrets: { type: 'string' },
    refresh: { type: 'boolean' },
  },
  run: runComment,
};
export default command;

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** The commands the comment shows, as a reviewer would type them in a clone of the repository. */
function defaultCommands(ctx: CommandContext, review: PlanReview, base: string | undefined, head: string | undefined): ReviewCommands {
  const v = ctx.args.values;
  const dir = str(v.dir);
  const where = str(v.repo) !== undefined ? ['--repo', '.', ...(dir ? ['--dir', dir] : [])] : [ctx.args.positionals[0] ?? '.'];
  const words = (ws: string[]): string => ws.map(shellQuote).join(' ');
  const replan = words(['setopsd', 'plan', ...where, ...(base !== undefined ? ['--base', base, '--head', head!] : str(v.ref) ? ['--ref', str(v.ref)!] : [])]);
  const stages = review.ok ? review.plans.filter((p) => p.changeset.changes.length > 0).flatMap((p) => ['--stage', p.key]) : [];
  const applyRef = base !== undefined ? ['--ref', base] : str(v.ref) ? ['--ref', str(v.ref)!] : [];
  const apply =
    base !== undefined
      ? `# after merging, on the base branch (CI or the daemon does this):\n${words(['setopsd', 'apply', ...where, ...applyRef, ...stages])}`
      : words(['setopsd', 'apply', ...where, ...applyRef, ...stages]);
  return { replan: str(v['replan-command']) ?? replan, apply: str(v['apply-command']) ?? apply };
}

/** The pull request a CI job runs for: GitLab's `CI_MERGE_REQUEST_IID`, or the `pull_request` event GitHub Actions saved at `GITHUB_EVENT_PATH`. */
async function pullRequestFromEnv(env: Record<string, string | undefined>): Promise<{ pr?: string; sha?: string }> {
  if (env.CI_MERGE_REQUEST_IID) return { pr: env.CI_MERGE_REQUEST_IID };
  if (!env.GITHUB_EVENT_PATH) return {};
  try {
    const event = JSON.parse(await readFile(env.GITHUB_EVENT_PATH, 'utf8')) as { pull_request?: { number?: unknown; head?: { sha?: unknown } } };
    const pr = event.pull_request;
    return { ...(typeof pr?.number === 'number' ? { pr: String(pr.number) } : {}), ...(typeof pr?.head?.sha === 'string' ? { sha: pr.head.sha } : {}) };
  } catch {
    return {};
  }
}

async function runComment(ctx: CommandContext): Promise<number> {
  const { values } = ctx.args;
  const fromEnv = str(values.pr) === undefined ? await pullRequestFromEnv(ctx.deps.env) : {};
  const prText = str(values.pr) ?? fromEnv.pr;
  if (prText === undefined || !/^[1-9][0-9]*$/.test(prText)) {
    throw new UsageError(`--pr N is required: the pull request number (default: CI_MERGE_REQUEST_IID, or the pull_request event at GITHUB_EVENT_PATH)${prText === undefined ? '' : `, got "${prText}"`}`);
  }
  const forgeName = str(values.forge);
  if (forgeName !== undefined && forgeName !== 'github' && forgeName !== 'gitlab') throw new UsageError(`--forge must be github or gitlab, got "${forgeName}"`);
  // Checked before planning: a missing token should not cost a plan.
  const client = reviewClientFromEnv(ctx.deps.env, { pr: Number(prText), ...(str(values['repo-slug']) ? { slug: str(values['repo-slug'])! } : {}), ...(forgeName ? { forge: forgeName } : {}) });

  const base = str(values.base);
  const head = str(values.head);
  const planPath = str(values.plan);
  if (planPath !== undefined) {
    const extra = ['repo', 'ref', 'dir', 'base', 'head', 'stage', 'secrets', 'refresh'].filter((k) => values[k] !== undefined);
    if (extra.length > 0 || ctx.args.positionals.length > 0) throw new UsageError(`--plan FILE posts a saved plan as it is; it cannot be combined with ${extra.map((k) => `--${k}`).join(', ') || 'a config directory'}`);
    const path = resolve(ctx.deps.cwd, planPath);
    const file = await readPlanFile(path, await planKey(resolveStateDir(ctx, null), ctx.deps.env, { create: false }), ctx.signal);
    const plans = savedStagePlans(file);
    const source = { ...(file.source.ref ? { ref: file.source.ref } : {}), ...(file.source.commit ? { commit: file.source.commit } : {}), ...(file.source.base ? { base: file.source.base } : {}) };
    const review: PlanReview = { ok: true, plans, source, showFiles: plans.some((p) => Object.keys(p.files).length > 0) };
    const commands = { replan: str(values['replan-command']) ?? `setopsd plan --out ${shellQuote(planPath)}`, apply: str(values['apply-command']) ?? `setopsd apply ${shellQuote(planPath)}` };
    const sha = str(values.sha) ?? file.source.commit ?? undefined;
    const outcome = await postPlanComment({ client, review, dir: file.source.dir || '.', commands, ...(sha ? { sha } : {}) }, ctx.signal);
    report(ctx, client.target, outcome, sha);
    return 0;
  }
  const { source, baseSource, stateDir, review } = await reviewFromArgs(ctx);
  const sha = str(values.sha) ?? source.commit ?? fromEnv.sha;
  const outcome = await postPlanComment(
    { client, review, dir: source.dir || '.', commands: defaultCommands(ctx, review, base, head), ...(sha ? { sha } : {}) },
    ctx.signal,
  );
  report(ctx, client.target, outcome, sha);
  if (!review.ok) {
    ctx.deps.stderr.write(`The manifests are invalid (${review.issues.length} problem${review.issues.length === 1 ? '' : 's'}); the comment lists them. Run \`setopsd validate\` to see them here.\n`);
    return 1;
  }
  return 0;
}

function report(ctx: CommandContext, target: string, outcome: PlanCommentOutcome, sha: string | undefined): void {
  const done = [outcome.created && `${outcome.created} created`, outcome.updated && `${outcome.updated} updated`, outcome.unchanged && `${outcome.unchanged} unchanged`, outcome.deleted && `${outcome.deleted} deleted`].filter(Boolean).join(', ');
  ctx.deps.stdout.write(`Plan comment on ${target}: ${done}${outcome.comments[0]?.url ? ` (${outcome.comments[0].url})` : ''}\n`);
  if (outcome.status && sha) ctx.deps.stdout.write(`Status ${outcome.status.context} on ${sha.slice(0, 12)}: ${outcome.status.state}, ${outcome.status.description}\n`);
}
