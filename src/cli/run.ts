import { createInterface } from 'node:readline/promises';
import { pino } from 'pino';
import pretty from 'pino-pretty';
import { main } from './main.js';
import type { Deps } from '../deps.js';
import { realClock, realSleep } from '../sleep.js';

/**
 * Process entry: builds the real Deps once, wires SIGINT/SIGTERM to one root AbortController
 * (the first signal aborts, a second exits at once) and sets the exit code.
 */
export function defaultDeps(): Deps {
  const level = process.env.SETOPSD_LOG_LEVEL ?? 'warn';
  return {
    clock: realClock,
    sleep: realSleep,
    // JSON lines for machines; on a terminal, pino-pretty's readable lines (colour unless NO_COLOR).
    log: process.stderr.isTTY
      ? pino({ level, base: undefined }, pretty({ destination: 2, colorize: !process.env.NO_COLOR, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' }))
      : pino({ level, base: undefined }, pino.destination(2)),
    env: process.env,
    cwd: process.cwd(),
    stdout: { write: (s) => void process.stdout.write(s) },
    stderr: { write: (s) => void process.stderr.write(s) },
    isTTY: { stdout: Boolean(process.stdout.isTTY), stdin: Boolean(process.stdin.isTTY) },
    prompt: process.stdin.isTTY
      ? async (question, signal) => {
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

const code = await main(process.argv.slice(2), defaultDeps(), controller.signal);
process.exitCode = code;
