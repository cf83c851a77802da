/**
 * End-to-end against the real Pulumi CLI and a file backend: create, preview, up, read,
 * destroy of a stage whose program needs no cloud credentials (a dynamic resource). These
 * run only where `pulumi` is on the PATH and are reported as skipped elsewhere.
 */
import t from 'tap';
import { join } from 'node:path';
import { pino } from 'pino';
import type { StageModel } from '../../../../src/model/stage-model.js';
import { app, stage } from '../../../helpers/models.js';
import type { ApplyIO, ProgressEvent } from '../../../../src/providers/engine.js';
import { createPulumiEngine } from '../../../../src/providers/aws/index.js';
import { findPulumiExecutable } from '../../../../src/providers/aws/engine/cli.js';
import { testDeps } from '../../../helpers/deps.js';
import { tempDir } from '../../../helpers/temp.js';

const pulumi = await findPulumiExecutable({ PATH: process.env.PATH });
const skip = pulumi ? false : 'pulumi CLI not on PATH';

const model = (scale: number): StageModel =>
  stage({
    name: 'dev',
    organization: { name: 'itest', provider: 'aws', aws: { region: 'eu-central-1' } },
    project: { name: 'demo' },
    apps: {
      web: app({ image: 'nginx:1.27', port: 80, scale, healthCheck: { path: '/', status: '200-499', interval: 30, timeout: 5, retries: 3, startPeriod: 0 } }),
    },
  });

/** A program with one dynamic resource: no provider plugin and no cloud credentials needed. */
async function dynamicProgram(m: StageModel): Promise<() => Promise<Record<string, unknown>>> {
  const pulumiSdk = await import('@pulumi/pulumi');
  const provider = {
    async create(inputs: Record<string, unknown>) {
      return { id: `app-${String(inputs.name)}`, outs: inputs };
    },
    async diff(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>) {
      return { changes: JSON.stringify(olds.scale) !== JSON.stringify(news.scale) };
    },
    async update(_id: string, _olds: Record<string, unknown>, news: Record<string, unknown>) {
      return { outs: news };
    },
  };
  class AppRecord extends pulumiSdk.dynamic.Resource {
    constructor(name: string, props: Record<string, unknown>) {
      super(provider, name, props, {});
    }
  }
  return async () => {
    for (const [name, app] of Object.entries(m.apps)) new AppRecord(`app-${name}`, { name, scale: app.scale });
    return { apps: Object.keys(m.apps).length };
  };
}

t.test('create, preview, up, read and destroy a stage on a file backend', { skip }, async (t) => {
  const stateDir = tempDir(t, 'setopsd-pulumi-it-');
  const deps = testDeps({
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PULUMI_CONFIG_PASSPHRASE: 'integration-test' },
    cwd: stateDir,
  });
  const programs = new Map<StageModel, () => Promise<Record<string, unknown>>>();
  for (const scale of [1, 2]) {
    const m = model(scale);
    programs.set(m, await dynamicProgram(m));
  }
  const engine = createPulumiEngine(
    { stateDir, deps, organization: model(1).organization },
    { program: (m) => programs.get(m) ?? (async () => ({})) },
  );
  const ref = { organization: 'itest', project: 'demo', stage: 'dev' };
  const [m1, m2] = [...programs.keys()];
  const progress: ProgressEvent[] = [];
  const io: ApplyIO = {
    signal: new AbortController().signal,
    log: pino({ level: 'silent' }),
    progress: (e) => progress.push(e),
    allowDataLoss: true,
    secrets: { get: async () => '' },
    configRoot: stateDir,
    deployment: { number: 1, commit: null, trigger: 'test' },
  };

  t.same(await engine.read(ref), { model: null, serial: null }, 'nothing deployed yet');

  const plan1 = await engine.preview!(m1!, { model: null, serial: null });
  t.same(plan1.changes.map((c) => `${c.op} ${c.subject}`), ['create resource/pulumi-nodejs:dynamic:Resource/app-web']);

  const up1 = await engine.apply(m1!, { ref, changes: [] }, io);
  t.equal(up1.status, 'succeeded', up1.error?.message ?? 'succeeded');
  t.same(up1.actual.model, m1);
  t.ok(progress.some((p) => p.status === 'succeeded'));
  const read1 = await engine.read(ref);
  t.same(read1.model, m1, 'read returns the applied model (checkpoint, no CLI needed)');
  t.same(await engine.read(ref), read1, 'stable serial');

  const plan2 = await engine.preview!(m2!, read1);
  t.same([...new Set(plan2.changes.map((c) => `${c.op} ${c.subject}`))], ['update resource/pulumi-nodejs:dynamic:Resource/app-web']);
  // Dynamic providers report no property diff themselves; when the engine names it, it is scale.
  for (const c of plan2.changes) if (c.path !== undefined) t.same([c.path, c.before, c.after], ['scale', 1, 2]);
  const up2 = await engine.apply(m2!, { ref, changes: [] }, io);
  t.equal(up2.status, 'succeeded', up2.error?.message ?? 'succeeded');
  t.not(up2.actual.serial, read1.serial);

  const down = await engine.destroy(ref, io);
  t.equal(down.status, 'succeeded', down.error?.message ?? 'succeeded');
  t.same(await engine.read(ref), { model: null, serial: null }, 'a destroyed stack reads as nothing deployed');
});
