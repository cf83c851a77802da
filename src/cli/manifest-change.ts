import { resolve } from 'node:path';
import type { CommandContext } from './command.js';
import { UsageError } from '../errors.js';
import type { SourceFiles } from '../manifests/api.js';
import { readGitTree } from '../manifests/source-git.js';
import type { ChangeOutput, ManifestChange } from '../operations/stage-manifests.js';
import { writeChange } from '../operations/stage-manifests.js';
import { SOURCE_OPTIONS, readSourceFromArgs } from './source-args.js';

/** Options of the commands that change the manifests (promote, stage clone/reset/remove). */
export const CHANGE_OPTIONS = {
  ...SOURCE_OPTIONS,
  commit: { type: 'string' },
  patch: { type: 'boolean' },
} as const;

export const CHANGE_HELP = [
  '  --commit BRANCH      Write the change as one commit on the new branch BRANCH (from the commit',
  '                       read; the working tree and the checked-out branch are not touched).',
  '  --patch              Print the change as a unified diff instead (for `git apply`).',
  '  DIR | --repo PATH    The manifests: a directory, or a git repository (--ref, --dir as for plan).',
  '                       With --commit, a DIR inside a git working tree is read at HEAD.',
].join('\n');

/** How the command hands its change over; exactly one of --commit BRANCH and --patch. */
export function changeOutput(ctx: CommandContext): ChangeOutput {
  const v = ctx.args.values;
  const branch = typeof v.commit === 'string' ? v.commit : undefined;
  if ((branch !== undefined) === (v.patch === true)) throw new UsageError('give either --commit BRANCH (a commit on a new branch) or --patch (a diff on stdout)');
  const fixed = ctx.deps.env.SETOPSD_COMMIT_TIMESTAMP;
  return branch !== undefined ? { kind: 'commit', branch, ...(fixed ? { timestamp: Number(fixed) } : {}) } : { kind: 'patch' };
}

/** The manifests to change: with --commit (or `needCommit`) from git, so the base commit is known. */
export async function changeSource(ctx: CommandContext, dirArg: string | undefined, needCommit: boolean): Promise<SourceFiles> {
  const v = ctx.args.values;
  if (v.repo !== undefined || !needCommit) {
    return readSourceFromArgs({ ...ctx, args: { ...ctx.args, positionals: dirArg === undefined ? [] : [dirArg] } });
  }
  return readGitTree({ repo: resolve(ctx.deps.cwd, dirArg ?? '.'), ref: 'HEAD', display: dirArg ?? '.' }, ctx.signal);
}

/** Writes the change and says what happened: the commit, or the patch on stdout. */
export async function deliverChange(ctx: CommandContext, change: ManifestChange, files: SourceFiles, output: ChangeOutput): Promise<number> {
  const result = await writeChange(change, files, output);
  if (result.patch !== undefined) {
    ctx.deps.stdout.write(result.patch);
    return 0;
  }
  const subjects = Object.entries(change.changed).map(([k, s]) => `${k}: ${s.join(', ')}`).join('; ');
  ctx.deps.stdout.write(`committed ${result.commit!.slice(0, 12)} on branch ${(output as { branch: string }).branch}: ${change.message.split('\n')[0]}\n  changes ${subjects}\n  plan it: setopsd plan --repo ${files.root} --ref ${(output as { branch: string }).branch}\n`);
  return 0;
}
