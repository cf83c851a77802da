import { createRequire } from 'node:module';
import type picomatchType from 'picomatch';

let loaded: typeof picomatchType | undefined;

/**
 * picomatch, loaded on the first glob: most config directories name none, and `validate`'s
 * start-up should not pay for a module it does not use (`test/cli/startup-modules.test.ts`).
 */
export function picomatch(): typeof picomatchType {
  return (loaded ??= createRequire(import.meta.url)('picomatch') as typeof picomatchType);
}
