/**
 * End to end through the CLI with the real local engine, the real example (PostgreSQL, redis,
 * s3 directory), real processes and real HTTP through the stage router:
 * apply → request through the router → plan is clean → stale plan refused → SIGKILL during
 * apply, re-apply converges → history, status, logs → destroy leaves no process behind.
 * Each step builds on the previous one (one stage, one embedded PostgreSQL), so this is one file.
 */
import t from 'tap';
import { readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cli, killMentioning, processesMentioning, repoRoot, startCli } from './helpers.js';
import { tempDir } from '../helpers/temp.js';
import { waitFor } from '../helpers/wait.js';
import { get } from '../helpers/http.js';

const dir = tempDir(t, 'setopsd-e2e-');
const stateDir = join(dir, '.setopsd');
const example = await readFile(join(repoRoot, 'examples/setops.yaml'), 'utf8');
const marker = `e2e-${process.pid}`;

/** Writes the example with the web app's GREETING set to `greeting` (and its base scale). */
async function writeManifests(greeting: string, scale = 1): Promise<void> {
  let text = example.replace('GREETING: Hello from the acme shop', `GREETING: ${greeting}`);
  if (text === example) throw new Error('examples/setops.yaml changed: the e2e test cannot find the staging GREETING line');
  if (scale !== 1) {
    const withScale = text.replace('  command: node server.js\n', `  command: node server.js\n  scale: ${scale}\n`);
    if (withScale === text) throw new Error('examples/setops.yaml changed: the e2e test cannot find the web command line');
    text = withScale;
  }
  await writeFile(join(dir, 'setops.yaml'), text);
}

/** Pids of node processes whose environment holds GREETING=value (a shell-form command's `/bin/sh -c` wrapper is not counted). */
async function withGreeting(value: string): Promise<number[]> {
  const out: number[] = [];
  for (const pid of await processesMentioning(dir)) {
    const env = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
    const argv0 = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0')[0] ?? '';
    if (env.split('\0').includes(`GREETING=${value}`) && !argv0.endsWith('sh')) out.push(pid);
  }
  return out;
}

async function statusJson() {
  const r = await cli(['status', dir, '--stage', 'staging', '--format', 'json']);
  if (r.code !== 0) throw new Error(`status failed: ${r.stderr}`);
  return JSON.parse(r.stdout).stages[0];
}

async function journalEntries(): Promise<{ number: number; status: string; pid: number; error?: { message: string } }[]> {
  const jdir = join(stateDir, 'stages/acme/shop/staging/journal');
  const names = (await readdir(jdir).catch(() => [] as string[])).filter((n) => /^\d+\.json$/.test(n)).sort();
  const out = [];
  for (const n of names) {
    try {
      out.push(JSON.parse(await readFile(join(jdir, n), 'utf8')));
    } catch {
      // being replaced right now (atomic rename): read again next time
    }
  }
  return out;
}

t.teardown(async () => {
  await cli(['destroy', 'staging', dir, '--yes', '--allow-data-loss']).catch(() => undefined);
  await killMentioning(dir);
});

await symlink(join(repoRoot, 'examples/app'), join(dir, 'app'));
await writeManifests(`${marker}-one`);

t.test('without a terminal, apply needs --yes', async (t) => {
  const r = await cli(['apply', dir, '--stage', 'staging']);
  t.equal(r.code, 1);
  t.match(r.stderr, /apply needs --yes \(or a plan file/);
  t.match(r.stdout, /acme\/shop\/staging/, 'the changeset was shown first');
  t.same(await journalEntries(), [], 'nothing was applied');
});

let routerPort = 0;

t.test('apply runs the staging stage; the web app answers through the router with data from PostgreSQL', async (t) => {
  const r = await cli(['apply', dir, '--stage', 'staging', '--yes']);
  t.equal(r.code, 0, r.stderr + r.stdout);
  t.match(r.stdout, /acme\/shop\/staging: deployment #1 started/);
  t.match(r.stdout, /acme\/shop\/staging:   app\/web created\n/, "progress names the outcome of each change");
  t.match(r.stdout, /acme\/shop\/staging: deployment #1 succeeded in /);
  t.match(r.stdout, /apply: 1 succeeded, 0 unchanged, 0 failed, 0 skipped/);

  const status = await statusJson();
  t.match(status, { lastDeployment: { number: 1, status: 'succeeded' }, runtime: { router: { url: /^http:\/\/127\.0\.0\.1:\d+/ } } });
  routerPort = status.runtime.router.port;
  t.equal(status.runtime.apps.web.processes.length, 1);
  const res = await waitFor('a 200 from web through the router', async () => {
    const r = await get(routerPort, '/', { host: 'web.staging.shop.localhost' });
    return r.status === 200 ? r : undefined;
  }, { timeoutMs: 30_000 });
  const body = JSON.parse(res.body);
  t.match(JSON.stringify(body), /shop|database|visits|now/i, 'the body carries data read from PostgreSQL');
  t.match(res.body, new RegExp(`${marker}-one`), 'and the env of this apply');
  t.equal((await get(routerPort, '/', { host: 'nope.staging.shop.localhost' })).status, 404, 'unknown host: 404');
});

t.test('plan afterwards shows no changes (exit 0)', async (t) => {
  const r = await cli(['plan', '--detailed-exitcode', dir, '--stage', 'staging']);
  t.equal(r.code, 0, r.stdout + r.stderr);
});

t.test('the supervisor killed while in sync: plan shows the repair, apply brings the router back, no duplicates', async (t) => {
  const before = await withGreeting(`${marker}-one`);
  const sup = JSON.parse(await readFile(join(stateDir, 'stages/acme/shop/staging/local/supervisor.json'), 'utf8')) as { pid: number };
  process.kill(sup.pid, 'SIGKILL');
  await waitFor('the supervisor gone', async () => !existsSync(`/proc/${sup.pid}`) || (await readFile(`/proc/${sup.pid}/stat`, 'utf8').catch(() => '')).includes(') Z'), { timeoutMs: 10_000 });
  const plan = await cli(['plan', '--detailed-exitcode', dir, '--stage', 'staging']);
  t.equal(plan.code, 2, 'changes: exit 2 ' + plan.stderr);
  t.match(plan.stdout, /0 to create, 5 to update/, 'plan reports the repair');
  t.match(plan.stdout, /stage supervisor: "?not running"? → "?running"?/);
  t.match(plan.stdout, /app\/web processes: "?unsupervised"? → "?running"?/);
  const status = await cli(['status', dir, '--stage', 'staging']);
  t.match(status.stdout, /the stage supervisor is not running: the router is down/);
  const apply = await cli(['apply', dir, '--stage', 'staging', '--yes']);
  t.equal(apply.code, 0, apply.stdout + apply.stderr);
  t.notMatch(apply.stdout, /No changes/);
  t.equal((await get(routerPort, '/', { host: 'web.staging.shop.localhost' })).status, 200, 'the router answers again');
  t.same(await withGreeting(`${marker}-one`), before, 'the app process was adopted: no duplicate, no restart');
  const again = await cli(['plan', '--detailed-exitcode', dir, '--stage', 'staging']);
  t.notMatch(again.stdout, /supervisor|to update/, 'in sync again: ' + again.stdout);
});

t.test('a stale plan file is refused and nothing of it is applied', async (t) => {
  await writeManifests(`${marker}-two`);
  const planFile = join(dir, 'reviewed.plan.json');
  const planned = await cli(['plan', '--detailed-exitcode', dir, '--stage', 'staging', '--out', planFile]);
  t.equal(planned.code, 2, planned.stderr);
  const applied = await cli(['apply', dir, '--stage', 'staging', '--yes']);
  t.equal(applied.code, 0, applied.stderr + applied.stdout);
  const before = (await journalEntries()).length;
  const stale = await cli(['apply', planFile]);
  t.equal(stale.code, 1);
  t.match(stale.stdout, /acme\/shop\/staging: not applied: stage acme\/shop\/staging: the plan is stale/);
  t.match(stale.stdout, /1 failed \(acme\/shop\/staging\)/);
  t.equal((await journalEntries()).length, before, 'no journal entry for the refused plan');
});

t.test('SIGKILL during apply, then re-apply: converged, one set of processes, journal truthful', async (t) => {
  await writeManifests(`${marker}-three`);
  const { child, done } = startCli(['apply', dir, '--stage', 'staging', '--yes']);
  const running = await waitFor('the deployment to be running', async () => (await journalEntries()).find((e) => e.status === 'running' && e.pid === child.pid), { timeoutMs: 60_000 });
  child.kill('SIGKILL');
  const killed = await done;
  t.equal(killed.signal, 'SIGKILL');
  const meanwhile = await cli(['history', 'staging', dir]);
  t.match(meanwhile.stdout, new RegExp(`#${running.number}\\s+running \\(interrupted: process ${child.pid} gone\\)`), 'history tells the truth before the next apply');

  const again = await cli(['apply', dir, '--stage', 'staging', '--yes']);
  t.equal(again.code, 0, again.stderr + again.stdout);
  t.match(again.stdout, new RegExp(`acme/shop/staging: took over the lock of PID ${child.pid} \\(apply, since [^)]+\\), which is gone`));
  t.match(again.stdout, new RegExp(`deployment #${running.number} was interrupted \\(process ${child.pid} gone\\); recorded as failed`));
  const entries = await journalEntries();
  const k = entries.find((e) => e.number === running.number)!;
  t.equal(k.status, 'failed');
  t.equal(k.error?.message, `interrupted (process ${child.pid} gone)`);
  t.equal(entries[entries.length - 1]!.status, 'succeeded');
  t.ok(entries.every((e) => e.status === 'succeeded' || e.status === 'failed'), 'no entry left open');

  await waitFor('exactly one web process of the new version and none of the old', async () => {
    const now = await withGreeting(`${marker}-three`);
    const old = [...(await withGreeting(`${marker}-two`)), ...(await withGreeting(`${marker}-one`))];
    return now.length === 1 && old.length === 0;
  }, { timeoutMs: 30_000 });
  const status = await statusJson();
  t.equal(status.runtime.apps.web.processes.length, 1, 'one web process');
  t.equal(status.runtime.apps.worker.processes.length, 1, 'one worker process');
  const res = await get(routerPort, '/', { host: 'web.staging.shop.localhost' });
  t.equal(res.status, 200);
  t.match(res.body, new RegExp(`${marker}-three`));
  const plan = await cli(['plan', '--detailed-exitcode', dir, '--stage', 'staging']);
  t.equal(plan.code, 0, 'converged: plan is clean');
});

t.test('SIGINT during apply: the deployment is recorded as canceled and the stage unlocked', async (t) => {
  await writeManifests(`${marker}-interrupted`);
  const { child, done } = startCli(['apply', dir, '--stage', 'staging', '--yes']);
  const running = await waitFor('the deployment to be running', async () => (await journalEntries()).find((e) => e.status === 'running' && e.pid === child.pid), { timeoutMs: 60_000, intervalMs: 5 });
  child.kill('SIGINT');
  const r = await done;
  t.equal(r.code, 1, r.stdout + r.stderr);
  const entry = (await journalEntries()).find((e) => e.number === running.number)!;
  // Either the engine stopped part-way (canceled) or it had already finished: the journal says which.
  t.ok(entry.status === 'failed' || entry.status === 'succeeded', `closed (${entry.status})`);
  if (entry.status === 'failed') t.match(entry.error, { code: 'E_CANCELED' });
  t.notOk(existsSync(join(stateDir, 'stages/acme/shop/staging/lock')), 'unlocked');
});

t.test('scale 1 → 3 with a new env under a request loop through the router: no failed request', async (t) => {
  await writeManifests(`${marker}-four`, 3);
  let stop = false;
  const results: number[] = [];
  const failures: string[] = [];
  const loop = (async () => {
    while (!stop) {
      try {
        results.push((await get(routerPort, '/', { host: 'web.staging.shop.localhost' })).status);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  })();
  const r = await cli(['apply', dir, '--stage', 'staging', '--yes']);
  // Keep asking until the new version answers, then a little longer.
  await waitFor('the new version through the router', async () => (await get(routerPort, '/', { host: 'web.staging.shop.localhost' })).body.includes(`${marker}-four`), { timeoutMs: 30_000 });
  const seen = results.length;
  await waitFor('more requests after the switch', () => results.length > seen + 20, { timeoutMs: 30_000, intervalMs: 10 });
  stop = true;
  await loop;
  t.equal(r.code, 0, r.stdout + r.stderr);
  t.ok(results.length > 20, `requests made during the deploy (${results.length})`);
  t.same(failures, [], 'no request failed at the connection level');
  t.same(results.filter((s) => s !== 200), [], 'every request answered 200');
  const status = await statusJson();
  t.equal(status.runtime.apps.web.processes.length, 3, 'three web processes');
  t.ok(status.runtime.apps.web.processes.every((p: { healthy: boolean }) => p.healthy), 'all healthy');
  await waitFor('three processes of the new version, none of the old', async () => (await withGreeting(`${marker}-four`)).length === 3 && (await withGreeting(`${marker}-three`)).length === 0 && (await withGreeting(`${marker}-interrupted`)).length === 0, { timeoutMs: 30_000 });
});

t.test('history, status and logs', async (t) => {
  const history = await cli(['history', 'staging', dir]);
  t.equal(history.code, 0, history.stderr);
  t.match(history.stdout, /^acme\/shop\/staging\n#\s+STATUS/);
  t.match(history.stdout, /interrupted \(process \d+ gone\)/);
  const status = await cli(['status', dir]);
  t.equal(status.code, 0, status.stderr);
  t.match(status.stdout, /router\s+http:\/\/127\.0\.0\.1:\d+/);
  t.match(status.stdout, /app web\s+3\/3 healthy, public/);
  t.match(status.stdout, /service database postgresql running/);
  const logs = await cli(['logs', dir, '--stage', 'staging', '--app', 'web', '--lines', '50']);
  t.equal(logs.code, 0, logs.stderr);
  t.ok(logs.stdout.length > 0, 'some log lines');
});

t.test('destroy stops every process of the stage', async (t) => {
  const pidsBefore = (await statusJson()).runtime.apps.web.processes.map((p: { pid: number }) => p.pid);
  const r = await cli(['destroy', 'staging', dir, '--yes']);
  t.equal(r.code, 0, r.stderr + r.stdout);
  t.match(r.stdout, /the data of cache, database, uploads is kept/);
  t.match(r.stdout, /deployment #\d+ succeeded/);
  await waitFor('no process of the stage left', async () => (await processesMentioning(dir)).length === 0, { timeoutMs: 30_000 });
  for (const pid of pidsBefore) t.throws(() => process.kill(pid, 0), 'web process gone');
  const status = await statusJson();
  t.equal(status.serial, null, 'recorded as not deployed');
  const history = JSON.parse((await cli(['history', 'staging', dir, '--format', 'json'])).stdout);
  t.equal(history.deployments[0].kind, 'destroy');
});
