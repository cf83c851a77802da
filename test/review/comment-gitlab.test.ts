/** `setopsd comment` on GitLab: merge-request notes and a commit status through the REST API v4, against a local stand-in. */
import t from 'tap';
import { runCli } from '../helpers/deps.js';
import { fakeForge } from '../helpers/fake-forge.js';
import { gitRepo } from '../helpers/git.js';
import { tempDir } from '../helpers/temp.js';
import { deployed, shopManifests } from './manifests.js';

const TOKEN = 'glpat-CANARY-gitlab-0123456789';

for (const [variable, header] of [['GITLAB_TOKEN', 'private-token'], ['CI_JOB_TOKEN', 'job-token']] as const) {
  t.test(`a merge request note is created and then updated (${variable})`, async (t) => {
    const forge = await fakeForge(t, { token: TOKEN, pageSize: 1 });
    const repo = gitRepo(t, shopManifests());
    const stateDir = tempDir(t, 'setopsd-comment-state-');
    await deployed(repo.dir, 'main', stateDir);
    repo.branch('feature');
    repo.checkout('feature');
    forge.comments.push({ id: 5, target: '42!3', body: 'a reviewer' });
    // What GitLab CI sets for a merge request pipeline.
    const env = { GITLAB_CI: 'true', CI_API_V4_URL: forge.gitlabUrl, CI_PROJECT_ID: '42', CI_MERGE_REQUEST_IID: '3', [variable]: TOKEN };
    const comment = () => runCli(['comment', '--pr', '3', '--repo', repo.dir, '--dir', 'config', '--base', 'main', '--head', 'feature', '--state-dir', stateDir], { env, cwd: repo.dir });
    const head1 = repo.commit('scale', shopManifests({ scale: 2 }));
    const r1 = await comment();
    t.equal(r1.code, 0, r1.stderr);
    t.match(r1.stdout, /Plan comment on 42!3: 1 created/);
    const ours = forge.on('42!3').filter((c) => c.id !== 5);
    t.equal(ours.length, 1);
    t.match(ours[0]!.body, /^<!-- setopsd:plan dir=config -->\n/);
    t.same(forge.statuses, [{ target: '42', sha: head1, body: { state: 'success', name: 'setopsd/plan (config)', description: '2 to change, 0 data loss, 0 policy violations' } }]);
    repo.commit('scale more', shopManifests({ scale: 3 }));
    const r2 = await comment();
    t.equal(r2.code, 0, r2.stderr);
    t.match(r2.stdout, /1 updated/);
    t.same(forge.on('42!3').map((c) => c.id), [5, ours[0]!.id], 'the same note');
    t.match(forge.on('42!3')[1]!.body, /scale: 1 → 3/);
    t.ok(forge.requests.every((r) => r.headers[header] === TOKEN), `every request carries ${header}`);
    t.ok(forge.requests.some((r) => r.url.includes('page=2')), 'notes are read page by page');
    t.notMatch(r1.stdout + r1.stderr + r2.stdout + r2.stderr, /CANARY/);
  });
}

t.test('a refused GitLab token: E_REVIEW_AUTH message without the token', async (t) => {
  const forge = await fakeForge(t, { token: 'the-right-one' });
  const repo = gitRepo(t, shopManifests());
  const r = await runCli(['comment', '--pr', '3', '--repo', repo.dir, '--dir', 'config', '--state-dir', tempDir(t)], {
    env: { CI_API_V4_URL: forge.gitlabUrl, CI_PROJECT_ID: '42', GITLAB_TOKEN: TOKEN },
  });
  t.equal(r.code, 1);
  t.match(r.stderr, /GitLab API: listing notes on 42!3 failed \(HTTP 401\): 401 Unauthorized; check the token \(GITLAB_TOKEN or CI_JOB_TOKEN\)/);
  t.notMatch(r.stderr, /CANARY/);
});
