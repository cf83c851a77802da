import { resolve } from 'node:path';
import type { Command, CommandContext } from '../command.js';
import { ValidationError } from '../../errors.js';
import { planFileOf } from '../../reconciler/plan-file.js';
import { planKey, writePlanFile } from '../../operations/plan-files.js';
import { reviewFromArgs } from '../review-args.js';
import { SOURCE_OPTIONS } from '../source-args.js';
import { STATE_DIR_HELP, STATE_DIR_OPTION } from '../state-dir.js';
import { renderPlans, parseFormat } from '../../render/formats.js';
import { renderMarkdownIssues } from '../../render/markdown.js';

const command: Command = {
  name: 'plan',
  summary: 'Show the changeset of every stage',
  help: [
    'Usage: setopsd plan [DIR | --repo PATH [--ref REF] [--dir SUBDIR]] [--stage STAGE …]',
    '                    [--format text|markdown|json] [--out FILE] [--state-dir DIR]',
    '       setopsd plan --repo PATH --base REF --head REF [--format markdown] …',
    '',
    "Compares every stage's desired state (the manifests) with what its engine recorded and prints",
    'the ordered changeset: + create, ~ update, -/+ replace, - delete. Data-loss and protection',
    'warnings come first; `apply` refuses them unless allowed (--allow-data-loss) or not at all',
    '(protected stage, deletionProtection). Stages recorded in the state directory but gone from the',
    'manifests are planned as stage deletes.',
    '',
    'Options:',
    '  DIR                  Config directory (default: the current directory), read as it is on disk.',
    '  --repo PATH          Read the manifests from a git repository (working tree or bare, no checkout).',
    '  --ref REF            Branch, tag or commit to read with --repo (default: HEAD).',
    '  --dir SUBDIR         Sub-directory of the repository holding the manifests.',
    '  --base REF --head REF',
    '                       Pull-request plan: plan the head commit, list only stages whose desired',
    '                       state differs from base, and name the files that caused each change.',
    '  --stage STAGE        ORG/PROJECT/STAGE, PROJECT/STAGE or STAGE; repeatable. Default: every stage.',
    '  --format FORMAT      text (default; colour on a terminal unless NO_COLOR is set), markdown',
    '                       (pull-request comment, at most 65,000 characters; invalid manifests: their',
    '                       located errors as markdown) or json (formatVersion 1;',
    '                       errors are JSON too, on stdout: { formatVersion, valid: false, error, issues }).',
    '  --out FILE           Also save the plan for `setopsd apply FILE`: the JSON plan, every stage\'s',
    '                       desired model and the state serial it was planned against.',
    '  --refresh            Re-read the real world before planning (Pulumi: `pulumi refresh`; needs the',
    '                       Pulumi CLI) and show drift as notes. The local engine plans against its records.',
    '  --secrets FILE       Secrets file, as for apply: a secret whose value changed since the last apply',
    '                       shows as `env.KEY: (secret NAME) value changed` (compared by keyed digest).',
    STATE_DIR_HELP,
    '',
    '  --detailed-exitcode  Exit 2 when there are changes (as terraform plan -detailed-exitcode).',
    '',
    'Exit codes: 0 planned, 1 error (invalid manifests: every problem, nothing planned).',
    'With --detailed-exitcode: 0 no changes, 2 changes, 1 error.',
  ].join('\n'),
  options: {
    ...SOURCE_OPTIONS,
    ...STATE_DIR_OPTION,
    base: { type: 'string' },
    head: { type: 'string' },
    stage: { type: 'string', multiple: true },
    format: { type: 'string' },
    out: { type: 'string' },
    refresh: { type: 'boolean' },
    secrets: { type: 'string' },
    'detailed-exitcode': { type: 'boolean' },
  },
  run: runPlan,
};
export default command;

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

async function runPlan(ctx: CommandContext): Promise<number> {
  const { values } = ctx.args;
  const format = parseFormat(values.format);
  const { source, baseSource, stateDir, review } = await reviewFromArgs(ctx);
  if (!review.ok) {
    // A pull-request step that posts stdout gets the located errors instead of nothing (json: main.ts).
    if (format === 'markdown') ctx.deps.stdout.write(renderMarkdownIssues(review.issues, { source: review.source }) + '\n');
    throw new ValidationError(review.issues);
  }
  const { plans, source: planSource } = review;

  const out = str(values.out);
  if (out !== undefined) {
    const path = resolve(ctx.deps.cwd, out);
    await writePlanFile(path, planFileOf(plans, { ...planSource, root: source.root, dir: source.dir }), await planKey(stateDir, ctx.deps.env, { create: true }));
  }
  ctx.deps.stdout.write(renderPlans(plans, format, { deps: ctx.deps, source: planSource, showFiles: baseSource !== undefined }));
  if (out !== undefined) ctx.deps.stderr.write(`Saved the plan to ${out}; apply exactly this plan with: setopsd apply ${out}\n`);
  const changes = plans.some((p) => p.changeset.changes.length > 0 || p.resources.length > 0);
  return changes && values['detailed-exitcode'] === true ? 2 : 0;
}
