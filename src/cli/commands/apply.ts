import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command, CommandContext } from '../command.js';
import { UsageError } from '../../errors.js';
import { configDirOf } from '../../manifests/api.js';
import { applyStages, type ApplySource, type ReviewedStage } from '../../operations/apply-stages.js';
import { Notifier } from '../../providers/notify/notifier.js';
import { planKey } from '../../operations/plan-files.js';
import { isPlanFileText, parsePlanFile, verifyPlanFile } from '../../reconciler/plan-file.js';
import { applyProgressPrinter, renderApplySummary } from '../../render/progress.js';
import { renderText, useColor } from '../../render/text.js';
import { SOURCE_OPTIONS, desiredOf, readSourceFromArgs } from '../source-args.js';
import { STATE_DIR_HELP, STATE_DIR_OPTION, resolveStateDir } from '../state-dir.js';
import { intOption, stringList } from '../stage-select.js';

const command: Command = {
  name: 'apply',
  summary: 'Apply the changesets stage by stage',
  help: [
    'Usage: setopsd apply [DIR | --repo PATH --ref REF | PLANFILE] [--stage STAGE …] [--yes]',
    '                     [--allow-data-loss] [--secrets FILE] [--lock-timeout SECONDS]',
    '                     [--parallel N] [--refresh] [--state-dir DIR]',
    '',
    'Plans every stage, shows the changeset, asks for confirmation on a terminal, then applies',
    'stage by stage (independent stages in parallel, a stage with `after: X` only after X',
    'succeeded in the same run), printing progress per change. Every apply is a numbered',
    'deployment in the stage\'s history (setopsd history STAGE).',
    '',
    'A PLANFILE (saved by `setopsd plan --out FILE`, recognised by its content) applies exactly the',
    'reviewed desired models; a stage whose state changed since the plan was made is refused as',
    'stale and nothing of it is applied. Plan files are signed (HMAC-SHA256) with the state',
    'directory\'s plan.key, or with $SETOPSD_PLAN_KEY when set (CI: plan and apply on different',
    'machines share it); a plan file edited in any way is refused.',
    '',
    'Options:',
    '  DIR                  Config directory (default: the current directory).',
    '  --repo PATH          Read the manifests from a git repository at --ref (default HEAD).',
    '  --ref REF            Branch, tag or commit of --repo.',
    '  --dir SUBDIR         Sub-directory of --repo holding the manifests.',
    '  --stage STAGE        ORG/PROJECT/STAGE, PROJECT/STAGE or STAGE; repeatable. Default: every stage.',
    '  --yes, -y            Apply without asking. Without a terminal, --yes or a plan file is',
    '                       required; stages with `approval: manual` always need --yes or a',
    '                       confirmation on a terminal.',
    '  --allow-data-loss    Allow changes that destroy data (deleting or replacing services).',
    '  --secrets FILE       Secrets file for `{secret: NAME}` values (YAML map or NAME=value lines,',
    '                       mode 0600); overrides the Organization\'s secrets.file. Secrets may also',
    '                       come from the environment (Organization secrets.env.prefix).',
    '  --lock-timeout S     Wait up to S seconds for another apply holding a stage (default 0: fail at once).',
    '                       After the wait a stage is planned again against what that apply left (and',
    '                       applied, or reported in sync); a reviewed plan — a PLANFILE, or changes',
    '                       confirmed on the terminal — is refused as stale if the stage changed.',
    '  --parallel N         How many independent stages apply at once (default 2).',
    '  --refresh            Re-read the real world into the state before updating (Pulumi: `up',
    '                       --refresh`); the local engine has no refresh and ignores it.',
    STATE_DIR_HELP,
    '',
    'A stage pinned by `setopsd rollback` or `setopsd pin` is planned but not applied (shown as',
    'skipped, "pinned at #N") until `setopsd unpin STAGE`.',
    '',
    'Exit codes: 0 every stage succeeded (or had no changes, or is pinned), 1 a stage failed, was',
    'refused or skipped (the others still apply), or an error.',
  ].join('\n'),
  options: {
    ...SOURCE_OPTIONS,
    ...STATE_DIR_OPTION,
    stage: { type: 'string', multiple: true },
    yes: { type: 'boolean', short: 'y' },
    'allow-data-loss': { type: 'boolean' },
    secrets: { type: 'string' },
    'lock-timeout': { type: 'string' },
    parallel: { type: 'string' },
    refresh: { type: 'boolean' },
  },
  run,
};
export default command;

async function run(ctx: CommandContext): Promise<number> {
  const { deps, signal } = ctx;
  const v = ctx.args.values;
  const lockTimeoutMs = intOption('lock-timeout', v['lock-timeout'], 0) * 1000;
  const parallel = intOption('parallel', v.parallel, 2);
  if (parallel < 1) throw new UsageError('--parallel must be at least 1');
  const planFile = await planFileArgument(ctx);
  let source: ApplySource;
  let stateDir: string;
  if (planFile !== null) {
    const file = parsePlanFile(planFile.text, planFile.path);
    stateDir = resolveStateDir(ctx, { root: file.source.root, ...(file.source.commit ? { commit: file.source.commit } : {}) });
    verifyPlanFile(file, await planKey(stateDir, deps.env, { create: false }), planFile.path);
    source = { kind: 'plan-file', file, configRoot: configDirOf(file.source) };
  } else {
    const files = await readSourceFromArgs(ctx);
    stateDir = resolveStateDir(ctx, files);
    source = { kind: 'desired', desired: desiredOf(files, deps.cwd), commit: files.commit ?? null, ref: files.ref ?? null, configRoot: configDirOf(files) };
  }
  const terminal = deps.prompt !== undefined && deps.isTTY.stdin;
  // Notices go out in the background while stages apply; the command waits for them (bounded) before it exits.
  const notifier = new Notifier({ log: deps.log, sleep: deps.sleep });
  const progress = applyProgressPrinter();
  const result = await applyStages(
    { deps: quietEngineLog(deps), stateDir, notifier },
    {
      source,
      stages: stringList(v.stage),
      approval: { yes: v.yes === true, ...(terminal ? { confirm: (stages) => confirm(ctx, stages) } : {}) },
      allowDataLoss: v['allow-data-loss'] === true,
      lockTimeoutMs,
      parallel,
      ...(v.refresh === true ? { refresh: true } : {}),
      ...(typeof v.secrets === 'string' ? { secretsFile: resolve(deps.cwd, v.secrets) } : {}),
      onReview: (reviewed) => deps.stdout.write(renderText(reviewed.map((r) => r.plan), { color: useColor(deps) })),
      onEvent: (e) => deps.stdout.write(progress(e)),
    },
    signal,
  ).finally(() => notifier.drain());
  if (result.declined) {
    deps.stdout.write('apply: canceled, nothing changed\n');
    return 1;
  }
  // Stages without changes are unchanged too: the closing line appears on every run.
  const unchanged = result.reviewed.filter((r) => !r.hasChanges).map((r) => ({ ref: r.plan.ref, status: 'unchanged' as const }));
  deps.stdout.write(renderApplySummary([...unchanged, ...result.outcomes]));
  // A pinned stage skipped is what its operator asked for, not a failure.
  return result.outcomes.every((o) => o.status === 'succeeded' || o.status === 'unchanged' || (o.status === 'skipped' && o.pinned === true)) ? 0 : 1;
}

/**
 * The deps for the apply with an engine log that does not repeat on stderr what the progress
 * lines print (a failed deployment's message): warnings are shown at `error` level and above,
 * unless SETOPSD_LOG_LEVEL asks for a level.
 */
function quietEngineLog(deps: CommandContext['deps']): CommandContext['deps'] {
  if (deps.env.SETOPSD_LOG_LEVEL !== undefined || deps.log.levelVal >= deps.log.levels.values.error!) return deps;
  return { ...deps, log: deps.log.child({}, { level: 'error' }) };
}

/**
 * The positional argument and its text when it is a saved plan (a file whose content is JSON
 * with `planFileVersion`; read once here); null for a directory or no argument. A file that is not a plan is a UsageError.
 */
async function planFileArgument(ctx: CommandContext): Promise<{ path: string; text: string } | null> {
  const arg = ctx.args.positionals[0];
  if (ctx.args.positionals.length > 1) throw new UsageError(`apply takes one DIR or PLANFILE, got: ${ctx.args.positionals.join(' ')}`);
  if (arg === undefined) return null;
  const path = resolve(ctx.deps.cwd, arg);
  const info = await stat(path).catch(() => null);
  if (info === null || info.isDirectory()) return null; // the source reader reports a missing directory
  const text = await readFile(path, 'utf8');
  if (!isPlanFileText(text)) {
    throw new UsageError(`${arg} is a file but not a setopsd plan file; give a config directory, or a plan saved with \`setopsd plan --out FILE\``);
  }
  if (ctx.args.values.repo !== undefined) throw new UsageError('a PLANFILE cannot be combined with --repo: the plan file says where its manifests came from');
  return { path, text };
}

/** Asks once on the terminal for every changed stage. */
async function confirm(ctx: CommandContext, changed: readonly ReviewedStage[]): Promise<boolean> {
  const n = changed.reduce((sum, r) => sum + r.plan.changeset.changes.length, 0);
  const stages = changed.map((r) => r.plan.key).join(', ');
  const answer = (await ctx.deps.prompt!(`Apply ${n} change${n === 1 ? '' : 's'} to ${stages}? Type "yes" to confirm: `, ctx.signal)).trim();
  return answer === 'yes';
}
