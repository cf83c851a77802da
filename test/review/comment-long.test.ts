/** A plan over 65,535 characters: numbered comments (at most 10), and parts left over from a longer plan deleted. */
import t from 'tap';
import { runCli } from '../helpers/deps.js';
import { fakeForge } from '../helpers/fake-forge.js';
import { gitRepo } from '../helpers/git.js';
import { tempDir } from '../helpers/temp.js';
import { parseMarker } from '../../src/render/comment-parts.js';
import { deployed, shopManifests } from './manifests.js';

const TOKEN = 'ghs_longplanCANARY0123456789';

t.test('long plans are split; a shorter plan updates the first parts and deletes the rest', async (t) => {
  const forge = await fakeForge(t, { token: TOKEN, pageSize: 100 });
  const repo = gitRepo(t, shopManifests());
  const stateDir = tempDir(t, 'setopsd-comment-state-');
  await deployed(repo.dir, 'main', stateDir);
  repo.branch('feature');
  repo.checkout('feature');
  const comment = () =>
    runCli(['comment', '--repo-slug', 'acme/shop', '--pr', '9', '--repo', repo.dir, '--dir', 'config', '--base', 'main', '--head', 'feature', '--state-dir', stateDir], {
      env: { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: forge.url },
      cwd: repo.dir,
    });

  repo.commit('a lot of workers', shopManifests({ apps: 1500 }));
  const huge = await comment();
  t.equal(huge.code, 0, huge.stderr);
  const parts = forge.on('acme/shop#9');
  t.ok(parts.length > 4 && parts.length <= 10, `${parts.length} comments: several, at most 10`);
  for (const [i, c] of parts.entries()) {
    t.ok(c.body.length <= 65_535, `part ${i + 1}: ${c.body.length} characters`);
    t.same(parseMarker(c.body), { dir: 'config', part: i + 1 });
  }
  t.match(parts[0]!.body, /\*\*1 of 2 stage details were cut\*\* to keep the plan within 10 comments; run `setopsd plan`/, 'what did not fit in 10 comments is said, not silently dropped');

  repo.commit('fewer workers', shopManifests({ apps: 200 }));
  const shorter = await comment();
  t.equal(shorter.code, 0, shorter.stderr);
  const now = forge.on('acme/shop#9');
  t.ok(now.length >= 2 && now.length < parts.length, `${now.length} comments`);
  t.same(now.map((c) => c.id), parts.slice(0, now.length).map((c) => c.id), 'the first parts are updated in place');
  t.match(shorter.stdout, new RegExp(`${now.length} updated, ${parts.length - now.length} deleted`));
  const deletes = forge.requests.filter((r) => r.method === 'DELETE').map((r) => Number(r.url.split('/').pop()));
  t.same(deletes, parts.slice(now.length).map((c) => c.id));
  t.notMatch(now.map((c) => c.body).join(''), /were cut/, 'the shorter plan fits whole');
});
