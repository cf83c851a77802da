// Runs one local-engine apply in its own process, so a test can SIGKILL it part-way.
//   node --import tsx apply-child.ts STATE_DIR MODEL_JSON CONFIG_ROOT
import { readFile } from 'node:fs/promises';
import { pino } from 'pino';
import { createLocalEngine } from '../../../src/providers/local/index.js';
import type { StageModel } from '../../../src/model/stage-model.js';
import { localDeps } from './helpers.js';

if (process.argv.length < 5) {
  // Run by a test runner on its own: not a test.
  process.stdout.write('1..0 # SKIP helper script for crash-safety.test.ts\n');
  process.exit(0);
}
const [stateDir, modelFile, configRoot] = process.argv.slice(2) as [string, string, string];
const model = JSON.parse(await readFile(modelFile, 'utf8')) as StageModel;
const engine = createLocalEngine(
  { stateDir, deps: localDeps(), organization: model.organization },
  { backoff: { baseMs: 100, capMs: 1000 }, stopGraceMs: 3000 },
);
process.stdout.write('applying\n');
const result = await engine.apply(model, { ref: { organization: model.organization.name, project: model.project.name, stage: model.stage.name }, changes: [] }, {
  signal: new AbortController().signal,
  log: pino({ level: 'silent' }),
  progress: () => {},
  allowDataLoss: false,
  secrets: { get: async (n) => { throw new Error(`no secret ${n}`); } },
  configRoot,
  deployment: { number: 2, commit: null, trigger: 'test' },
});
process.stdout.write(`${result.status}\n`);
