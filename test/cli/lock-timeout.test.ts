/**
 * `apply --lock-timeout S` waits for another apply of the stage. Without a saved plan it then
 * re-plans under the lock and applies what is left (or is in sync); a reviewed plan (a plan
 * file) is refused as stale, saying so. The other apply runs while the first one waits: from
 * the first one's `sleep` between lock polls, so the order is exact and nothing is timed.
 */
import t, { type Test } from 'tap';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { realClock, realSleep } from '../../src/sleep.js';
import { acquireStageLock } from '../../src/state/lock.js';
import type { Deps } from '../../src/deps.js';
import { runCli, testDeps } from '../helpers/deps.js';
import { tempDir } from '../helpers/temp.js';

const REF = { organization: 'acme', project: 'shop', stage: 'staging' };

const manifests = (stageSpec: string) => `apiVersion: setopsd/v1
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
spec: ${stageSpec}
`;

async function setup(t: Test) {
  const root = tempDir(t, 'setopsd-lock-timeout-');
  const stateDir = join(root, 'state');
  const dirs: Record<string, string> = {};
  for (const [name, spec] of Object.entries({ base: '{}', mine: '{ protected: true }', theirs: '{ approval: manual }' })) {
    dirs[name] = join(root, name);
    mkdirSync(dirs[name]!);
    writeFileSync(join(dirs[name]!, 'setops.yaml'), manifests(spec));
  }
  const run = (argv: string[], over: Partial<Deps> = {}) => runCli([...argv, '--state-dir', stateDir], { clock: realClock, sleep: realSleep, cwd: root, ...over });
  t.equal((await run(['apply', dirs.base!, '--yes'])).code, 0);
  /** Holds the stage lock; the first time the waiting apply sleeps, releases it and lets "their" apply run. */
  const contend = async (other: string = dirs.theirs!) => {
    const lock = await acquireStageLock(stateDir, REF, testDeps(), { command: 'apply', timeoutMs: 0 });
    let theirs: Awaited<ReturnType<typeof run>> | undefined;
    const sleep: Deps['sleep'] = async (ms, signal) => {
      if (theirs === undefined) {
        await lock.release();
        theirs = await run(['apply', other, '--yes']);
      }
      await realSleep(Math.min(ms, 5), signal);
    };
    return { sleep, theirs: () => theirs };
  };
  const recorded = () => JSON.parse(readFileSync(join(stateDir, 'stages/acme/shop/staging/state.json'), 'utf8')) as { model: { stage: Record<string, unknown> } };
  return { dirs, run, contend, recorded };
}

t.test('without a saved plan: after waiting, it re-plans under the lock and applies what is left', async (t) => {
  const { dirs, run, contend, recorded } = await setup(t);
  const { sleep, theirs } = await contend();
  const r = await run(['apply', dirs.mine!, '--yes', '--lock-timeout', '60'], { sleep });
  t.equal(theirs()?.code, 0, 'the other apply ran while this one waited');
  t.equal(r.code, 0, r.stdout + r.stderr);
  t.notMatch(r.stdout + r.stderr, /stale/);
  t.match(recorded().model.stage, { protected: true, approval: 'auto' }, 'this apply\'s desired state is what the stage has now');
});

t.test('without a saved plan: when the other apply made the same change, it is in sync', async (t) => {
  const { dirs, run, contend, recorded } = await setup(t);
  const { sleep, theirs } = await contend(dirs.mine!);
  const r = await run(['apply', dirs.mine!, '--yes', '--lock-timeout', '60'], { sleep });
  t.equal(theirs()?.code, 0);
  t.equal(r.code, 0, r.stdout + r.stderr);
  t.match(r.stdout, /acme\/shop\/staging: no changes\napply: 0 succeeded, 1 unchanged, 0 failed, 0 skipped\n$/);
  t.match(recorded().model.stage, { protected: true });
});

t.test('a plan file is a reviewed plan: after waiting, it is refused as stale and nothing of it applies', async (t) => {
  const { dirs, run, contend, recorded } = await setup(t);
  const planFile = join(dirs.mine!, '..', 'mine.plan');
  t.equal((await run(['plan', '--detailed-exitcode', dirs.mine!, '--out', planFile])).code, 2);
  const { sleep, theirs } = await contend();
  const r = await run(['apply', planFile, '--lock-timeout', '60'], { sleep });
  t.equal(theirs()?.code, 0);
  t.equal(r.code, 1);
  t.match(r.stdout, /acme\/shop\/staging: not applied: stage acme\/shop\/staging: the plan is stale: it was made against state serial \d+, but the stage is now at serial \d+; run setopsd plan again and review the new plan/);
  t.match(recorded().model.stage, { protected: false, approval: 'manual' }, 'the other apply\'s state is kept');
});
