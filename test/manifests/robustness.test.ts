import t from 'tap';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { parseAllDocuments, stringify } from 'yaml';
import { loadDesired } from '../../src/manifests/load.js';

/**
 * Property: whatever a manifest holds, loading returns a Result (never throws), and every
 * issue is located (line and column ≥ 1), names a pointer, and reads as a sentence (no
 * "undefined", "[object Object]", or raw ajv text).
 */
const example = readFileSync(new URL('../../examples/setops.yaml', import.meta.url), 'utf8');
const docs = (parseAllDocuments(example) as unknown as { toJS(): unknown }[]).map((d) => d.toJS() as Record<string, unknown>);

/** Every path (list of keys/indexes) to a value inside `v`. */
function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...prefix, i])));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, k]));
  return out;
}

function setAt(root: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const base = (root !== null && typeof root === 'object' ? root : {}) as Record<string | number, unknown>;
  const copy = (Array.isArray(base) ? [...base] : { ...base }) as Record<string | number, unknown>;
  copy[path[0]!] = setAt(base[path[0]!], path.slice(1), value);
  return copy;
}

const mutation = fc.record({
  doc: fc.nat({ max: docs.length - 1 }),
  pick: fc.nat(),
  value: fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(null, '', 'web', 'database', 'production', -1, 0, 1.5, 70000, true, { secret: 'x' }, [], {}, ['a'], 'http'),
  ),
  extraKey: fc.option(
    fc.constantFrom('prot', 'stages', 'links', 'domains', 'env', 'after', 'exclude', 'organization', 'stage', 'project', 'kind', 'spec', 'type', 'service', 'name', 'primary', 'path', 'production', 'staging', 'notifications', 'version', 'options', 'secrets', 'aws'),
    { nil: undefined },
  ),
});

t.test('mutated manifests never crash the loader and every issue is located and readable', async (t) => {
  let invalid = 0;
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (mutations) => {
      const changed = docs.map((d) => structuredClone(d)) as unknown[];
      for (const m of mutations) {
        const all = paths(changed[m.doc]);
        let path = all[m.pick % all.length]!;
        if (m.extraKey !== undefined) path = [...path, m.extraKey];
        changed[m.doc] = setAt(changed[m.doc], path, m.value);
      }
      const text = changed.map((d) => stringify(d)).join('---\n');
      const r = loadDesired({ root: '/c', dir: '', files: [{ path: 'setops.yaml', text }] });
      if (r.ok) return;
      invalid++;
      for (const issue of r.issues) {
        t.equal(issue.file, 'setops.yaml');
        t.ok(issue.line >= 1 && issue.col >= 1, `located: ${issue.message}`);
        t.ok(issue.pointer === '' || issue.pointer.startsWith('/'), 'a JSON pointer');
        t.notMatch(issue.message, /undefined|\[object Object\]|must NOT have|must match "then"|must match pattern "/, issue.message);
      }
    }),
    { numRuns: Number(process.env.FC_RUNS ?? 300) },
  );
  t.ok(invalid > 50, `most mutations are invalid (${invalid})`);
});

t.test('arbitrary text never crashes the loader', async (t) => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), fc.constantFrom('', 'apiVersion: setopsd/v1\nkind: App\n', example.slice(0, 300)), (noise, prefix) => {
      const r = loadDesired({ root: '/c', dir: '', files: [{ path: 'x.yaml', text: prefix + noise }] });
      if (!r.ok) for (const i of r.issues) t.ok(i.line >= 1, i.message);
    }),
    { numRuns: 300 },
  );
});

t.test('regression: an invalid Organization or Project spec yields issues, not a crash', async (t) => {
  const text = 'apiVersion: setopsd/v1\nkind: Organization\nmetadata: {name: acme}\nprot: {}\n---\napiVersion: setopsd/v1\nkind: Project\nmetadata: {name: shop}\nspec: null\n---\napiVersion: setopsd/v1\nkind: Stage\nmetadata: {name: staging, project: shop}\n';
  const r = loadDesired({ root: '/c', dir: '', files: [{ path: 'a.yaml', text }] });
  t.notOk(r.ok);
  if (!r.ok) t.strictSame(r.issues.map((i) => `${i.line}:${i.col} ${i.pointer}`), ['4:1 /prot', '9:7 /spec']);
});
