/**
 * Local engine benchmark: time from `apply` start to the first healthy answer through the
 * router for the example stage (acme/shop/staging: web + worker apps, postgresql, redis, s3),
 * cold (new state dir: initdb) and warm (after a destroy that keeps data), and the cost of each
 * extra app. Not a test: prints a table.
 *
 *   node --import tsx bench/local.ts [--extra N]
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { readDirectory } from '../src/manifests/source-dir.js';
import { loadDesired } from '../src/manifests/load.js';
import { configDirOf } from '../src/manifests/api.js';
import { createLocalEngine } from '../src/providers/local/index.js';
import { localPaths } from '../src/providers/local/paths.js';
import { refOf, type StageModel } from '../src/model/stage-model.js';
import type { ApplyIO, Engine } from '../src/providers/engine.js';
import { realClock, realSleep } from '../src/sleep.js';

const { values } = parseArgs({ options: { extra: { type: 'string', default: '3' } } });
const EXTRA = Number(values.extra);
const examples = resolve(fileURLToPath(new URL('../examples', import.meta.url)));

function io(configRoot: string, allowDataLoss = false): ApplyIO {
  return {
    signal: new AbortController().signal,
    log: pino({ level: 'silent' }),
    progress: () => {},
    allowDataLoss,
    secrets: { get: async (n) => { throw new Error(`no secret ${n}`); } },
    configRoot,
    deployment: { number: 1, commit: null, trigger: 'bench' },
  };
}

function status(port: number, host: string): Promise<number> {
  return new Promise((res) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host }, agent: false }, (r) => {
      r.resume();
      res(r.statusCode ?? 0);
    });
    req.on('error', () => res(0));
    req.end();
  });
}

/** Applies and, in parallel, polls the router until `host` answers 200; returns both times (ms). */
async function timedApply(engine: Engine, model: StageModel, stateDir: string, configRoot: string, host: string): Promise<{ firstOk: number; applied: number }> {
  const paths = localPaths(stateDir, refOf(model));
  const t0 = performance.now();
  let firstOk = 0;
  let done = false;
  const poller = (async () => {
    while (!done || firstOk === 0) {
      try {
        const port = (JSON.parse(await readFile(paths.routerFile, 'utf8')) as { port: number }).port;
        if ((await status(port, host)) === 200) {
          firstOk = performance.now() - t0;
          return;
        }
      } catch {
        // router not up yet
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const result = await engine.apply(model, { ref: refOf(model), changes: [] }, io(configRoot));
  const applied = performance.now() - t0;
  done = true;
  if (result.status !== 'succeeded') throw result.error;
  await poller;
  return { firstOk, applied };
}

async function main(): Promise<void> {
  const source = await readDirectory(examples);
  const loaded = loadDesired(source);
  if (!loaded.ok) throw new Error(`the example does not load: ${loaded.issues.map((i) => i.message).join('; ')}`);
  const model = loaded.value.stages.find((s) => s.stage.name === 'staging');
  if (!model) throw new Error('no staging stage in the example');
  const configRoot = configDirOf(source);
  const ref = refOf(model);
  const host = `web.${ref.stage}.${ref.project}.localhost`;
  const stateDir = await mkdtemp(join(tmpdir(), 'setopsd-bench-'));
  const engine = createLocalEngine({
    stateDir,
    deps: { clock: realClock, sleep: realSleep, log: pino({ level: 'silent' }), env: process.env, cwd: process.cwd(), stdout: process.stdout, stderr: process.stderr, isTTY: { stdout: false, stdin: false } },
    organization: model.organization,
  });
  const rows: [string, string, string][] = [];
  try {
    const cold = await timedApply(engine, model, stateDir, configRoot, host);
    rows.push(['example stage, cold (initdb, 2 apps, postgres + redis + s3)', cold.firstOk.toFixed(0), cold.applied.toFixed(0)]);
    await engine.destroy(ref, io(configRoot, false));
    const warm = await timedApply(engine, model, stateDir, configRoot, host);
    rows.push(['example stage, warm (data kept, servers stopped)', warm.firstOk.toFixed(0), warm.applied.toFixed(0)]);
    const noop = performance.now();
    await engine.apply(model, { ref, changes: [] }, io(configRoot));
    rows.push(['re-apply, nothing changed', '-', (performance.now() - noop).toFixed(0)]);
    const bigger = structuredClone(model);
    for (let i = 1; i <= EXTRA; i++) bigger.apps[`extra${i}`] = structuredClone(model.apps.web!);
    const t0 = performance.now();
    const r = await engine.apply(bigger, { ref, changes: [] }, io(configRoot));
    if (r.status !== 'succeeded') throw r.error;
    const extra = performance.now() - t0;
    rows.push([`${EXTRA} extra apps (copies of web), added`, '-', `${extra.toFixed(0)} (${(extra / EXTRA).toFixed(0)} per app)`]);
  } finally {
    await engine.destroy(ref, io(configRoot, true));
    await rm(stateDir, { recursive: true, force: true });
  }
  process.stdout.write(`| case | first 200 through the router (ms) | apply returned (ms) |\n| --- | ---: | ---: |\n`);
  for (const [a, b, c] of rows) process.stdout.write(`| ${a} | ${b} | ${c} |\n`);
}

await main();
