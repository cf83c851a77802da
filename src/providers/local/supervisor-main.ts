/**
 * Entry point of a stage supervisor process (started detached by the local engine):
 *   supervisor-main --stage-dir DIR --stage ORG/PROJECT/STAGE [--router-port N] [--backoff BASE,CAP] [--stop-grace MS]
 */
import { parseArgs } from 'node:util';
import { realClock, realSleep } from '../../sleep.js';
import { localPathsIn } from './paths.js';
import { Supervisor } from './supervisor.js';
import type { LocalDeps } from './local-deps.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'stage-dir': { type: 'string' },
      stage: { type: 'string' },
      'router-port': { type: 'string' },
      backoff: { type: 'string' },
      'stop-grace': { type: 'string' },
    },
  });
  const [organization, project, stage] = (values.stage ?? '').split('/');
  if (!values['stage-dir'] || !organization || !project || !stage) {
    process.stderr.write('usage: supervisor-main --stage-dir DIR --stage ORG/PROJECT/STAGE\n');
    process.exit(2);
  }
  const [baseMs, capMs] = (values.backoff ?? '500,30000').split(',').map(Number);
  // The one place the supervisor process reads its environment and the real clock.
  const deps: LocalDeps = { clock: realClock, sleep: realSleep, env: process.env };
  const supervisor = new Supervisor(
    localPathsIn(values['stage-dir']),
    { organization, project, stage },
    {
      routerPort: Number(values['router-port'] ?? 0) || 0,
      backoff: { baseMs: baseMs || 500, capMs: capMs || 30_000 },
      stopGraceMs: Number(values['stop-grace'] ?? 10_000) || 10_000,
    },
    deps,
    (code) => process.exit(code),
  );
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    supervisor.log(`received ${sig}`);
    void supervisor.shutdown(false).finally(() => process.exit(0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', () => {});
  // The supervisor owns every process of the stage: a bug in one request must not take it down.
  process.on('uncaughtException', (err) => {
    supervisor.log(`uncaught error (bug): ${err.stack ?? err.message}`);
  });
  process.on('unhandledRejection', (err) => {
    supervisor.log(`unhandled rejection (bug): ${(err as Error)?.stack ?? String(err)}`);
  });
  await supervisor.start();
}

main().catch((err) => {
  process.stderr.write(`setopsd supervisor failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
