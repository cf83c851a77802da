import { readFile, stat } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { EngineError } from '../../errors.js';
import type { SecretResolver } from '../engine.js';

/** Where secrets come from: a 0600 file (YAML map or dotenv) and/or environment variables with a prefix. */
export interface SecretResolverOptions {
  file?: string;
  /** Environment variable prefix: `{secret: API_KEY}` reads `<envPrefix>API_KEY`. Absent: the environment is not used. */
  envPrefix?: string;
  env: Record<string, string | undefined>;
}

/** Parses a secrets file: a YAML mapping of names to scalar values, or dotenv `NAME=value` lines. */
export function parseSecretsFile(text: string, file: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  const dotenv = lines.length > 0 && lines.every((l) => /^\s*(export\s+)?[A-Za-z_][A-Za-z0-9_.-]*\s*=/.test(l));
  if (dotenv) {
    for (const line of lines) {
      const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line)!;
      let v = m[2]!.trim();
      if ((v.startsWith('"') && v.endsWith('"') && v.length >= 2) || (v.startsWith("'") && v.endsWith("'") && v.length >= 2)) {
        const q = v[0];
        v = v.slice(1, -1);
        if (q === '"') v = v.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
      }
      out.set(m[1]!, v);
    }
    return out;
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch {
    // The parser's message may quote the file's content: never show it.
    throw new EngineError(`secrets file ${file}: not a YAML mapping nor dotenv NAME=value lines; fix its syntax`, { code: 'E_SECRETS_FILE', data: { file } });
  }
  if (doc === null || doc === undefined) return out;
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new EngineError(`secrets file ${file}: expected a mapping of secret names to values`, { code: 'E_SECRETS_FILE', data: { file } });
  }
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out.set(k, String(v));
    else throw new EngineError(`secrets file ${file}: secret ${k} must be a string`, { code: 'E_SECRETS_FILE', data: { file, secret: k } });
  }
  return out;
}

/**
 * The local engine's secret store. A secrets file must be readable only by its owner (mode
 * 0600): otherwise it is refused, naming the file and `chmod 600`. The file wins over the
 * environment. Errors name the missing secret, never a value.
 */
export function createSecretResolver(opts: SecretResolverOptions): SecretResolver {
  let loaded: Promise<Map<string, string>> | null = null;
  const load = async (): Promise<Map<string, string>> => {
    if (opts.file === undefined) return new Map();
    let st;
    try {
      st = await stat(opts.file);
    } catch (err) {
      throw new EngineError(`secrets file ${opts.file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}; create it (mode 0600) or fix the path`, { code: 'E_SECRETS_FILE', data: { file: opts.file } });
    }
    if ((st.mode & 0o077) !== 0) {
      throw new EngineError(`secrets file ${opts.file} is accessible by other users (mode ${(st.mode & 0o777).toString(8)}); run chmod 600 ${opts.file}`, { code: 'E_SECRETS_MODE', data: { file: opts.file } });
    }
    return parseSecretsFile(await readFile(opts.file, 'utf8'), opts.file);
  };
  return {
    async get(name: string): Promise<string> {
      loaded ??= load();
      const values = await loaded;
      const v = values.get(name);
      if (v !== undefined) return v;
      if (opts.envPrefix !== undefined) {
        const e = opts.env[`${opts.envPrefix}${name}`];
        if (e !== undefined) return e;
      }
      const where = [
        opts.file !== undefined ? `the secrets file ${opts.file}` : null,
        opts.envPrefix !== undefined ? `the environment variable ${opts.envPrefix}${name}` : null,
      ].filter(Boolean);
      throw new EngineError(
        `secret ${name} is not set: ${where.length === 0 ? 'no secrets file or environment prefix is configured (Organization spec.secrets or --secrets FILE)' : `add it to ${where.join(' or ')}`}`,
        { code: 'E_SECRET_MISSING', data: { secret: name } },
      );
    },
  };
}
