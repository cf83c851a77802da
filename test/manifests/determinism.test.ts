import t from 'tap';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { loadDesired } from '../../src/manifests/load.js';
import { canonicalJson, hashOf } from '../../src/model/canonical.js';
import { formatIssue } from '../../src/errors.js';
import type { SourceFiles } from '../../src/manifests/api.js';

/**
 * Property tests: resolution is deterministic and independent of file order, document order,
 * how documents are split into files, and the order of keys inside each document.
 */

type Doc = Record<string, unknown>;

const STAGES = ['dev', 'staging', 'production', 'qa-one'] as const;
const SERVICES = [
  ['database', 'postgresql'],
  ['cache', 'redis'],
  ['uploads', 's3'],
  ['files', 'volume'],
] as const;

/** A random valid configuration as a list of manifest documents. */
const configArb = fc
  .record({
    stages: fc.subarray([...STAGES], { minLength: 1 }),
    chain: fc.boolean(),
    protectedLast: fc.boolean(),
    services: fc.subarray([...SERVICES]),
    apps: fc.uniqueArray(
      fc.record({
        name: fc.constantFrom('web', 'worker', 'api', 'admin', 'cron-job'),
        port: fc.integer({ min: 1, max: 65535 }),
        scale: fc.integer({ min: 0, max: 16 }),
        cpu: fc.integer({ min: 1, max: 8 }).map((n) => n * 128),
        public: fc.boolean(),
        env: fc.dictionary(fc.stringMatching(/^[A-Z][A-Z0-9_]{0,6}$/).filter((k) => !['PORT', 'PORTS', 'PROTOCOL'].includes(k)), fc.string({ maxLength: 8 }), {
          maxKeys: 4,
        }),
        linkAll: fc.boolean(),
        overrideScale: fc.option(fc.integer({ min: 0, max: 16 }), { nil: undefined }),
        command: fc.oneof(fc.constant('node server.js'), fc.constant(['node', 'server.js'])),
      }),
      { selector: (a) => a.name, minLength: 1, maxLength: 4 },
    ),
  })
  .map((c) => {
    const docs: Doc[] = [
      { apiVersion: 'setopsd/v1', kind: 'Organization', metadata: { name: 'acme' }, spec: { provider: 'local' } },
      { apiVersion: 'setopsd/v1', kind: 'Project', metadata: { name: 'shop' } },
    ];
    c.stages.forEach((s, i) => {
      const spec: Doc = {};
      if (c.chain && i > 0) spec.after = c.stages[i - 1];
      if (c.protectedLast && i === c.stages.length - 1) spec.protected = true;
      spec.notifications = [{ email: `ops@${s}.example` }, { email: `ops@other.example` }];
      docs.push({ apiVersion: 'setopsd/v1', kind: 'Stage', metadata: { name: s, project: 'shop' }, spec });
    });
    for (const [name, type] of c.services) {
      docs.push({ apiVersion: 'setopsd/v1', kind: 'Service', metadata: { name, project: 'shop' }, spec: { type } });
    }
    for (const a of c.apps) {
      const links = a.linkAll
        ? c.services.map(([service, type]) => (type === 'volume' ? { service, path: '/data' } : { service }))
        : [];
      const spec: Doc = {
        command: a.command,
        port: a.port,
        scale: a.scale,
        public: a.public,
        resources: { cpu: a.cpu },
        env: a.env,
        links,
        domains: a.public ? [`${a.name}.example.com`, `www.${a.name}.example.com`] : [],
      };
      if (a.overrideScale !== undefined) spec.stages = { [c.stages[c.stages.length - 1]!]: { scale: a.overrideScale } };
      docs.push({ apiVersion: 'setopsd/v1', kind: 'App', metadata: { name: a.name, project: 'shop' }, spec });
    }
    return docs;
  });

/** Deep copy with every object's keys in an order chosen by `order`. */
function reorderKeys(v: unknown, order: () => number): unknown {
  if (Array.isArray(v)) return v.map((x) => reorderKeys(x, order));
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v).sort((a, b) => (a === b ? 0 : order()));
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = reorderKeys((v as Record<string, unknown>)[k], order);
    return out;
  }
  return v;
}

function render(docs: Doc[], split: number[]): SourceFiles {
  const files = new Map<string, string[]>();
  docs.forEach((d, i) => {
    const path = `dir${split[i % split.length]! % 3}/m${split[i % split.length]}.yaml`;
    files.set(path, [...(files.get(path) ?? []), stringify(d)]);
  });
  return { root: '/config', dir: '', files: [...files].map(([path, parts]) => ({ path, text: parts.join('---\n') })) };
}

function summary(src: SourceFiles): string {
  const r = loadDesired(src);
  if (!r.ok) throw new Error(r.issues.map(formatIssue).join('\n'));
  return JSON.stringify({
    stages: r.value.stages.map((s) => [canonicalJson(s), hashOf(s)]),
    counts: r.value.counts,
  });
}

t.test('same manifests in any file split, document order and key order give byte-identical models', async (t) => {
  fc.assert(
    fc.property(
      configArb,
      fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 6 }),
      fc.infiniteStream(fc.integer({ min: -1, max: 1 })),
      (docs, split, signs) => {
        const baseline = summary({ root: '/config', dir: '', files: [{ path: 'all.yaml', text: docs.map((d) => stringify(d)).join('---\n') }] });
        const it = signs[Symbol.iterator]();
        const order = () => it.next().value as number;
        const shuffled = docs.map((d) => reorderKeys(d, order) as Doc).sort(() => order());
        const src = render(shuffled, split);
        // The files array itself in reverse order too: loadDesired must not rely on its input order.
        src.files.reverse();
        t.equal(summary(src), baseline);
      },
    ),
    { numRuns: 60 },
  );
});

t.test('loading twice gives equal results and does not mutate its input', async (t) => {
  fc.assert(
    fc.property(configArb, (docs) => {
      const src: SourceFiles = { root: '/c', dir: '', files: [{ path: 'a.yaml', text: docs.map((d) => stringify(d)).join('---\n') }] };
      const before = JSON.stringify(src);
      const a = summary(src);
      const b = summary(src);
      t.equal(a, b);
      t.equal(JSON.stringify(src), before);
    }),
    { numRuns: 30 },
  );
});

t.test('models of different stages share no objects (mutating one leaves the others intact)', async (t) => {
  const docs = fc.sample(configArb, { numRuns: 1, seed: 42 })[0]!;
  const r = loadDesired({ root: '/c', dir: '', files: [{ path: 'a.yaml', text: docs.map((d) => stringify(d)).join('---\n') }] });
  t.ok(r.ok);
  if (!r.ok || r.value.stages.length < 2) return;
  const [first, second] = r.value.stages;
  const before = canonicalJson(second);
  for (const app of Object.values(first!.apps)) {
    app.env.MUTATED = 'x';
    app.resources.cpu = 99;
  }
  t.equal(canonicalJson(second), before);
});

t.test('issues come out in the same order whatever the document order', async (t) => {
  const bad = [
    'apiVersion: setopsd/v1\nkind: App\nmetadata: {name: web, project: shop}\nspec: {port: 0, prot: x}\n',
    'apiVersion: setopsd/v1\nkind: Service\nmetadata: {name: db, project: shop}\nspec: {type: nosql}\n',
    'apiVersion: setopsd/v1\nkind: Stage\nmetadata: {name: staging, project: shop}\nspec: {after: nowhere}\n',
    'apiVersion: setopsd/v1\nkind: Organization\nmetadata: {name: acme}\n',
    'apiVersion: setopsd/v1\nkind: Project\nmetadata: {name: shop}\n',
  ];
  const named = bad.map((text, i) => ({ path: `f${i}.yaml`, text }));
  const issues = (files: { path: string; text: string }[]) => {
    const r = loadDesired({ root: '/c', dir: '', files });
    return r.ok ? [] : r.issues.map(formatIssue);
  };
  const expected = issues(named);
  t.ok(expected.length >= 4, 'the fixture is invalid in several ways');
  fc.assert(
    fc.property(fc.shuffledSubarray(named, { minLength: named.length, maxLength: named.length }), (order) => {
      t.strictSame(issues(order), expected);
    }),
    { numRuns: 30 },
  );
});
