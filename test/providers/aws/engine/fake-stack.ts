/**
 * A Pulumi engine on the fake Pulumi CLI (test/fixtures/fake-pulumi) with a file backend in a
 * temp state directory, for the apply-semantics tests: scripted CLI rules, the recorded calls,
 * and helpers to write the checkpoint a real `up` would leave behind.
 */
import type { Test } from 'tap';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { PulumiCommand } from '@pulumi/pulumi/automation/index.js';
import { canonicalJson } from '../../../../src/model/canonical.js';
import type { OrganizationModel, StageModel } from '../../../../src/model/stage-model.js';
import type { ApplyIO, ProgressEvent } from '../../../../src/providers/engine.js';
import { createPulumiEngine, type PulumiEngineOptions } from '../../../../src/providers/aws/index.js';
import { testDeps } from '../../../helpers/deps.js';
import { tempDir } from '../../../helpers/temp.js';

const here = dirname(fileURLToPath(import.meta.url));
export const fakeRoot = join(here, '../../../fixtures/fake-pulumi');

export const org: OrganizationModel = { name: 'acme', provider: 'aws', aws: { region: 'eu-central-1' } };
export const ref = { organization: 'acme', project: 'shop', stage: 'production' };

export interface Rule {
  when: string;
  writes?: { path: string; text: string }[];
  stdout?: string;
  stderr?: string;
  exit?: number;
  events?: string;
  hang?: boolean;
  times?: number;
}

export interface Call {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
}

/** The command words of a call (`stack select`, `up`). */
export const words = (c: Call): string => {
  const i = c.argv.findIndex((a) => a.startsWith('-'));
  return (i < 0 ? c.argv : c.argv.slice(0, i)).join(' ');
};

/** A checkpoint file's text with a stack resource carrying `outputs`. */
export function checkpointText(outputs: Record<string, unknown>, time = '2026-01-01T00:00:00Z'): string {
  return JSON.stringify({
    version: 3,
    checkpoint: {
      stack: 'organization/setops-acme-shop/production',
      latest: {
        manifest: { time, magic: '', version: '' },
        resources: [{ urn: 'urn:pulumi:production::setops-acme-shop::pulumi:pulumi:Stack::setops-acme-shop-production', custom: false, type: 'pulumi:pulumi:Stack', outputs }],
      },
    },
  });
}

/** Stack outputs as the AWS program exports them, for `model` with per-app fields. */
export function stackOutputs(model: StageModel, apps: Record<string, Record<string, unknown>>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { setopsdStageModel: canonicalJson(model), stage: 'acme/shop/production', cluster: 'acme-shop-production', apps, ...extra };
}

/**
 * A Pulumi engine on the fake CLI in fresh temp directories (removed on teardown). `env` is laid
 * over the fake CLI's environment; `organization` defaults to `org`, `deployment` to #3 without a
 * commit.
 */
export async function fakeStack(
  t: Test,
  opts: {
    engine?: Omit<PulumiEngineOptions, 'pulumiCommand' | 'hostProbe'>;
    env?: Record<string, string | undefined>;
    organization?: OrganizationModel;
    deployment?: ApplyIO['deployment'];
  } = {},
) {
  const stateDir = tempDir(t, 'setopsd-h7-');
  const fakeDir = tempDir(t, 'setopsd-fake-');
  const env = { FAKE_PULUMI_DIR: fakeDir, PULUMI_CONFIG_PASSPHRASE: 'test-passphrase', PATH: process.env.PATH, HOME: process.env.HOME, ...opts.env };
  const deps = testDeps({ env, cwd: stateDir });
  const pulumiCommand = await PulumiCommand.get({ root: fakeRoot, skipVersionCheck: true });
  const engine = createPulumiEngine(
    { stateDir, deps, organization: opts.organization ?? org },
    {
      program: () => async () => ({ note: 'never run by the fake CLI' }),
      ...opts.engine,
      pulumiCommand,
      hostProbe: { hostname: 'build-host', isAlive: (pid) => pid === process.pid },
    },
  );
  const stageDir = join(stateDir, 'stages/acme/shop/production');
  const backendRoot = join(stageDir, 'pulumi/backend');
  const checkpoint = join(backendRoot, '.pulumi/stacks/setops-acme-shop/production.json');
  const script = (rules: Rule[]): void => writeFileSync(join(fakeDir, 'script.json'), JSON.stringify({ rules }));
  script([]);
  const calls = (): Call[] => {
    const file = join(fakeDir, 'calls.ndjson');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Call);
  };
  const progress: ProgressEvent[] = [];
  const io = (signal: AbortSignal = new AbortController().signal): ApplyIO => ({
    signal,
    log: pino({ level: 'silent' }),
    progress: (e) => progress.push(e),
    allowDataLoss: false,
    secrets: { get: async () => 'unused' },
    configRoot: stateDir,
    deployment: opts.deployment ?? { number: 3, commit: null, trigger: 'manual' },
  });
  const workDir = join(stageDir, 'pulumi/work');
  return { engine, calls, io, progress, stateDir, fakeDir, stageDir, backendRoot, workDir, checkpoint, script };
}
