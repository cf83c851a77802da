/**
 * Writes src/schema/validators.generated.ts: ajv standalone code of every setopsd schema, so a
 * command does not compile the schemas on every run. `npm run build` runs it before tsc;
 * test/schema/precompiled.test.ts fails when the file is not current.
 *
 *   node --import tsx scripts/generate-validators.ts [--check]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generatedValidatorsSource } from '../src/schema/precompile.js';

const target = fileURLToPath(new URL('../src/schema/validators.generated.ts', import.meta.url));
const source = generatedValidatorsSource();
if (process.argv.includes('--check')) {
  const current = readFileSync(target, 'utf8');
  if (current !== source) {
    process.stderr.write('src/schema/validators.generated.ts is not current: run node --import tsx scripts/generate-validators.ts\n');
    process.exit(1);
  }
} else {
  writeFileSync(target, source);
}
