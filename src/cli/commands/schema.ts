import type { Command, CommandContext } from '../command.js';
import { UsageError } from '../../errors.js';
import { combinedSchema, schemaOf } from '../../schema/combined.js';
import { KINDS, type Kind } from '../../schema/kinds.js';

const help = `Usage: setopsd schema [KIND] [--combined]

Prints the JSON Schema of a manifest kind (${KINDS.join(', ')}; any case), or without KIND
all of them as one object by kind. --combined prints one schema that accepts any manifest,
for editors: save it and point yaml-language-server (VS Code's YAML extension) at it, either
with the yaml.schemas setting (covers every document of every file it matches), e.g. in
.vscode/settings.json:
  "yaml.schemas": { "./setops.schema.json": ["config/**/*.yaml"] }
or with a modeline — which covers only the YAML document it is written in, so put one at the
top of each document of a multi-document file:
  # yaml-language-server: $schema=./setops.schema.json

Exit codes: 0, 1 on an unknown kind.
`;

const command: Command = {
  name: 'schema',
  summary: 'Print the JSON Schema of a manifest kind',
  help,
  options: { combined: { type: 'boolean', default: false } },
  async run(ctx: CommandContext): Promise<number> {
    const [name, ...extra] = ctx.args.positionals;
    if (extra.length > 0) throw new UsageError(`schema takes one kind, got ${ctx.args.positionals.length}`);
    let out: object;
    if (ctx.args.values.combined) {
      if (name !== undefined) throw new UsageError('give either a KIND or --combined, not both');
      out = combinedSchema();
    } else if (name === undefined) {
      out = Object.fromEntries(KINDS.map((k) => [k, schemaOf(k)]));
    } else {
      const kind = KINDS.find((k) => k.toLowerCase() === name.toLowerCase());
      if (!kind) throw new UsageError(`unknown kind "${name}"; kinds are ${KINDS.join(', ')}`);
      out = schemaOf(kind as Kind);
    }
    ctx.deps.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return 0;
  },
};
export default command;
