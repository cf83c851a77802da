import type { StageRef } from '../model/stage-model.js';

/**
 * Builders for the SetOps CLI command equivalent to each change (docs/architecture.md "SetOps commands").
 * Arguments are quoted for a POSIX shell so a command can be copied and pasted safely.
 */

const SAFE = /^[A-Za-z0-9_\-.,:/=@%+]+$/;

/** Quotes one shell word: unchanged when safe, else single-quoted with `'` escaped. */
export function shellQuote(word: string): string {
  if (word !== '' && SAFE.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Shell words for a command as written in a manifest: exec form as is, shell form via `/bin/sh -c`. */
export function commandWords(command: string | string[]): string[] {
  return Array.isArray(command) ? command : ['/bin/sh', '-c', command];
}

/** Scope of a command below the stage. */
export type Scope = { app: string } | { service: string } | Record<string, never>;

/** `setops --project P --stage S [--app A | --service V] WORDS…`, each word quoted. */
export function setops(ref: StageRef, scope: Scope, words: readonly string[]): string {
  const head = ['setops', '--project', ref.project, '--stage', ref.stage];
  if ('app' in scope) head.push('--app', scope.app);
  if ('service' in scope) head.push('--service', scope.service);
  return [...head, ...words].map(shellQuote).join(' ');
}

/** `setops --project P WORDS…` (stage create/destroy act on the project). */
export function setopsProject(ref: StageRef, words: readonly string[]): string {
  return ['setops', '--project', ref.project, ...words].map(shellQuote).join(' ');
}

/**
 * `env:set --secret KEY` for an env value that is a secret reference: SetOps asks for a secret's
 * value instead of taking it on the command line, and the placeholder `(secret NAME)` must never be
 * pasted as a value. The trailing comment names the secret to enter.
 */
export function setopsSecretEnv(ref: StageRef, app: string, key: string, secret: string): string {
  return `${setops(ref, { app }, ['env:set', '--secret', key])}  # value: secret ${secret.replace(/[\r\n]/g, ' ')}`;
}

/** Setting without a SetOps equivalent (setopsd-only fields such as a stage's `after`). */
export function noSetopsEquivalent(what: string): string {
  return `# no SetOps equivalent: setopsd ${what}`;
}

/** Joins commands that must run in sequence (replace = destroy then create). */
export function andThen(...commands: string[]): string {
  return commands.join(' && ');
}
