import type { Command } from '../command.js';
import { UsageError } from '../../errors.js';
import { cloneStage, removeStage, resetStage } from '../../operations/stage-manifests.js';
import { CHANGE_HELP, CHANGE_OPTIONS, changeOutput, changeSource, deliverChange } from '../manifest-change.js';

const command: Command = {
  name: 'stage',
  summary: 'Clone, reset or remove a stage in the manifests (commit or patch)',
  help: [
    'Usage: setopsd stage clone SOURCE NEW   (--commit BRANCH | --patch) [DIR | --repo PATH …]',
    '       setopsd stage reset STAGE --to OTHER (--commit BRANCH | --patch) [DIR | --repo PATH …]',
    '       setopsd stage remove STAGE       (--commit BRANCH | --patch) [DIR | --repo PATH …]',
    '',
    'Changes to the manifests, handed over as a commit on a new branch or a patch (the branch is',
    'the truth: review it, merge it, and apply or let the daemon apply it):',
    '  clone   a new Stage NEW copying SOURCE\'s settings and every app\'s and service\'s override',
    '          for SOURCE; the clone is not protected, has approval auto, no domains and no after:',
    '          (e.g. a pr-123 stage from staging).',
    '  reset   set STAGE\'s app images to OTHER\'s.',
    '  remove  remove the Stage manifest and its overrides; planning that commit shows the destroy',
    '          (with data loss for its services). Refused for protected stages.',
    '',
    'Options:',
    '  --to OTHER           (reset) The stage whose images to take.',
    CHANGE_HELP,
    '',
    'Exit codes: 0 written, 1 refused or error.',
  ].join('\n'),
  options: { ...CHANGE_OPTIONS, to: { type: 'string' } },
  async run(ctx) {
    const [verb, ...args] = ctx.args.positionals;
    const take = (n: number, usage: string) => {
      if (args.length < n || args.length > n + 1) throw new UsageError(`usage: ${usage}`);
      return { names: args.slice(0, n), dir: args[n] };
    };
    const output = changeOutput(ctx);
    switch (verb) {
      case 'clone': {
        const { names, dir } = take(2, 'setopsd stage clone SOURCE NEW (--commit BRANCH | --patch) [DIR]');
        const files = await changeSource(ctx, dir, output.kind === 'commit');
        return deliverChange(ctx, cloneStage(files, { source: names[0]!, name: names[1]! }), files, output);
      }
      case 'reset': {
        const { names, dir } = take(1, 'setopsd stage reset STAGE --to OTHER (--commit BRANCH | --patch) [DIR]');
        const to = ctx.args.values.to;
        if (typeof to !== 'string') throw new UsageError('stage reset needs --to OTHER, the stage whose images to take');
        const files = await changeSource(ctx, dir, output.kind === 'commit');
        return deliverChange(ctx, resetStage(files, { stage: names[0]!, to }), files, output);
      }
      case 'remove': {
        const { names, dir } = take(1, 'setopsd stage remove STAGE (--commit BRANCH | --patch) [DIR]');
        const files = await changeSource(ctx, dir, output.kind === 'commit');
        return deliverChange(ctx, removeStage(files, { stage: names[0]! }), files, output);
      }
      default:
        throw new UsageError(`stage needs clone, reset or remove${verb ? `, not "${verb}"` : ''}; see setopsd stage --help`);
    }
  },
};
export default command;
