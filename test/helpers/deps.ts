import { pino } from 'pino';
import type { Deps } from '../../src/deps.js';
import { main } from '../../src/cli/main.js';

/** Deps for tests: captured output, a manual clock, instant sleep, silent logger. */
export function testDeps(over: Partial<Deps> = {}): Deps & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  let now = Date.parse('2026-01-01T00:00:00Z');
  const deps: Deps = {
    clock: { now: () => now },
    sleep: async (ms) => {
      now += ms;
    },
    log: pino({ level: 'silent' }),
    env: {},
    cwd: process.cwd(),
    stdout: { write: (s) => void (out += s) },
    stderr: { write: (s) => void (err += s) },
    isTTY: { stdout: false, stdin: false },
    ...over,
  };
  return Object.assign(deps, { out: () => out, err: () => err });
}

/** Runs the CLI in-process and returns exit code and captured output. */
export async function runCli(
  argv: string[],
  over: Partial<Deps> = {},
  signal: AbortSignal = new AbortController().signal,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const deps = testDeps(over);
  const code = await main(argv, deps, signal);
  return { code, stdout: deps.out(), stderr: deps.err() };
}
