/**
 * The Automation API wrapper: one `LocalWorkspace` per stage in its persistent work directory,
 * with the stage's backend, passphrase and `aws:region`, and the stack selected (or created).
 * The Pulumi SDK is loaded lazily: commands that never drive Pulumi never load it.
 */
import { mkdir } from 'node:fs/promises';
import type { PulumiCommand, PulumiFn, Stack } from '@pulumi/pulumi/automation/index.js';
import type { StackLocation } from './backend.js';

/** What a stage's workspace is made of. */
export interface WorkspaceSpec {
  loc: StackLocation;
  pulumiCommand: PulumiCommand;
  /** The inline program (a no-op one for destroy, refresh and reads). */
  program: PulumiFn;
  /** The process environment to pass on (AWS credentials, PATH, HOME, PULUMI_* settings). */
  env: Record<string, string | undefined>;
  /** Passphrase variables from `passphraseEnv` (empty for Pulumi Cloud). */
  secretsEnv: Record<string, string>;
  /** `aws:region` of the Organization; set on the stack when given. */
  region?: string;
  /** Create the stack when it does not exist (preview, up); otherwise a missing stack is a `StackNotFoundError`. */
  create: boolean;
}

/** A selected stack and the environment its CLI runs with. */
export interface OpenStack {
  stack: Stack;
  envVars: Record<string, string>;
}

/** The environment given to every CLI run of the stage. */
export function cliEnv(spec: Pick<WorkspaceSpec, 'loc' | 'env' | 'secretsEnv'>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(spec.env).sort()) {
    const v = spec.env[key];
    if (v !== undefined) out[key] = v;
  }
  // Only the passphrase source setopsd chose reaches the CLI.
  delete out.PULUMI_CONFIG_PASSPHRASE;
  delete out.PULUMI_CONFIG_PASSPHRASE_FILE;
  Object.assign(out, spec.secretsEnv);
  out.PULUMI_BACKEND_URL = spec.loc.backend.url;
  out.PULUMI_SKIP_UPDATE_CHECK = 'true';
  return out;
}

/** Opens the stage's workspace and selects (or creates) its stack. */
export async function openStack(spec: WorkspaceSpec): Promise<OpenStack> {
  const { LocalWorkspace, Stack } = await import('@pulumi/pulumi/automation/index.js');
  const { loc } = spec;
  await mkdir(loc.workDir, { recursive: true });
  if (loc.backend.kind === 'file' && loc.backend.root) await mkdir(loc.backend.root, { recursive: true });
  const envVars = cliEnv(spec);
  const ws = await LocalWorkspace.create({
    workDir: loc.workDir,
    pulumiCommand: spec.pulumiCommand,
    program: spec.program,
    envVars,
    ...(loc.backend.kind === 'cloud' ? {} : { secretsProvider: 'passphrase' }),
    projectSettings: {
      name: loc.project,
      runtime: 'nodejs',
      description: `setopsd stages of ${loc.ref.organization}/${loc.ref.project}`,
      backend: { url: loc.backend.url },
    },
  });
  const stack = spec.create ? await Stack.createOrSelect(loc.stack, ws) : await Stack.select(loc.stack, ws);
  // Stack settings (Pulumi.<stage>.yaml) hold the passphrase salt: never rewrite the file,
  // only set the one config value setopsd owns.
  if (spec.region) await stack.setConfig('aws:region', { value: spec.region });
  return { stack, envVars };
}

/** Runs a raw CLI command for the stack (e.g. `stack export` without `--show-secrets`). */
export async function runRaw(
  open: OpenStack,
  args: string[],
  signal?: AbortSignal,
): Promise<{ stdout: string; stderr: string }> {
  const ws = open.stack.workspace as unknown as { workDir: string; pulumiCommand: RawCommand };
  return ws.pulumiCommand.run([...args], ws.workDir, open.envVars, undefined, undefined, signal);
}

/** `PulumiCommand.run`, which the SDK marks internal but every Automation API call goes through. */
interface RawCommand {
  run(
    args: string[],
    cwd: string,
    env: Record<string, string>,
    onOutput?: (s: string) => void,
    onError?: (s: string) => void,
    signal?: AbortSignal,
  ): Promise<{ stdout: string; stderr: string }>;
}
