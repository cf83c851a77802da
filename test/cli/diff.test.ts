import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/deps.js';
import { gitRepo } from '../helpers/git.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'plans');

function files(name: string, side: 'desired' | 'actual'): Record<string, string> {
  const dir = join(FIXTURES, name, side);
  return Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
}

t.test('diff shows desired-to-desired changes between two commits without any state', async (t) => {
  const repo = gitRepo(t);
  const base = repo.commit('base', files('protected-stage-refusal', 'actual'));
  const head = repo.commit('drop the cache', files('protected-stage-refusal', 'desired'));
  // HOME points nowhere useful: diff must not read or create a state directory.
  const env = { HOME: '/nonexistent', XDG_DATA_HOME: '/nonexistent' };
  const r = await runCli(['diff', '--detailed-exitcode', '--repo', repo.dir, '--base', base, '--head', 'main'], { env });
  t.equal(r.code, 2, r.stderr);
  t.equal((await runCli(['diff', '--repo', repo.dir, '--base', base, '--head', 'main'], { env })).code, 0, 'without --detailed-exitcode differences exit 0');
  t.equal(
    r.stdout,
    [
      'Warnings:',
      '  refused: service/cache in acme/shop/production: deleting it destroys its data and the stage is protected; set protected: false on the stage and apply that first',
      '  data loss: service/cache in acme/shop/staging: deleting it destroys its data; apply needs --allow-data-loss',
      '',
      `acme/shop/production (${base.slice(0, 12)} → main ${head.slice(0, 12)})`,
      '  - link/web/cache',
      '    from apps.yaml',
      '  - service/cache (redis 7, plan cache.t4g.micro, deletion protection) [data loss]',
      '    from services.yaml',
      '  acme/shop/production: 0 to create, 0 to update, 0 to replace, 2 to delete, 1 with data loss',
      '',
      `acme/shop/staging (${base.slice(0, 12)} → main ${head.slice(0, 12)})`,
      '  - link/web/cache',
      '    from apps.yaml',
      '  - service/cache (redis 7, plan cache.t4g.micro) [data loss]',
      '    from services.yaml',
      '  acme/shop/staging: 0 to create, 0 to update, 0 to replace, 2 to delete, 1 with data loss',
      '',
      'Plan: 0 to create, 0 to update, 0 to replace, 4 to delete, 2 with data loss across 2 stages (0 in sync).',
      '',
    ].join('\n'),
  );
  const json = await runCli(['diff', '--detailed-exitcode', '--repo', repo.dir, '--base', base, '--head', head, '--format', 'json'], { env });
  const doc = JSON.parse(json.stdout) as { source: unknown; stages: { actualSerial: null }[] };
  t.same(doc.source, { ref: head, commit: head, base: { ref: base, commit: base } });
  t.ok(doc.stages.every((s) => s.actualSerial === null));
  const md = await runCli(['diff', '--detailed-exitcode', '--repo', repo.dir, '--base', base, '--head', head, '--format', 'markdown'], { env });
  t.match(md.stdout, /^### setopsd diff\n/);
});

t.test('diff exit 0 without differences; usage and invalid manifests exit 1', async (t) => {
  const repo = gitRepo(t);
  const base = repo.commit('base', files('no-change', 'desired'));
  const docs = repo.commit('docs only', { 'README.md': 'hello\n' });
  const same = await runCli(['diff', '--detailed-exitcode', '--repo', repo.dir, '--base', base, '--head', docs]);
  t.equal(same.code, 0);
  t.equal(same.stdout, 'No stages to plan.\n');
  const usage = await runCli(['diff', '--detailed-exitcode', '--repo', repo.dir, '--base', 'HEAD']);
  t.equal(usage.code, 1);
  t.match(usage.stderr, /diff needs --repo PATH --base REF --head REF/);
  const broken = repo.commit('broken', { 'apps.yaml': 'apiVersion: setopsd/v1\nkind: App\nmetadata: {name: x}\n' });
  const r = await runCli(['diff', '--detailed-exitcode', '--repo', repo.dir, '--base', docs, '--head', broken]);
  t.equal(r.code, 1);
  t.match(r.stderr, /^apps\.yaml:\d+:\d+: /m);
});
