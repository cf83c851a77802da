/**
 * Benchmark (not a test): validate one App whose env mapping has N keys — as a block mapping
 * (one key a line) and as a one-line flow mapping — against a bare `yaml` parse of the same
 * text with `uniqueKeys: false`, in the same run. setopsd finds duplicate keys itself in one
 * pass, so the ratio stays flat as N grows (with `yaml`'s own check it grows with N).
 *
 *   node --import tsx bench/wide-mapping.ts [--runs N] [--keys 10000,40000,100000]
 *
 * Prints the median of N interleaved runs (after one warm-up) per size and layout. Target: within
 * 1.5x of the bare parse at 100,000 keys.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { loadDesired } from '../src/manifests/load.js';
import { compileValidators } from '../src/schema/validate.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, keys: { type: 'string', default: '10000,40000,100000' } } });
const runs = Number(values.runs);
const sizes = values.keys.split(',').map(Number);
const validators = compileValidators();

const HEAD = `apiVersion: setopsd/v1
kind: Organization
metadata: { name: acme }
---
apiVersion: setopsd/v1
kind: Project
metadata: { name: shop }
---
apiVersion: setopsd/v1
kind: Stage
metadata: { name: staging, project: shop }
`;

function appText(keys: number, layout: 'block' | 'flow'): string {
  const names = Array.from({ length: keys }, (_, i) => `KEY_${i}`);
  const env = layout === 'block' ? '\n' + names.map((k, i) => `    ${k}: v${i}`).join('\n') : ` { ${names.map((k, i) => `${k}: v${i}`).join(', ')} }`;
  return `apiVersion: setopsd/v1\nkind: App\nmetadata: { name: web, project: shop }\nspec:\n  command: node server.js\n  env:${env}\n`;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const time = (fn: () => void) => {
  const start = performance.now();
  fn();
  return performance.now() - start;
};

console.log(`node ${process.version}, ${runs} interleaved runs after a warm-up (medians)`);
console.log('keys     layout  MiB   bare parse (uniqueKeys: false)   setopsd validate   ratio');
for (const keys of sizes) {
  for (const layout of ['block', 'flow'] as const) {
    const text = appText(keys, layout);
    const source = { root: '/bench', dir: '', files: [{ path: 'head.yaml', text: HEAD }, { path: 'app.yaml', text }] };
    const parse = () => void parseAllDocuments(text, { uniqueKeys: false });
    const validate = () => {
      const r = loadDesired(source, { validators });
      if (!r.ok) throw new Error(`invalid: ${JSON.stringify(r.issues.slice(0, 2))}`);
    };
    parse();
    validate();
    const p: number[] = [];
    const v: number[] = [];
    const ratio: number[] = [];
    for (let i = 0; i < runs; i++) {
      // Alternate the order so neither side always pays for the garbage the other left behind.
      let pa: number, b: number;
      if (i % 2 === 0) {
        pa = time(parse);
        b = time(validate);
      } else {
        b = time(validate);
        pa = time(parse);
      }
      p.push(pa);
      v.push(b);
      ratio.push(b / pa);
    }
    const mib = (Buffer.byteLength(text) / 1024 / 1024).toFixed(1);
    console.log(`${String(keys).padEnd(8)} ${layout.padEnd(7)} ${mib.padStart(4)}  ${median(p).toFixed(0).padStart(10)} ms ${''.padEnd(19)} ${median(v).toFixed(0).padStart(8)} ms   ${median(ratio).toFixed(2)}x`);
  }
}
