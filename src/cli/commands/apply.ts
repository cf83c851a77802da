import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command, CommandContext } from '../command.js';
import { SetopsError, UsageError } from '../../errors.js';
import { compareCodeUnits } from '../../model/canonical.js';
import { stageKey, type OrganizationModel } from '../../model/stage-model.js';
import type { Engine, SecretResolver } from '../../providers/engine.js';
import { createSecretResolver } from '../../providers/local/secrets.js';
import { applyStages, type StageOutcome } from '../../operations/apply-stage.js';
import { isPlanFileText, parsePlanFile, planStageRef, type PlanFile } from '../../reconciler/plan-file.js';
import { planStage, selectStages, type StagePlan } from '../../reconciler/stage-plan.js';
import { cachedEngines, planStages } from '../../operations/plan-stages.js';
import { jobsFromPlans, planner } from '../../operations/jobs.js';
import { renderApplyEvent, renderApplySummary } from '../../render/progress.js';
import { renderText, useColor } from '../../render/text.js';
import { SOURCE_OPTIONS, desiredOf, readSourceFromArgs } from '../source-args.js';
import { configDirOf } from '../../manifests/api.js';
import { STATE_DIR_HELP, STATE_DIR_OPTION, resolveStateDir } from '../state-dir.js';
import { intOption, stringList } from '../stage-select.js';
import { providerOf } from '../../providers/registry.js';

const command: Command = {
  name: 'apply',
  summary: 'Apply the changesets stage by stage',
  help: [
    'Usage: setopsd apply [DIR | --repo PATH --ref REF | PLANFILE] [--stage STAGE …] [--yes]',
    '                     [--allow-data-loss] [--secrets FILE] [--lock-timeout SECONDS]',
    '                     [--parallel N] [--state-dir DIR]',
    '',
    'Plans every stage, shows the changeset, asks for confirmation on a terminal, then applies',
    'stage by stage (independent stages in parallel, a stage with `after: X` only after X',
    'succeeded in the same run), printing progress per change. Every apply is a numbered',
    'deployment in the stage\'s history (setopsd history STAGE).',
    '',
    'A PLANFILE (saved by `setopsd plan --out FILE`, recognised by its content) applies exactly the',
    'reviewed desired models; a stage whose state changed since the plan was made is refused as',
    'stale and nothing of it is applied.',
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
    '  --parallel N         How many independent stages apply at once (default 2).',
    STATE_DIR_HELP,
    '',
    'Exit codes: 0 every stage succeeded (or had no changes), 1 a stage failed, was refused or',
    'skipped (the others still apply), or an error.',
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
  },
  run,
};
export default command;

/** A stage about to apply: its plan for display and what the apply re-checks under the lock. */
interface Reviewed {
  plan: StagePlan;
  /** Whether the reviewed changeset has changes (plan file: as saved, even if the stage moved on since). */
  hasChanges: boolean;
  /** The serial the user reviewed (plan file: the one saved in it). */
  actualSerial: string | null;
  /** The organization whose engine runs the stage: the desired one, else the recorded one. */
  organization: OrganizationModel;
}

async function run(ctx: CommandContext): Promise<number> {
  const { deps, signal } = ctx;
  const v = ctx.args.values;
  const lockTimeoutMs = intOption('lock-timeout', v['lock-timeout'], 0) * 1000;
  const parallel = intOption('parallel', v.parallel, 2);
  if (parallel < 1) throw new UsageError('--parallel must be at least 1');
  const allowDataLoss = v['allow-data-loss'] === true;
  const selectors = stringList(v.stage);

  const planFile = await planFileArgument(ctx);
  let stateDir: string;
  let reviewed: Reviewed[];
  let source: { commit: string | null; ref: string | null };
  let configRoot: string;
  let engineOf: (org: OrganizationModel) => Promise<Engine>;

  if (planFile !== null) {
    const file = parsePlanFile(planFile.text, planFile.path);
    stateDir = resolveStateDir(ctx, { root: file.source.root, ...(file.source.commit ? { commit: file.source.commit } : {}) });
    engineOf = cachedEngines(stateDir, deps);
    reviewed = await reviewPlanFile(file, selectors, engineOf, signal);
    source = { commit: file.source.commit, ref: file.source.ref };
    configRoot = configDirOf(file.source);
  } else {
    const files = await readSourceFromArgs(ctx);
    const desired = desiredOf(files, deps.cwd);
    stateDir = resolveStateDir(ctx, files);
    engineOf = cachedEngines(stateDir, deps);
    const plans = await planStages({ desired, stateDir, deps, signal, stages: selectors, engineFor: (org) => engineOf(org) });
    reviewed = plans.map((p) => ({ plan: p, hasChanges: p.changeset.changes.length > 0, actualSerial: p.actual.serial, organization: (p.desired ?? p.actual.model)!.organization }));
    source = { commit: files.commit ?? null, ref: files.ref ?? null };
    configRoot = configDirOf(files);
  }

  deps.stdout.write(renderText(reviewed.map((r) => r.plan), { color: useColor(deps) }));
  const changed = reviewed.filter((r) => r.hasChanges);
  if (changed.length === 0) return 0;

  // Confirmation: --yes, else a prompt on a terminal; a plan file counts as reviewed except for
  // stages that need manual approval.
  const confirmed = v.yes === true ? 'all' : await confirm(ctx, changed, planFile !== null);
  if (confirmed === false) {
    deps.stdout.write('apply: canceled, nothing changed\n');
    return 1;
  }
  const outcomes: StageOutcome[] = [];
  const toApply: Reviewed[] = [];
  for (const r of changed) {
    const manual = r.plan.desired?.stage.approval === 'manual';
    if (confirmed === 'all' || !manual) toApply.push(r);
    else {
      const reason = 'approval: manual; confirm on a terminal or pass --yes';
      deps.stdout.write(renderApplyEvent({ type: 'skipped', ref: r.plan.ref, reason }));
      outcomes.push({ ref: r.plan.ref, status: 'skipped', reason });
    }
  }

  const secretsFile = typeof v.secrets === 'string' ? resolve(deps.cwd, v.secrets) : undefined;
  const jobs = await jobsFromPlans(
    toApply.map((r) => ({ ref: r.plan.ref, desired: r.plan.desired, actualSerial: r.actualSerial, organization: r.organization })),
    {
      source,
      trigger: planFile !== null ? 'plan-file' : 'cli',
      configRoot,
      engineOf,
      secretsFor: (organization) => secretsFor(organization, secretsFile, configRoot, deps.env),
    },
  );
  outcomes.push(
    ...(await applyStages(
      jobs,
      { stateDir, deps, signal, planner, allowDataLoss, lockTimeoutMs, command: 'apply', onEvent: (e) => deps.stdout.write(renderApplyEvent(e)) },
      { concurrency: parallel },
    )),
  );
  outcomes.sort((a, b) => compareCodeUnits(stageKey(a.ref), stageKey(b.ref)));
  deps.stdout.write(renderApplySummary(outcomes));
  return outcomes.every((o) => o.status === 'succeeded' || o.status === 'unchanged') ? 0 : 1;
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

/** The stages of a saved plan, each re-planned for display against what the engine records now. */
async function reviewPlanFile(
  file: PlanFile,
  selectors: string[],
  engineOf: (org: OrganizationModel) => Promise<Engine>,
  signal: AbortSignal,
): Promise<Reviewed[]> {
  const byKey = new Map<string, PlanFile['stages'][number]>(file.stages.map((s) => [stageKey(s), s]));
  const out: Reviewed[] = [];
  for (const key of selectStages([...byKey.keys()].sort(), selectors)) {
    const s = byKey.get(key)!;
    const ref = planStageRef(s);
    const organization: OrganizationModel = s.desired?.organization ?? { name: s.organization, provider: providerOf(s.engine) };
    const engine = await engineOf(organization);
    const actual = await engine.read(ref, signal);
    if (s.desired === null && actual.model === null) continue; // already gone
    const organizationNow = s.desired?.organization ?? actual.model?.organization ?? organization;
    // Shown as planned from the saved desired model; staleness is checked again under the lock.
    const plan = planStage(s.desired, actual, engine.name);
    if (actual.serial !== s.actualSerial) {
      plan.notes.push(`the saved plan was made against state serial ${s.actualSerial ?? 'none'}, the stage is now at ${actual.serial ?? 'none'}: it will be refused as stale`);
    }
    // A stage that moved on since the plan is still handed to apply, which refuses it as stale.
    out.push({ plan, hasChanges: s.changes.length > 0, actualSerial: s.actualSerial, organization: organizationNow });
  }
  return out;
}

/**
 * Asks once for all changed stages. Returns 'all' (confirmed), false (declined), or 'auto-only' when a
 * plan file was given without a terminal: stages with automatic approval apply, manual ones are skipped.
 */
async function confirm(ctx: CommandContext, changed: Reviewed[], fromPlanFile: boolean): Promise<false | 'all' | 'auto-only'> {
  const { deps } = ctx;
  if (deps.prompt && deps.isTTY.stdin) {
    const n = changed.reduce((sum, r) => sum + r.plan.changeset.changes.length, 0);
    const stages = changed.map((r) => r.plan.key).join(', ');
    const answer = (await deps.prompt(`Apply ${n} change${n === 1 ? '' : 's'} to ${stages}? Type "yes" to confirm: `, ctx.signal)).trim();
    return answer === 'yes' ? 'all' : false;
  }
  if (fromPlanFile) return 'auto-only';
  throw new UsageError('apply needs --yes (or a plan file saved with `setopsd plan --out FILE`) when not run in a terminal');
}

/**
 * The secret resolver of a stage: the local engine reads `--secrets FILE` (else the
 * Organization's `secrets.file`, relative to the config root) and the environment with the
 * Organization's prefix. AWS stages read SSM / Secrets Manager in the engine itself.
 */
function secretsFor(organization: OrganizationModel, secretsFile: string | undefined, configRoot: string, env: Record<string, string | undefined>): SecretResolver {
  const settings = organization.secrets;
  const file = secretsFile ?? (settings?.file ? resolve(configRoot, settings.file) : undefined);
  if (organization.provider !== 'local') {
    return {
      get: async (name) => {
        throw new SetopsError(`secret "${name}": stages of organization ${organization.name} read secrets in the engine`, { code: 'E_SECRET_MISSING' });
      },
    };
  }
  return createSecretResolver({ ...(file ? { file } : {}), ...(settings?.env ? { envPrefix: settings.env.prefix } : {}), env });
}
