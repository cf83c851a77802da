import type { Engine, EngineContext } from '../engine.js';
import { createPulumiEngine as create, type PulumiEngineOptions } from './engine/engine.js';

export type { PulumiEngineOptions, StageProgramFactory } from './engine/engine.js';

/**
 * The Pulumi engine for organizations with `provider: aws`: one Pulumi stack per stage,
 * driven by the Automation API (see `./engine/engine.ts`).
 */
export function createPulumiEngine(ctx: EngineContext, opts: PulumiEngineOptions = {}): Engine {
  return create(ctx, opts);
}
