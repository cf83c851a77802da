import type { Deps } from '../../deps.js';

/**
 * The effects the local engine and its stage supervisor take from outside: the wall clock, sleep
 * (every poll and backoff waits through it) and the environment (the supervisor process inherits
 * the engine's; apps and servers get parts of the supervisor's). The engine receives them as
 * `EngineContext.deps`; the supervisor process builds real ones in `supervisor-main.ts`.
 */
export type LocalDeps = Pick<Deps, 'clock' | 'sleep' | 'env'>;

/** The part of LocalDeps that polling loops need (deadlines and waits). */
export type Timing = Pick<Deps, 'clock' | 'sleep'>;
