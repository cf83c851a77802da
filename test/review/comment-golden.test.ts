/**
 * Golden pull-request comments (src/render/markdown.ts): approval mode and protection per stage,
 * the commands to re-plan and apply, `~` lines highlighted in diff fences, identical warnings
 * grouped, full stage keys, `env:set --secret KEY` for secret env, and the comment for invalid
 * manifests. Regenerate with UPDATE_GOLDEN=1 and review the diff.
 */
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { planStage } from '../../src/reconciler/stage-plan.js';
import { renderMarkdown, renderMarkdownIssues } from '../../src/render/markdown.js';
import { app, service, stage } from '../helpers/models.js';

const ROOT = join(import.meta.dirname, '..', 'fixtures', 'comments');
function golden(name: string, got: string): string {
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(join(ROOT, name), got);
  return readFileSync(join(ROOT, name), 'utf8');
}
const commands = { replan: 'setopsd plan --repo . --base main --head feature', apply: 'setopsd apply --repo . --ref main --stage acme/shop/production --stage acme/shop/staging' };
const source = { ref: 'feature', commit: '1'.repeat(40), base: { ref: 'main', commit: '2'.repeat(40) } };

t.test('a plan comment', async (t) => {
  const before = (name: string, protectedStage: boolean) =>
    stage({ name, approval: protectedStage ? 'manual' : 'auto', protected: protectedStage, apps: { web: app({ scale: 1, env: { GREETING: 'hi' } }) }, services: { cache: service('redis') } });
  const after = (name: string, protectedStage: boolean) =>
    stage({ name, approval: protectedStage ? 'manual' : 'auto', protected: protectedStage, apps: { web: app({ scale: 2, env: { GREETING: 'hi', API_KEY: { secret: 'payments-api-key' } } }) } });
  const production = planStage(after('production', true), { model: before('production', true), serial: '4' }, 'local');
  const staging = planStage(after('staging', false), { model: before('staging', false), serial: '9' }, 'local');
  // The same warning twice (e.g. from two engines' checks) is shown once with its count.
  staging.problems.push({ ...staging.problems[0]! });
  const md = renderMarkdown([production, staging], { source, showFiles: false, commands });
  t.equal(md, golden('plan.md', md));
  t.match(md, /`acme\/shop\/production` \| local \| manual, protected/);
  t.match(md, /> - data loss: service\/cache in acme\/shop\/staging: deleting it destroys its data; apply needs --allow-data-loss \(×2\)/);
  t.match(md, /^! ~ app\/web scale: 1 → 2$/m);
  t.match(md, /env:set --secret API_KEY  # value: secret payments-api-key/);
  t.notMatch(md, /API_KEY=/, 'never a literal placeholder value');
  t.notMatch(md, /(^|[^/])shop\/(staging|production)/m, 'stage keys only in full');
});

t.test('the comment for invalid manifests lists every located problem', async (t) => {
  const issues = [
    { file: 'config/setops.yaml', line: 31, col: 9, pointer: '/spec/port', message: 'must be <= 65535; use a port between 1 and 65535' },
    { file: 'config/setops.yaml', line: 34, col: 18, pointer: '/spec/healthCheck/path', message: 'must be string' },
    { file: 'config/setops.yaml', line: 34, col: 18, pointer: '/spec/healthCheck/path', message: 'must be string' },
  ];
  const md = renderMarkdownIssues(issues, { source, commands });
  t.equal(md, golden('invalid.md', md));
  t.match(md, /config\/setops\.yaml:31:9: \/spec\/port: must be <= 65535/);
  t.match(md, /\/spec\/healthCheck\/path: must be string \(×2\)/);
});

t.test('a long list of problems is cut to the limit and says so', async (t) => {
  const issues = Array.from({ length: 2000 }, (_, i) => ({ file: 'a.yaml', line: i + 1, col: 1, pointer: `/spec/x${i}`, message: 'must be string' }));
  const md = renderMarkdownIssues(issues, { source, limit: 5000 });
  t.ok(md.length <= 5000, `${md.length} characters`);
  t.match(md, /\*\*The manifests are invalid: nothing was planned\.\*\* 2000 problems:/);
  t.match(md, /> \d+ more problems were cut to keep this comment short; run `setopsd validate` for all\./);
});
