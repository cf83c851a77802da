import { resolve } from 'node:path';
import type { Command, CommandContext } from '../command.js';
import { UsageError } from '../../errors.js';
import type { StageModel } from '../../model/stage-model.js';
import { refOf, stageKey } from '../../model/stage-model.js';
import { readGitTree } from '../../manifests/source-git.js';
import { planStage, selectStages } from '../../reconciler/stage-plan.js';
import { attributeFiles, changedFiles, changedStageKeys } from '../../reconciler/plan-compare.js';
import { renderPlans, parseFormat } from '../../render/formats.js';
import { desiredOf } from '../source-args.js';
import { stringList } from '../stage-select.js';
import { engineNameOf } from '../../providers/registry.js';

const command: Command = {
  name: 'diff',
  summary: 'Show what changes between the desired state of two commits',
  help: [
    'Usage: setopsd diff --repo PATH --base REF --head REF [--dir SUBDIR] [--stage STAGE …]',
    '                    [--format text|markdown|json]',
    '',
    'Shows how the desired state of every stage changes from the base commit to the head commit',
    '(e.g. a pull request), without reading any deployed state: for reviewing a change with no',
    'access to the state directory or the cloud. Changes are the ones `plan` would show if base',
    'were deployed; each names the manifest files that caused it.',
    '',
    'Options:',
    '  --repo PATH          The git repository (working tree or bare); nothing is checked out.',
    '  --base REF           The commit to compare from (branch, tag or SHA).',
    '  --head REF           The commit to compare to.',
    '  --dir SUBDIR         Sub-directory of the repository holding the manifests.',
    '  --stage STAGE        ORG/PROJECT/STAGE, PROJECT/STAGE or STAGE; repeatable.',
    '  --format FORMAT      text (default), markdown or json (errors too, as for plan).',
    '  --detailed-exitcode  Exit 2 when the commits differ.',
    '',
    'Exit codes: 0 compared, 1 error (invalid manifests at either commit).',
    'With --detailed-exitcode: 0 no differences, 2 differences, 1 error.',
  ].join('\n'),
  options: {
    repo: { type: 'string' },
    base: { type: 'string' },
    head: { type: 'string' },
    dir: { type: 'string' },
    stage: { type: 'string', multiple: true },
    format: { type: 'string' },
    'detailed-exitcode': { type: 'boolean' },
  },
  run: runDiff,
};
export default command;

async function runDiff(ctx: CommandContext): Promise<number> {
  const { values } = ctx.args;
  const format = parseFormat(values.format);
  const repo = values.repo;
  const base = values.base;
  const head = values.head;
  if (typeof repo !== 'string' || typeof base !== 'string' || typeof head !== 'string') {
    throw new UsageError('diff needs --repo PATH --base REF --head REF');
  }
  if (ctx.args.positionals.length > 0) throw new UsageError(`unexpected argument "${ctx.args.positionals[0]}"`);
  const where = { repo: resolve(ctx.deps.cwd, repo), dir: typeof values.dir === 'string' ? values.dir : undefined };
  const headSource = await readGitTree({ ...where, ref: head }, ctx.signal);
  const baseSource = await readGitTree({ ...where, ref: base }, ctx.signal);
  const headDesired = desiredOf(headSource, ctx.deps.cwd);
  const baseDesired = desiredOf(baseSource, ctx.deps.cwd);
  const byKey = (stages: StageModel[]) => new Map(stages.map((s) => [stageKey(refOf(s)), s] as const));
  const heads = byKey(headDesired.stages);
  const bases = byKey(baseDesired.stages);
  const allKeys = [...new Set([...heads.keys(), ...bases.keys()])].sort();
  const selected = new Set(selectStages(allKeys, stringList(values.stage)));
  const files = changedFiles(baseSource, headSource);
  const label = (ref: string, commit: string): string => (commit.startsWith(ref) ? commit.slice(0, 12) : `${ref} ${commit.slice(0, 12)}`);
  const compare = { base: label(base, baseSource.commit!), head: label(head, headSource.commit!) };
  const plans = changedStageKeys(baseDesired, headDesired)
    .filter((key) => selected.has(key))
    .map((key) => {
      const to = heads.get(key) ?? null;
      const from = bases.get(key) ?? null;
      const engine = engineNameOf((to ?? from)!.organization.provider);
      const p = planStage(to, { model: from, serial: null }, engine);
      return attributeFiles({ ...p, compare }, files, baseDesired, headDesired);
    });
  const source = { ref: head, commit: headSource.commit, base: { ref: base, commit: baseSource.commit! } };
  ctx.deps.stdout.write(renderPlans(plans, format, { deps: ctx.deps, source, showFiles: true, title: 'setopsd diff' }));
  return plans.some((p) => p.changeset.changes.length > 0) && values['detailed-exitcode'] === true ? 2 : 0;
}
