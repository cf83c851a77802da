import type { OrganizationModel } from '../model/stage-model.js';
import type { Engine, EngineContext } from './engine.js';

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
