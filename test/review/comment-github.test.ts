/**
 * `setopsd comment` on GitHub: the real CLI and the real @octokit/rest client against a local
 * stand-in of the GitHub REST API (test/helpers/fake-forge.ts) that records every request.
 */
import t from 'tap';
import { runCli } from '../helpers/deps.js';
import { fakeForge } from '../helpers/fake-forge.js';
import { gitRepo } from '../helpers/git.js';
import { tempDir, type Teardown } from '../helpers/temp.js';
import { deployed, shopManifests } from './manifests.js';

const TOKEN = 'ghs_CANARYtoken0123456789abcdefCANARY';

async function setup(t: Teardown) {
  const forge = await fakeForge(t, { token: TOKEN, pageSize: 2 });
  const repo = gitRepo(t, shopManifests());
  repo.branch('feature');
  repo.checkout('feature');
  const stateDir = tempDir(t, 'setopsd-comment-state-');
  await deployed(repo.dir, 'main', stateDir);
  const env = { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: forge.url };
  const comment = (extra: string[] = []) =>
    runCli(['comment', '--repo-slug', 'acme/shop', '--pr', '7', '--repo', repo.dir, '--dir', 'config', '--base', 'main', '--head', 'feature', '--state-dir', stateDir, ...extra], { env, cwd: repo.dir });
  return { forge, repo, comment, env, stateDir };
}

t.test('the first push creates the comment and the status; the next push updates the same comment', async (t) => {
  const { forge, repo, comment } = await setup(t);
  // An unrelated comment by someone else is left alone.
  forge.comments.push({ id: 1, target: 'acme/shop#7', body: 'LGTM' }, { id: 2, target: 'acme/shop#7', body: 'ship it' });
  const head1 = repo.commit('scale web', shopManifests({ scale: 2 }));
  const r1 = await comment();
  t.equal(r1.code, 0, r1.stderr);
  t.match(r1.stdout, /Plan comment on acme\/shop#7: 1 created \(https:\/\/github\.test\/acme\/shop\/pull\/7#issuecomment-\d+\)/);
  t.match(r1.stdout, /Status setopsd\/plan \(config\) on [0-9a-f]{12}: success, /);
  const ours = forge.on('acme/shop#7').filter((c) => c.id > 2);
  t.equal(ours.length, 1, 'one comment');
  const first = ours[0]!;
  t.match(first.body, /^<!-- setopsd:plan dir=config -->\n### setopsd plan: config\n/);
  t.match(first.body, /`acme\/shop\/staging`/, 'stage keys in full');
  t.match(first.body, /\| `acme\/shop\/production` \| local \| manual, protected \|/, 'approval mode and protection in the table');
  t.match(first.body, /Approval: manual \(applied only once a person approves: `setopsd approve` for the daemon, `apply --yes` by hand\) · protected/);
  t.match(first.body, /! ~ app\/web scale: 1 → 2/, '~ lines highlighted in the diff fence');
  t.match(first.body, /\*\*To re-plan:\*\*\n\n```sh\nsetopsd plan --repo \. --dir config --base main --head feature\n```/);
  t.match(first.body, /setopsd apply --repo \. --dir config --ref main --stage acme\/shop\/production --stage acme\/shop\/staging/);
  t.same(forge.statuses, [{ target: 'acme/shop', sha: head1, body: { state: 'success', description: '2 to change, 0 data loss, 0 policy violations', context: 'setopsd/plan (config)' } }]);
  t.ok(forge.requests.every((r) => r.headers.authorization === `token ${TOKEN}`), 'every request carries the token');

  const head2 = repo.commit('scale web more', shopManifests({ scale: 3 }));
  const before = forge.requests.length;
  const r2 = await comment();
  t.equal(r2.code, 0, r2.stderr);
  t.match(r2.stdout, /1 updated/);
  const after = forge.on('acme/shop#7').filter((c) => c.id > 2);
  t.same(after.map((c) => c.id), [first.id], 'the same comment, updated');
  t.match(after[0]!.body, /scale: 1 → 3/);
  const calls = forge.requests.slice(before).map((r) => `${r.method} ${r.url.replace(/\?.*/, '')}`);
  t.same(calls, ['GET /repos/acme/shop/issues/7/comments', 'GET /repos/acme/shop/issues/7/comments', `PATCH /repos/acme/shop/issues/comments/${first.id}`, `POST /repos/acme/shop/statuses/${head2}`], 'list (two pages), update, status: no new comment');
  t.equal(forge.on('acme/shop#7').find((c) => c.id === 1)!.body, 'LGTM');

  const r3 = await comment();
  t.match(r3.stdout, /1 unchanged/, 'the same plan again writes nothing');
  t.notOk(forge.requests.slice(-3).some((r) => r.method === 'PATCH' || (r.method === 'POST' && r.url.includes('/comments'))));
});

t.test('invalid manifests: the comment lists every located problem, the status fails, exit 1', async (t) => {
  const { forge, repo, comment } = await setup(t);
  repo.commit('break it', shopManifests({ broken: true }));
  const r = await comment();
  t.equal(r.code, 1);
  t.match(r.stderr, /The manifests are invalid \(2 problems\); the comment lists them/);
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
  const [c] = forge.on('acme/shop#7');
  t.match(c!.body, /\*\*The manifests are invalid: nothing was planned\.\*\* 2 problems:/);
  t.match(c!.body, /config\/setops\.yaml:\d+:\d+: \/spec\/port: /);
  t.match(c!.body, /config\/setops\.yaml:\d+:\d+: \/spec\/healthCheck\/path: /);
  t.match(forge.statuses[0]!.body, { state: 'failure', description: 'invalid manifests: 2 problems, nothing planned' });
});

t.test('the token never shows: not in output, comments, errors; a refused token is a clear error', async (t) => {
  const { forge, repo, comment } = await setup(t);
  repo.commit('scale web', shopManifests({ scale: 2 }));
  const ok = await comment();
  const bodies = forge.comments.map((c) => c.body).join('\n');
  for (const text of [ok.stdout, ok.stderr, bodies]) t.notMatch(text, /CANARY/);
  forge.token = 'another-token-entirely';
  const bad = await comment();
  t.equal(bad.code, 1);
  t.match(bad.stderr, /GitHub API: listing comments on acme\/shop#7 failed \(HTTP 401\): Bad credentials - https:\/\/docs.github.com\/rest; check the token \(GITHUB_TOKEN\)\n$/);
  t.notMatch(bad.stderr + bad.stdout, /CANARY/);
  t.notMatch(bad.stderr, /\n\s+at /, 'no stack trace');
});

t.test('missing settings are named before anything is planned or sent', async (t) => {
  const { forge, repo } = await setup(t);
  const noToken = await runCli(['comment', '--repo-slug', 'acme/shop', '--pr', '7', '--repo', repo.dir, '--dir', 'config'], { env: { GITHUB_API_URL: forge.url } });
  t.equal(noToken.code, 1);
  t.match(noToken.stderr, /GITHUB_TOKEN is not set/);
  const noPr = await runCli(['comment', '--repo-slug', 'acme/shop', '--repo', repo.dir], { env: { GITHUB_TOKEN: TOKEN } });
  t.match(noPr.stderr, /--pr N is required/);
  const badSlug = await runCli(['comment', '--repo-slug', 'acme', '--pr', '7', '--repo', repo.dir], { env: { GITHUB_TOKEN: TOKEN } });
  t.match(badSlug.stderr, /--repo-slug must be OWNER\/REPO, got "acme"/);
  t.equal(forge.requests.length, 0, 'nothing sent');
});

t.test('--plan FILE posts a saved plan as it is; an edited plan file is refused', async (t) => {
  const { forge, repo, env, stateDir } = await setup(t);
  repo.commit('scale web', shopManifests({ scale: 2 }));
  const planFile = `${stateDir}/pr.plan`;
  const planned = await runCli(['plan', '--repo', repo.dir, '--dir', 'config', '--base', 'main', '--head', 'feature', '--state-dir', stateDir, '--out', planFile], { cwd: repo.dir });
  t.equal(planned.code, 0, planned.stderr);
  const post = () => runCli(['comment', '--repo-slug', 'acme/shop', '--pr', '8', '--plan', planFile, '--state-dir', stateDir], { env, cwd: repo.dir });
  const r = await post();
  t.equal(r.code, 0, r.stderr);
  const [c] = forge.on('acme/shop#8');
  t.match(c!.body, /^<!-- setopsd:plan dir=config -->/);
  t.match(c!.body, /! ~ app\/web scale: 1 → 2/);
  t.match(c!.body, /```sh\nsetopsd apply .*pr\.plan\n```/);
  t.match(forge.statuses.at(-1), { sha: repo.revParse('feature'), body: { description: '2 to change, 0 data loss, 0 policy violations' } });
  const { readFileSync, writeFileSync } = await import('node:fs');
  writeFileSync(planFile, readFileSync(planFile, 'utf8').replace('"after": 2', '"after": 20'));
  const edited = await post();
  t.equal(edited.code, 1);
  t.match(edited.stderr, /pr\.plan/);
  const mixed = await runCli(['comment', '--repo-slug', 'acme/shop', '--pr', '8', '--plan', planFile, '--repo', repo.dir], { env });
  t.match(mixed.stderr, /--plan FILE posts a saved plan as it is; it cannot be combined with --repo/);
});

t.test('in GitHub Actions --pr defaults to the pull_request event at GITHUB_EVENT_PATH', async (t) => {
  const { forge, repo, env, stateDir } = await setup(t);
  repo.commit('scale web', shopManifests({ scale: 2 }));
  const eventPath = `${stateDir}/event.json`;
  const { writeFileSync } = await import('node:fs');
  writeFileSync(eventPath, JSON.stringify({ action: 'opened', number: 21, pull_request: { number: 21, head: { sha: repo.revParse('feature') } } }));
  const r = await runCli(['comment', '--repo-slug', 'acme/shop', '--repo', repo.dir, '--dir', 'config', '--base', 'main', '--head', 'feature', '--state-dir', stateDir], { env: { ...env, GITHUB_EVENT_PATH: eventPath }, cwd: repo.dir });
  t.equal(r.code, 0, r.stderr);
  t.equal(forge.on('acme/shop#21').length, 1);
  writeFileSync(eventPath, JSON.stringify({ ref: 'refs/heads/main' }));
  const push = await runCli(['comment', '--repo-slug', 'acme/shop', '--repo', repo.dir], { env: { ...env, GITHUB_EVENT_PATH: eventPath } });
  t.match(push.stderr, /--pr N is required: the pull request number \(default: CI_MERGE_REQUEST_IID, or the pull_request event at GITHUB_EVENT_PATH\)/);
});
