import type { OrganizationModel } from '../model/stage-model.js';
import type { Engine, EngineContext } from './engine.js';
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
