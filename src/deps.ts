import type { Logger } from 'pino';

/** Wall clock; replaced in tests. The pure core never reads it: it receives `now` as a value. */
export interface Clock {
  now(): number;
}

/** Waits `ms` milliseconds or until the signal aborts (then rejects with a CanceledError). */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/**
 * Effects injected into everything outside the pure core. Built once in `src/cli/main.ts`
 * (`defaultDeps`) and passed down; tests build their own.
 */
export interface Deps {
  clock: Clock;
  sleep: Sleep;
  log: Logger;
  /** Environment variables (secrets from the environment, PULUMI_* settings). */
  env: Record<string, string | undefined>;
  /** Current working directory for resolving relative paths given on the command line. */
  cwd: string;
  /** Standard output / error writers (the CLI's only way to print). */
  stdout: Writer;
  stderr: Writer;
  /** Whether stdout / stdin are terminals (colour, prompts). */
  isTTY: { stdout: boolean; stdin: boolean };
  /** Reads one line from the terminal for confirmations; absent without a terminal. */
  prompt?: (question: string, signal: AbortSignal) => Promise<string>;
}

export interface Writer {
  write(chunk: string): void;
}
