/**
 * Compiled policy rules kept between runs (`src/state/compiled-rules.ts`): the real CLI process,
 * run twice with one cache directory, plans the same violations cold (ajv compiles, the
 * standalone code is stored) and warm (the stored code is evaluated); the store keeps its files
 * private, ignores entries it could not have written itself, and a torn or garbage entry is a
 * miss, never a wrong result or a failure.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileRuleStore, ruleCacheDir } from '../../src/state/compiled-rules.js';
import { repoRoot } from '../e2e/helpers.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir(t, 'setopsd-rule-cache-');
const cache = join(dir, 'cache');
const manifests = join(dir, 'manifests');
mkdirSync(manifests);
writeFileSync(
  join(manifests, 'setops.yaml'),
  [
    'apiVersion: setopsd/v1\nkind: Organization\nmetadata: { name: acme }\nspec: { provider: local }',
    'apiVersion: setopsd/v1\nkind: Project\nmetadata: { name: shop }',
    'apiVersion: setopsd/v1\nkind: Stage\nmetadata: { name: production, project: shop }\nspec: { protected: true }',
    'apiVersion: setopsd/v1\nkind: App\nmetadata: { name: web, project: shop }\nspec:\n  command: [node, server.js]\n  public: true',
  ].join('\n---\n') + '\n',
);
symlinkSync(join(repoRoot, 'examples/policies.yaml'), join(manifests, 'policies.yaml'));

/** `setopsd plan --format json` as its own process, with the cache directory given. */
function plan(): { status: number | null; violations: string[]; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/run.ts'), 'plan', manifests, '--format', 'json', '--state-dir', join(dir, 'state')], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '', SETOPSD_CACHE_DIR: cache },
  });
  const doc = r.status === 0 ? (JSON.parse(r.stdout) as { stages: { violations?: { severity: string; policy: string; rule: string; subject: string; details: string[] }[] }[] }) : { stages: [] };
  return { status: r.status, stderr: r.stderr, violations: doc.stages.flatMap((s) => (s.violations ?? []).map((v) => `${v.severity} ${v.policy}/${v.rule} ${v.subject}: ${v.details.join('; ')}`)) };
}

const entries = () => readdirSync(join(cache, 'policy-rules')).filter((n) => n.endsWith('.js'));

t.test('cold and warm runs plan the same violations; the cache holds one private entry per rule', async (t) => {
  const cold = plan();
  t.equal(cold.status, 0, cold.stderr);
  t.strictSame(cold.violations, [
    'warn baseline/public-health-check app/web: /apps/web/healthCheck/path: must NOT be valid',
    'deny baseline/production-scale app/web: /apps/web/scale: must be >= 2',
  ]);
  t.equal(entries().length, 4, 'the four example rules are stored');
  t.equal(statSync(join(cache, 'policy-rules')).mode & 0o777, 0o700);
  for (const e of entries()) t.equal(statSync(join(cache, 'policy-rules', e)).mode & 0o777, 0o600, e);

  const warm = plan();
  t.equal(warm.status, 0, warm.stderr);
  t.strictSame(warm.violations, cold.violations, 'the stored code finds what ajv found');
});

t.test('a garbage or torn entry is a miss: the rule is compiled again and the entry rewritten', async (t) => {
  const [first, second] = entries();
  writeFileSync(join(cache, 'policy-rules', first!), 'module.exports = 42; this is not javascript(', { mode: 0o600 });
  writeFileSync(join(cache, 'policy-rules', second!), '', { mode: 0o600 });
  const again = plan();
  t.equal(again.status, 0, again.stderr);
  t.equal(again.violations.length, 2);
  t.notOk(again.stderr.includes('SyntaxError'), 'nothing printed about the bad entry');
  for (const e of [first!, second!]) t.match(readFileSync(join(cache, 'policy-rules', e), 'utf8'), /^"use strict";module\.exports = validate/, `${e} rewritten`);
});

t.test('the store trusts only what this user alone can write', async (t) => {
  const d = join(tempDir(t), 'rules');
  const store = fileRuleStore(d);
  store.put('k', 'module.exports = function validate() { return true; };');
  t.equal(store.get('k'), 'module.exports = function validate() { return true; };');
  t.equal(store.get('missing'), undefined);

  chmodSync(join(d, 'k.js'), 0o666);
  t.equal(fileRuleStore(d).get('k'), undefined, 'an entry others can write is ignored');
  chmodSync(join(d, 'k.js'), 0o600);
  chmodSync(d, 0o777);
  t.equal(fileRuleStore(d).get('k'), undefined, 'a directory others can write is ignored');
  t.doesNotThrow(() => fileRuleStore(d).put('k2', 'x'), 'a write it refuses does not throw');
  chmodSync(d, 0o700);

  const blocked = join(tempDir(t), 'file');
  writeFileSync(blocked, '');
  t.doesNotThrow(() => fileRuleStore(join(blocked, 'rules')).put('k', 'x'), 'a cache that cannot be made does not throw');
  t.equal(fileRuleStore(join(blocked, 'rules')).get('k'), undefined);
});

t.test('where the cache lives', async (t) => {
  t.equal(ruleCacheDir({ SETOPSD_CACHE_DIR: '/c' }), '/c/policy-rules');
  t.equal(ruleCacheDir({ SETOPSD_CACHE_DIR: 'off', HOME: '/h' }), null);
  t.equal(ruleCacheDir({ XDG_CACHE_HOME: '/x', HOME: '/h' }), '/x/setopsd/policy-rules');
  t.equal(ruleCacheDir({ HOME: '/h' }), '/h/.cache/setopsd/policy-rules');
});
