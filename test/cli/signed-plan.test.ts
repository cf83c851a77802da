/**
 * Saved plans are signed (HMAC-SHA256 over the whole content) with the state directory's
 * plan.key or SETOPSD_PLAN_KEY: `apply FILE` refuses any edit and applies nothing.
 */
import t from 'tap';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashOf } from '../../src/model/canonical.js';
import { realClock, realSleep } from '../../src/sleep.js';
import type { Deps } from '../../src/deps.js';
import { runCli } from '../helpers/deps.js';
import { tempDir } from '../helpers/temp.js';

const MANIFESTS = `apiVersion: setopsd/v1
kind: Organization
metadata: { name: acme }
spec: { provider: local }
---
apiVersion: setopsd/v1
kind: Project
metadata: { name: shop }
---
apiVersion: setopsd/v1
kind: Stage
metadata: { name: staging, project: shop }
spec: { approval: auto }
`;

function setup(t: Parameters<typeof tempDir>[0]) {
  const dir = tempDir(t, 'setopsd-signed-plan-');
  writeFileSync(join(dir, 'setops.yaml'), MANIFESTS);
  const run = (argv: string[], over: Partial<Deps> = {}) => runCli(argv, { clock: realClock, sleep: realSleep, cwd: dir, ...over });
  const applied = (stateDir = join(dir, '.setopsd')) => existsSync(join(stateDir, 'stages/acme/shop/staging/state.json'));
  return { dir, run, applied };
}

type Json = Record<string, any>;

t.test('a plan file applies as saved; the key is made once, mode 0600', async (t) => {
  const { dir, run, applied } = setup(t);
  t.equal((await run(['plan', '--detailed-exitcode', '.', '--out', 'p.json'])).code, 2);
  const key = join(dir, '.setopsd', 'plan.key');
  t.equal(statSync(key).mode & 0o777, 0o600);
  const first = readFileSync(key, 'utf8');
  t.equal((await run(['plan', '--detailed-exitcode', '.', '--out', 'p.json'])).code, 2);
  t.equal(readFileSync(key, 'utf8'), first, 'the second plan reuses the key');
  t.match(JSON.parse(readFileSync(join(dir, 'p.json'), 'utf8')), { signature: /^hmac-sha256:[0-9a-f]{64}$/ });
  const r = await run(['apply', 'p.json']);
  t.equal(r.code, 0, r.stderr);
  t.ok(applied());
});

const edits: Record<string, (f: Json) => void> = {
  'the desired model, with desiredHash recomputed': (f) => {
    f.stages[0].desired.stage.approval = 'manual';
    f.stages[0].desiredHash = hashOf(f.stages[0].desired);
  },
  'the changes': (f) => {
    f.stages[0].changes[0].command = 'setops rm -rf';
  },
  'changes: []': (f) => {
    f.stages[0].changes = [];
  },
  'the state serial': (f) => {
    f.stages[0].actualSerial = '7';
  },
  'the signature removed': (f) => {
    delete f.signature;
  },
};

for (const [what, edit] of Object.entries(edits)) {
  t.test(`a plan file with ${what} is refused and nothing is applied`, async (t) => {
    const { dir, run, applied } = setup(t);
    await run(['plan', '--detailed-exitcode', '.', '--out', 'p.json']);
    const file = JSON.parse(readFileSync(join(dir, 'p.json'), 'utf8')) as Json;
    edit(file);
    writeFileSync(join(dir, 'p.json'), JSON.stringify(file, null, 2));
    const r = await run(['apply', 'p.json']);
    t.equal(r.code, 1);
    t.equal(r.stdout, '', 'no summary of something that is not applied');
    t.match(r.stderr, what === 'the signature removed' ? /p\.json: the plan file is not signed/ : /p\.json: the plan file does not match its signature: it was edited after it was made/);
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
    t.notOk(applied());
  });
}

t.test('SETOPSD_PLAN_KEY: plan and apply with different state directories (CI on two machines)', async (t) => {
  const { dir, run, applied } = setup(t);
  const planner = join(tempDir(t), 'state');
  const applier = join(tempDir(t), 'state');
  const env = { SETOPSD_PLAN_KEY: 'x'.repeat(40) };
  t.equal((await run(['plan', '--detailed-exitcode', '.', '--state-dir', planner, '--out', 'p.json'], { env })).code, 2);
  t.notOk(existsSync(join(planner, 'plan.key')), 'no key file when the key comes from the environment');

  const noKey = await run(['apply', 'p.json', '--state-dir', applier]);
  t.equal(noKey.code, 1);
  t.match(noKey.stderr, /no plan key in .*: plan files are signed with the key of the state directory .* set the same SETOPSD_PLAN_KEY for plan and apply/);
  const wrong = await run(['apply', 'p.json', '--state-dir', applier], { env: { SETOPSD_PLAN_KEY: 'y'.repeat(40) } });
  t.match(wrong.stderr, /does not match its signature/);
  t.notOk(applied(applier));

  const r = await run(['apply', 'p.json', '--state-dir', applier], { env });
  t.equal(r.code, 0, r.stderr);
  t.ok(applied(applier));
  t.notOk(existsSync(join(dir, '.setopsd', 'stages')));
});

t.test('a short SETOPSD_PLAN_KEY is refused', async (t) => {
  const { run } = setup(t);
  const r = await run(['plan', '--detailed-exitcode', '.', '--out', 'p.json'], { env: { SETOPSD_PLAN_KEY: 'short' } });
  t.equal(r.code, 1);
  t.match(r.stderr, /SETOPSD_PLAN_KEY is too short \(5 characters\); use at least 32/);
});
