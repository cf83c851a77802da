import type { Engine, EngineContext } from '../engine.js';
import { EngineError } from '../../errors.js';

/** Placeholder Pulumi engine; replaced by the Pulumi engine implementation. */
export function createPulumiEngine(_ctx: EngineContext): Engine {
  const fail = async (): Promise<never> => {
    throw new EngineError('the Pulumi engine is not available yet', { retryable: false });
  };
  return { name: 'pulumi', read: fail, apply: fail, destroy: fail };
}
