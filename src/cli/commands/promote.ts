import { resolve } from 'node:path';
import type { Command } from '../command.js';
import { UsageError } from '../../errors.js';
import { promoteImages } from '../../operations/stage-manifests.js';
import { STATE_DIR_HELP, STATE_DIR_OPTION, resolveStateDir } from '../state-dir.js';
import { stringList } from '../stage-select.js';
import { CHANGE_HELP, CHANGE_OPTIONS, changeOutput, changeSource, deliverChange } from '../manifest-change.js';

const command: Command = {
  name: 'promote',
  summary: "Write a stage's app images into another stage's overrides (commit or patch)",
  help: [
    'Usage: setopsd promote --from STAGE --to STAGE [--apps web,worker] (--commit BRANCH | --patch)',
    '                       [DIR | --repo PATH [--ref REF] [--dir SUB]] [--state-dir DIR]',
    '',
    'Promotes the same artifact: the images the --from stage runs (its last deployment, which must',
    'have succeeded at exactly the commit read) are written into the --to stage\'s overrides',
    '(spec.stages.TO.image of each app), and nothing else: no env, scale or service change. The',
    'files keep their comments and layout. The result is a commit on a new branch or a patch, for',
    'a pull request; applying it is a normal apply (or the daemon, once merged).',
    '',
    'Options:',
    '  --from STAGE         The stage whose images to promote.',
    '  --to STAGE           The stage to promote them to.',
    '  --apps A,B           Only these apps (default: every app of the source stage with an image).',
    CHANGE_HELP,
    STATE_DIR_HELP,
    '',
    'Exit codes: 0 written, 1 refused (the source did not succeed, ran another commit, nothing to change) or error.',
  ].join('\n'),
  options: { ...CHANGE_OPTIONS, ...STATE_DIR_OPTION, from: { type: 'string' }, to: { type: 'string' }, apps: { type: 'string', multiple: true } },
  async run(ctx) {
    const v = ctx.args.values;
    if (typeof v.from !== 'string' || typeof v.to !== 'string') throw new UsageError('promote needs --from STAGE and --to STAGE, e.g. setopsd promote --from staging --to production --patch');
    const [dir, ...extra] = ctx.args.positionals;
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    const output = changeOutput(ctx);
    const files = await changeSource(ctx, dir, true);
    // The state of the stage to promote from: where `apply` of the same DIR or --repo keeps it.
    const stateDir = resolveStateDir(ctx, v.repo === undefined ? { root: resolve(ctx.deps.cwd, dir ?? '.') } : files);
    const apps = stringList(v.apps).flatMap((a) => a.split(',')).map((a) => a.trim()).filter(Boolean);
    const change = await promoteImages({ deps: ctx.deps, stateDir }, files, { from: v.from, to: v.to, apps });
    return deliverChange(ctx, change, files, output);
  },
};
export default command;
