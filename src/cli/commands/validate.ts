import type { Command, CommandContext } from '../command.js';
import { UsageError, ValidationError } from '../../errors.js';
import { loadDesired } from '../../manifests/load.js';
import { hashOf } from '../../model/canonical.js';
import { refOf, stageKey } from '../../model/stage-model.js';
import { SOURCE_HELP, SOURCE_OPTIONS, describeSource, displayIssues, readSourceFromArgs } from '../source-args.js';
import { parseTextOrJson } from '../../render/text-or-json.js';
import { JSON_FORMAT_VERSION, issueJson } from '../../render/error-json.js';

const help = `Usage: setopsd validate [DIR | --repo PATH [--ref REF] [--dir SUB]] [--format text|json]

Checks the manifests: YAML syntax, the schema of every kind, names and references, stage
order, overrides, excludes, links and domains. Prints a one-line summary when they are valid,
and every problem as FILE:LINE:COL: /json/pointer: message when they are not.

Options:
${SOURCE_HELP}
  --format FORMAT  text (default) or json: { formatVersion, valid, counts, issues: [{ code, file,
                   line, column, pointer, message }], stages: [{ key, hash }], source }; an error
                   that is not about one manifest is JSON too: { formatVersion, valid: false,
                   error: { code, message }, issues: [] }

Exit codes: 0 valid, 1 invalid or the manifests cannot be read.
`;

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

const command: Command = {
  name: 'validate',
  summary: 'Check the manifests and print a summary',
  help,
  options: { ...SOURCE_OPTIONS, format: { type: 'string', default: 'text' } },
  async run(ctx: CommandContext): Promise<number> {
    const format = parseTextOrJson(ctx.args.values.format);
    if (ctx.args.positionals.length > 1) throw new UsageError(`validate takes one directory, got ${ctx.args.positionals.length}`);
    const source = await readSourceFromArgs(ctx);
    const result = loadDesired(source);
    const issues = result.ok ? [] : displayIssues(source, result.issues, ctx.deps.cwd);
    if (format === 'json') {
      const out = {
        formatVersion: JSON_FORMAT_VERSION,
        valid: result.ok,
        counts: result.ok ? result.value.counts : null,
        issues: issues.map(issueJson),
        stages: result.ok ? result.value.stages.map((s) => ({ key: stageKey(refOf(s)), hash: hashOf(s) })) : [],
        source: { root: source.root, dir: source.dir, ref: source.ref ?? null, commit: source.commit ?? null, files: source.files.length },
      };
      ctx.deps.stdout.write(JSON.stringify(out, null, 2) + '\n');
      return result.ok ? 0 : 1;
    }
    if (!result.ok) throw new ValidationError(issues);
    const c = result.value.counts;
    ctx.deps.stdout.write(
      `valid: ${plural(c.organizations, 'organization')}, ${plural(c.projects, 'project')}, ${plural(c.stages, 'stage')}, ` +
        `${plural(c.apps, 'app')}, ${plural(c.services, 'service')} (${describeSource(source, ctx.deps.cwd)})\n`,
    );
    return 0;
  },
};
export default command;
