import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command, CommandContext } from '../command.js';
import { UsageError } from '../../errors.js';
import { showDeployment } from '../../operations/show-deployment.js';
import { PLAN_KEY_FILE, planKey } from '../../operations/plan-files.js';
import { isPlanFileText, parsePlanFile, savedStagePlans, verifyPlanFile } from '../../reconciler/plan-file.js';
import { renderDeploymentJson, renderDeploymentText } from '../../render/deployment.js';
import { parseFormat, parseTextOrJson, renderPlans } from '../../render/formats.js';
import { STATE_DIR_HELP, STATE_DIR_OPTION, resolveStateDir } from '../state-dir.js';
import { intOption, knownStages, selectStages, stateDirWithoutSource } from '../stage-select.js';

const command: Command = {
  name: 'show',
  summary: 'Print one deployment (its changeset and model), or a saved plan file',
  help: [
    'Usage: setopsd show STAGE [N] [DIR] [--format text|json] [--state-dir DIR]',
    '       setopsd show PLANFILE [--format text|markdown|json] [--state-dir DIR]',
    '',
    'Deployment N of a stage (default: the newest): status, commit, trigger, times, error, the',
    'changeset it applied, a summary of its model, the last 20 lines of its log, and the exact',
    'desired model it applied (secrets as references).',
    'Deployments made before setopsd stored models show their changeset only.',
    '',
    'A saved plan (`setopsd plan --out PLANFILE`) is rendered as `plan` prints it, e.g. for a',
    'pull-request comment from the plan that `apply PLANFILE` will apply. Its signature is',
    'checked when the plan key is at hand (SETOPSD_PLAN_KEY or the state directory\'s plan.key);',
    'an edited plan file is refused.',
    '',
    'Options:',
    '  STAGE                ORG/PROJECT/STAGE, PROJECT/STAGE or STAGE.',
    '  N                    Deployment number, as `setopsd history STAGE` lists them.',
    '  DIR                  Config directory whose state to read (its DIR/.setopsd).',
    '  PLANFILE             A file saved by `setopsd plan --out` (told from a STAGE by its content).',
    '  --format FORMAT      text (default) or json ({ deployment, model }); for a PLANFILE also',
    '                       markdown, and json is the plan JSON of `plan --format json`.',
    STATE_DIR_HELP,
    '',
    'Exit codes: 0 shown, 1 error (no such stage or deployment, an unreadable or edited plan file).',
  ].join('\n'),
  options: { ...STATE_DIR_OPTION, format: { type: 'string' } },
  async run(ctx) {
    const [stage, ...rest] = ctx.args.positionals;
    if (stage === undefined) throw new UsageError('show needs a STAGE, e.g. setopsd show shop/staging 3, or a PLANFILE');
    const planFile = await planFileText(ctx, stage);
    if (planFile !== null) {
      if (rest.length > 0) throw new UsageError(`show PLANFILE takes no other argument, got: ${rest.join(' ')}`);
      return showPlanFile(ctx, planFile);
    }
    const format = parseTextOrJson(ctx.args.values.format);
    const number = rest[0] !== undefined && /^\d+$/.test(rest[0]) ? intOption('N', rest.shift(), 0) : undefined;
    if (rest.length > 1) throw new UsageError(`unexpected arguments: ${rest.slice(1).join(' ')}`);
    const stateDir = stateDirWithoutSource(ctx, rest[0]);
    const [ref] = selectStages([stage], await knownStages(stateDir));
    const { deployment, model, logTail } = await showDeployment({ deps: ctx.deps, stateDir }, ref!, number);
    ctx.deps.stdout.write(format === 'json' ? renderDeploymentJson(deployment, model, logTail) : renderDeploymentText(deployment, model, logTail));
    return 0;
  },
};
export default command;

/** The argument's text when it names a readable saved plan; null when it is a stage (or a directory). */
async function planFileText(ctx: CommandContext, arg: string): Promise<{ path: string; text: string } | null> {
  const path = resolve(ctx.deps.cwd, arg);
  const info = await stat(path).catch(() => null);
  if (info === null || !info.isFile()) return null;
  const text = await readFile(path, 'utf8').catch(() => null);
  return text !== null && isPlanFileText(text) ? { path: arg, text } : null;
}

async function showPlanFile(ctx: CommandContext, planFile: { path: string; text: string }): Promise<number> {
  const format = parseFormat(ctx.args.values.format);
  const file = parsePlanFile(planFile.text, planFile.path);
  const stateDir = resolveStateDir(ctx, { root: file.source.root, ...(file.source.commit ? { commit: file.source.commit } : {}) });
  // Reviewers in CI often have no plan key: then the file's own checks (its models against their
  // hashes) are all there is, and stderr says so.
  const keyAtHand = Boolean(ctx.deps.env.SETOPSD_PLAN_KEY) || (await stat(join(stateDir, PLAN_KEY_FILE)).catch(() => null)) !== null;
  if (keyAtHand) verifyPlanFile(file, await planKey(stateDir, ctx.deps.env, { create: false }), planFile.path);
  else ctx.deps.stderr.write(`note: ${planFile.path}: signature not checked (no plan key: set SETOPSD_PLAN_KEY or --state-dir); \`apply\` checks it\n`);
  const source = { ...(file.source.ref !== null ? { ref: file.source.ref } : {}), ...(file.source.commit !== null ? { commit: file.source.commit } : {}), ...(file.source.base ? { base: file.source.base } : {}) };
  const plans = savedStagePlans(file);
  // As `plan` does: the files behind each change are shown for pull-request plans (--base/--head).
  const showFiles = file.source.base !== undefined;
  ctx.deps.stdout.write(renderPlans(plans, format, { deps: ctx.deps, source, showFiles }));
  return 0;
}
