import type { Engine, EngineContext } from '../engine.js';
import { StateStore } from '../../state/store.js';
import { EngineError } from '../../errors.js';

/** Placeholder local engine: reads recorded state; apply lands with the local engine. */
export function createLocalEngine(ctx: EngineContext): Engine {
  const store = new StateStore(ctx.stateDir);
  return {
    name: 'local',
    read: (ref) => store.read(ref),
    apply: async () => {
      throw new EngineError('the local engine cannot apply yet', { retryable: false });
    },
    destroy: async () => {
      throw new EngineError('the local engine cannot destroy yet', { retryable: false });
    },
  };
}
