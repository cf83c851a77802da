import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/deps.js';
import { tempDir } from '../helpers/temp.js';
import { BASE, app, issuesOf } from './helpers.js';

// A schema error in a document must not hide the cross-reference checks of its well-formed parts.
const MISSING = /\/spec\/links\/\d+\/service: app "web" links service "nosuch" which does not exist in stages production, staging/;

const pairs: Record<string, { spec: string; schema: RegExp }> = {
  'a reserved env key': { spec: 'command: x\nenv: { PORT: "1" }', schema: /\/spec\/env\/PORT: env key "PORT" is reserved/ },
  'a bad port': { spec: 'command: x\nport: 70000', schema: /\/spec\/port: port must be ≤ 65535/ },
  'a bad secret name': { spec: 'command: x\nenv: { A: { secret: "bad name" } }', schema: /\/spec\/env\/A\/secret: secret must be letters/ },
  'a bad domain': { spec: 'command: x\ndomains: [ "bad domain" ]', schema: /\/spec\/domains\/0: domains\[0\] must be a lowercase DNS name/ },
  'an unknown field': { spec: 'command: x\nprot: http', schema: /\/spec\/prot: unknown field "prot"; did you mean "protocol"\?/ },
  'an env value with a NUL byte': { spec: 'command: x\nenv: { A: "a\\0b" }', schema: /\/spec\/env\/A: A must not contain a NUL byte/ },
};

for (const [name, { spec, schema }] of Object.entries(pairs)) {
  t.test(`${name} and a link to a missing service are both reported`, async (t) => {
    const issues = issuesOf(app('web', `${spec}\nlinks: [ { service: nosuch } ]`));
    t.equal(issues.length, 2, issues.join('\n'));
    t.match(issues[0], schema);
    t.match(issues[1], MISSING);
  });
}

t.test('a broken list item is dropped from the checks; the items after it keep their positions', async (t) => {
  const issues = issuesOf(app('web', 'command: x\nlinks: [ { servic: database }, { service: nosuch } ]'));
  t.equal(issues.length, 3, issues.join('\n'));
  t.match(issues[0], /^case\.yaml:8:\d+: \/spec\/links\/0: missing required field "service"/);
  t.match(issues[1], /^case\.yaml:8:\d+: \/spec\/links\/0\/servic: unknown field "servic"/);
  t.match(issues[2], /^case\.yaml:8:45: \/spec\/links\/1\/service: app "web" links service "nosuch"/);
});

t.test('an unknown field does not hide an invalid override', async (t) => {
  const issues = issuesOf(app('web', 'command: x\nprot: http\nstages: { staging: { port: 99999 } }'));
  t.equal(issues.length, 2, issues.join('\n'));
  t.match(issues[0], /\/spec\/prot: unknown field "prot"/);
  t.match(issues[1], /\/spec\/stages\/staging\/port: port must be ≤ 65535, got 99999 \(in stage staging, after its override\)/);
});

t.test('an invalid exclude does not hide an after: cycle', async (t) => {
  const stage = (name: string, spec: string) => `apiVersion: setopsd/v1\nkind: Stage\nmetadata: { name: ${name}, project: shop }\nspec: ${spec}\n`;
  const issues = issuesOf(`${stage('qa-one', '{ after: qa-two, exclude: [ "BAD NAME" ] }')}---\n${stage('qa-two', '{ after: qa-one }')}`);
  t.equal(issues.length, 2, issues.join('\n'));
  t.match(issues[0], /\/spec\/after: stages qa-one → qa-two → qa-one form an "after" cycle/);
  t.match(issues[1], /\/spec\/exclude\/0: exclude\[0\] must be lowercase letters/);
});

t.test('a spec that is itself wrong (not a mapping) is reported alone, without follow-up problems', async (t) => {
  const issues = issuesOf(app('web', 'command: x').replace('spec:\n  command: x\n', 'spec: [ 1 ]\n'));
  t.equal(issues.length, 1, issues.join('\n'));
  t.match(issues[0], /\/spec: spec must be/);
});

t.test('a file that is not UTF-8 is reported at its bad byte and the other files are still checked', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'base.yaml'), BASE);
  writeFileSync(join(dir, 'apps.yaml'), app('web', 'command: x\nport: 70000'));
  writeFileSync(join(dir, 'latin1.yaml'), Buffer.concat([Buffer.from('apiVersion: setopsd/v1\n# caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
  const r = await runCli(['validate', '.'], { cwd: dir });
  t.equal(r.code, 1);
  t.equal(r.stdout, '');
  t.match(r.stderr, /apps\.yaml:8:9: \/spec\/port: port must be ≤ 65535/);
  t.match(r.stderr, /latin1\.yaml:2:6: \/: not valid UTF-8 \(byte 0xe9 at offset 28\); save the file as UTF-8/);
  t.notMatch(r.stderr, /at .*\.ts:\d+/, 'no stack trace');
});
