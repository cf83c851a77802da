import type { OrganizationModel } from '../model/stage-model.js';
import { resolve } from 'node:path';
import { SetopsError } from '../errors.js';
import type { Engine, EngineContext, SecretResolver } from './engine.js';
import { createSecretResolver } from './local/secrets.js';
import type { Provider } from '../model/stage-model.js';

/**
 * The engine that runs an organization's stages: `local` → the embedded local engine,
 * `aws` → Pulumi. Loaded lazily so commands for local stages never load the Pulumi SDK.
 */
export async function engineFor(organization: OrganizationModel, ctx: Omit<EngineContext, 'organization'>): Promise<Engine> {
  if (organization.provider === 'aws') {
    const { createPulumiEngine } = await import('./aws/index.js');
    return createPulumiEngine({ ...ctx, organization });
  }
  const { createLocalEngine } = await import('./local/index.js');
  return createLocalEngine({ ...ctx, organization });
}

/** The engine that runs a provider's stages, by name (`aws` → `pulumi`). */
export function engineNameOf(provider: Provider): Engine['name'] {
  return provider === 'aws' ? 'pulumi' : 'local';
}

/** The provider an engine runs (`pulumi` → `aws`): the inverse of `engineNameOf`. */
export function providerOf(engine: string): Provider {
  return engine === 'pulumi' ? 'aws' : 'local';
}

/** Where an apply's `{secret}` values come from besides the engine itself. */
export interface SecretSources {
  /** `--secrets FILE` (absolute); overrides the Organization's `secrets.file`. */
  secretsFile?: string;
  /** Absolute config root: the Organization's `secrets.file` is relative to it. */
  configRoot: string;
  env: Record<string, string | undefined>;
}

/**
 * The secret resolver of an organization's stages: the local engine reads `--secrets FILE` (else
 * the Organization's `secrets.file`) and the environment with the Organization's prefix; AWS
 * stages read SSM Parameter Store in the engine itself, so asking here is an error.
 */
export function secretsFor(organization: OrganizationModel, sources: SecretSources): SecretResolver {
  if (organization.provider !== 'local') {
    return {
      get: async (name) => {
        throw new SetopsError(`secret "${name}": stages of organization ${organization.name} read secrets in the engine`, { code: 'E_SECRET_MISSING' });
      },
    };
  }
  const settings = organization.secrets;
  const file = sources.secretsFile ?? (settings?.file ? resolve(sources.configRoot, settings.file) : undefined);
  return createSecretResolver({ ...(file ? { file } : {}), ...(settings?.env ? { envPrefix: settings.env.prefix } : {}), env: sources.env });
}

/** Whether the engine of an organization reads secrets itself at deploy time (no pre-check before the apply). */
export function engineReadsSecrets(organization: OrganizationModel): boolean {
  return organization.provider !== 'local';
}
