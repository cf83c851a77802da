import { resolve } from 'node:path';
import type { CommandContext } from './command.js';
import { UsageError } from '../errors.js';
import { configDirOf, type SourceFiles } from '../manifests/api.js';
import { commitsAhead } from '../manifests/commits-ahead.js';
import type { OrganizationModel } from '../model/stage-model.js';
import { planReview, type PlanReview } from '../operations/plan-review.js';
import { secretsFor } from '../providers/registry.js';
import { displayPath, readSourceFromArgs } from './source-args.js';
import { stringList } from './stage-select.js';
import { resolveStateDir } from './state-dir.js';

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/**
 * The plan of `plan` and `comment` from their arguments: a source (DIR, `--repo --ref`, or with
 * `--base REF --head REF` the head commit compared with the base) planned as a pull request by
 * `planReview`, the one the daemon posts too.
 */
export async function reviewFromArgs(ctx: CommandContext): Promise<{ source: SourceFiles; baseSource?: SourceFiles; stateDir: string; review: PlanReview }> {
  const { values } = ctx.args;
  const base = str(values.base);
  const head = str(values.head);
  if ((base === undefined) !== (head === undefined)) throw new UsageError('--base and --head go together');
  let source: SourceFiles;
  let baseSource: SourceFiles | undefined;
  if (base !== undefined && head !== undefined) {
    const repo = str(values.repo);
    if (repo === undefined) throw new UsageError('--base/--head need --repo PATH');
    if (values.ref !== undefined) throw new UsageError('--ref cannot be combined with --head; the head commit is planned');
    if (ctx.args.positionals.length > 0) throw new UsageError('a config directory cannot be combined with --repo');
    const where = { repo: resolve(ctx.deps.cwd, repo), dir: str(values.dir) };
    const { readGitTree } = await import('../manifests/source-git.js');
    source = await readGitTree({ ...where, ref: head }, ctx.signal);
    baseSource = await readGitTree({ ...where, ref: base }, ctx.signal);
  } else {
    source = await readSourceFromArgs(ctx);
  }
  const stateDir = resolveStateDir(ctx, source);
  const secretsFile = str(values.secrets) === undefined ? {} : { secretsFile: resolve(ctx.deps.cwd, str(values.secrets)!) };
  const review = await planReview(
    ctx.deps,
    {
      head: source,
      ...(baseSource ? { base: baseSource } : {}),
      stateDir,
      stages: stringList(values.stage),
      refresh: values.refresh === true,
      secretsFor: (organization: OrganizationModel) => secretsFor(organization, { ...secretsFile, configRoot: configDirOf(source), env: ctx.deps.env }),
      commitsAhead: (commit) => commitsAhead(source.root, commit, source.commit ?? 'HEAD'),
      displayFile: (f) => displayPath(source, f, ctx.deps.cwd),
    },
    ctx.signal,
  );
  return { source, ...(baseSource ? { baseSource } : {}), stateDir, review };
}
