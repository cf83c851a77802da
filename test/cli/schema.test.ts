import t from 'tap';
import { readFileSync } from 'node:fs';
import { runCli } from '../helpers/deps.js';

const KINDS = ['Organization', 'Project', 'Stage', 'App', 'Service', 'Policy'];

t.test('without KIND: every schema, by kind', async (t) => {
  const r = await runCli(['schema']);
  t.equal(r.code, 0);
  const all = JSON.parse(r.stdout);
  t.strictSame(Object.keys(all), KINDS);
  for (const kind of KINDS) {
    t.equal(all[kind].$schema, 'http://json-schema.org/draft-07/schema#');
    t.equal(all[kind].title, `setopsd ${kind}`);
    t.equal(all[kind].properties.kind.const, kind);
  }
});

t.test('one kind, any case', async (t) => {
  for (const arg of ['App', 'app', 'APP']) {
    const r = await runCli(['schema', arg]);
    t.equal(r.code, 0);
    const s = JSON.parse(r.stdout);
    t.equal(s.$id, 'https://setopsd.dev/schema/v1/app.json');
    t.equal(s.properties.spec.properties.port.default, 5000, 'defaults are in the schema');
    t.equal(s.properties.spec.properties.healthCheck.properties.status.default, '200-499');
  }
});

t.test('unknown kind and bad combinations are usage errors', async (t) => {
  const r = await runCli(['schema', 'Pod']);
  t.equal(r.code, 1);
  t.match(r.stderr, /^error: unknown kind "Pod"; kinds are Organization, Project, Stage, App, Service, Policy\n/);
  t.equal((await runCli(['schema', 'App', '--combined'])).code, 1);
  t.equal((await runCli(['schema', 'App', 'Stage'])).code, 1);
});

t.test('--combined is the file kept in src/schema for editors', async (t) => {
  const r = await runCli(['schema', '--combined']);
  t.equal(r.code, 0);
  const kept = readFileSync(new URL('../../src/schema/setops.schema.json', import.meta.url), 'utf8');
  t.equal(r.stdout, kept, 'regenerate with: node --import tsx src/cli/run.ts schema --combined > src/schema/setops.schema.json');
});

t.test('--help', async (t) => {
  const r = await runCli(['schema', '--help']);
  t.equal(r.code, 0);
  t.match(r.stdout, /^Usage: setopsd schema \[KIND\]/);
});
