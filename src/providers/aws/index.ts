import type { Engine, EngineContext } from '../engine.js';
import { createPulumiEngine as create } from './engine/engine.js';
import type { PulumiEngineOptions } from './engine/options.js';

export type { PulumiEngineOptions, StageProgramFactory } from './engine/options.js';

/**
 * The Pulumi engine for organizations with `provider: aws`: one Pulumi stack per stage,
 * driven by the Automation API (see `./engine/engine.ts`; options in `./engine/options.ts`).
 */
export function createPulumiEngine(ctx: EngineContext, opts: PulumiEngineOptions = {}): Engine {
  return create(ctx, opts);
}
