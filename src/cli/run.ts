import type { Logger } from 'pino';
import { createRequire } from 'node:module';
import { main } from './main.js';
import type { Deps } from '../deps.js';
import { realClock, realSleep } from '../sleep.js';
import { useCompiledRuleStore } from '../schema/policy-rules.js';
import { fileRuleStore, ruleCacheDir } from '../state/compiled-rules.js';

/**
 * Process entry: builds the real Deps once, wires SIGINT/SIGTERM to one root AbortController
 * (the first signal aborts, a second exits at once) and sets the exit code.
 */
const require = createRequire(import.meta.url);

/**
 * The logger, made on first use: pino (and pino-pretty on a terminal) is a large part of the
 * start-up of a command that never logs (`validate`, `plan` of a directory).
 */
function lazyLogger(make: () => Logger): Logger {
  let real: Logger | undefined;
  return new Proxy({} as Logger, {
    get: (_target, prop) => {
      real ??= make();
      const value = Reflect.get(real, prop, real) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(real) : value;
    },
    set: (_target, prop, value) => Reflect.set((real ??= make()), prop, value),
  });
}

export function defaultDeps(): Deps {
  const level = process.env.SETOPSD_LOG_LEVEL ?? 'warn';
  return {
    clock: realClock,
    sleep: realSleep,
    log: lazyLogger(() => {
      const { pino } = require('pino') as typeof import('pino');
      // JSON lines for machines; on a terminal, pino-pretty's readable lines (colour unless NO_COLOR).
      return process.stderr.isTTY
        ? pino({ level, base: undefined }, (require('pino-pretty') as typeof import('pino-pretty'))({ destination: 2, colorize: !process.env.NO_COLOR, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' }))
        : pino({ level, base: undefined }, pino.destination(2));
    }),
    env: process.env,
    cwd: process.cwd(),
    stdout: { write: (s) => void process.stdout.write(s) },
    stderr: { write: (s) => void process.stderr.write(s) },
    isTTY: { stdout: Boolean(process.stdout.isTTY), stdin: Boolean(process.stdin.isTTY) },
    prompt: process.stdin.isTTY
      ? async (question, signal) => {
          // Loaded when a prompt is shown: readline is a measurable part of a command's start-up.
          const { createInterface } = require('node:readline/promises') as typeof import('node:readline/promises');
          const rl = createInterface({ input: process.stdin, output: process.stderr });
          try {
            return await rl.question(question, { signal });
          } finally {
            rl.close();
          }
        }
      : undefined,
  };
}

const controller = new AbortController();
let signals = 0;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    signals += 1;
    if (signals > 1) process.exit(130);
    process.stderr.write(`\nsetopsd: ${sig} received, stopping (again to exit at once)\n`);
    controller.abort(new Error(sig));
  });
}

// Policy rules compiled by an earlier run are loaded from the user's cache instead of compiled again.
const rulesDir = ruleCacheDir(process.env);
if (rulesDir !== null) useCompiledRuleStore(fileRuleStore(rulesDir));

// Not a top-level await: the built CLI is also bundled as CommonJS (scripts/bundle-cli.ts).
void main(process.argv.slice(2), defaultDeps(), controller.signal).then((code) => {
  process.exitCode = code;
});
