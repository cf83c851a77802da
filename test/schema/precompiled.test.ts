/**
 * The precompiled validators (ajv standalone code, src/schema/validators.generated.ts): current,
 * equivalent to compiling the schemas now, and what makes a command start without ajv.
 */
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedValidatorsSource } from '../../src/schema/precompile.js';
import { compileValidators, sharedValidators } from '../../src/schema/validate.js';
import { KINDS } from '../../src/schema/kinds.js';
import { tempDir } from '../helpers/temp.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

t.test('src/schema/validators.generated.ts is current', async (t) => {
  const current = readFileSync(join(repoRoot, 'src/schema/validators.generated.ts'), 'utf8');
  t.ok(current === generatedValidatorsSource(), 'regenerate with: node --import tsx scripts/generate-validators.ts');
});

t.test('the precompiled validators answer as compiled ones do, defaults included', async (t) => {
  const pre = sharedValidators();
  const compiled = compileValidators();
  const docs: [(typeof KINDS)[number], unknown][] = [
    ['App', { apiVersion: 'setopsd/v1', kind: 'App', metadata: { name: 'web', project: 'shop' }, spec: { command: 'x' } }],
    ['App', { apiVersion: 'setopsd/v1', kind: 'App', metadata: { name: 'web', project: 'shop' }, spec: { command: 'x', port: 70000, prot: 1, env: { PORT: '1', A: 'a\u0000' } } }],
    ['Service', { apiVersion: 'setopsd/v1', kind: 'Service', metadata: { name: 'db', project: 'shop' }, spec: { type: 'postgress' } }],
    ['Stage', { apiVersion: 'setopsd/v1', kind: 'Stage', metadata: { name: 'st', project: 'shop' }, spec: { notifications: [{ email: 'nope' }] } }],
    ['Organization', { apiVersion: 'setopsd/v1', kind: 'Organization', metadata: { name: 'acme' }, spec: { provider: 'aws' } }],
  ];
  for (const [kind, doc] of docs) {
    const a = structuredClone(doc);
    const b = structuredClone(doc);
    t.same(pre.document(kind, a), compiled.document(kind, b), `${kind} problems`);
    t.same(a, b, `${kind} defaults`);
  }
  const spec = { command: 'x', scale: 0 };
  t.same(pre.appSpec(structuredClone(spec)), compiled.appSpec(structuredClone(spec)));
  t.same(pre.serviceSpec({ type: 'redis' }), compiled.serviceSpec({ type: 'redis' }));
});

/** The files of npm packages a CLI run loaded (`pkg/path`; CommonJS ones: ajv, isomorphic-git, Pulumi and the AWS SDK all are). */
function modulesLoaded(t: Test, args: string[]): string[] {
  const dir = tempDir(t);
  const hook = join(dir, 'hook.cjs');
  const out = join(dir, 'loaded.json');
  writeFileSync(
    hook,
    `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(Object.keys(require.cache).filter((k) => k.includes('/node_modules/')).map((k) => k.split('/node_modules/').pop()))));\n`,
  );
  const r = spawnSync(process.execPath, ['--require', hook, '--import', 'tsx', join(repoRoot, 'src/cli/run.ts'), ...args.map((a) => a.replace('STATE', join(dir, 'state')))], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', SETOPSD_CACHE_DIR: 'off' } });
  t.equal(r.status, 0, r.stderr);
  return [...new Set(JSON.parse(readFileSync(out, 'utf8')) as string[])].sort();
}

t.test('validate and a local plan load neither ajv, isomorphic-git, pino-pretty, Pulumi nor the AWS SDK', async (t) => {
  // The precompiled code needs one small ajv runtime helper (ajv/dist/runtime/ucs2length.js), not ajv.
  const heavy = /^(ajv\/dist\/(ajv|core)\.js|ajv-formats\/|isomorphic-git\/|pino-pretty\/|@pulumi\/|@aws-sdk\/)/;
  // Manifests without Policy documents: the bundled examples minus examples/policies.yaml.
  const dir = tempDir(t);
  mkdirSync(join(dir, 'aws'));
  copyFileSync(join(repoRoot, 'examples/setops.yaml'), join(dir, 'setops.yaml'));
  copyFileSync(join(repoRoot, 'examples/aws/setops.yaml'), join(dir, 'aws/setops.yaml'));
  const validate = modulesLoaded(t, ['validate', dir]);
  t.ok(validate.some((m) => m.startsWith('yaml/')), 'the hook sees CommonJS packages');
  t.same(validate.filter((m) => heavy.test(m)), []);
  t.same(modulesLoaded(t, ['plan', dir, '--stage', 'acme/shop/staging', '--state-dir', 'STATE']).filter((m) => heavy.test(m)), []);
  // Policy rules are data compiled at run time: with Policy documents (the full examples) and no rule cache ajv is loaded, Pulumi still is not.
  const withPolicies = modulesLoaded(t, ['validate', 'examples/']);
  t.ok(withPolicies.includes('ajv/dist/ajv.js'), 'ajv compiles the policy rules');
  t.same(withPolicies.filter((m) => /^(isomorphic-git|pino-pretty|@pulumi|@aws-sdk)\//.test(m)), []);
});
