/**
 * The daemon reads the same files as `validate` and `plan`: its source goes through the shared
 * loader, so `.setopsd.yaml` globs and the default exclusions (dot-directories, .gitlab-ci.yml)
 * hold for it too.
 */
import t from 'tap';
import { waitFor } from '../helpers/wait.js';
import { daemonFor, manifests } from './helpers.js';

t.test('the daemon applies a commit whose config directory also holds CI and other YAML', async (t) => {
  const d = await daemonFor(t, {
    ...manifests({ greeting: 'one', productionApproval: 'auto' }),
    'config/.gitlab-ci.yml': 'plan:\n  script: [npx setopsd plan]\n',
    'config/.github/workflows/plan.yml': 'on: pull_request\njobs: {}\n',
    'config/openapi/shop.yaml': 'openapi: 3.1.0\n',
    'config/.setopsd.yaml': 'manifests:\n  exclude: [openapi/]\n',
  });
  await waitFor('production ready', async () => (await d.record('production'))?.state === 'ready', { timeoutMs: 20_000 });
  t.same(d.engine.calls, ['apply acme/shop/staging', 'apply acme/shop/production']);

  // Without the exclusion the OpenAPI file is read as a manifest: the commit is invalid, nothing applied.
  const bad = d.repo.commit('drop the exclusion', { 'config/.setopsd.yaml': null, ...manifests({ greeting: 'two', productionApproval: 'auto' }) });
  const revision = await waitFor('the commit seen', async () => {
    const r = await d.api('GET', '/api/v1/revision');
    return r.body.commit === bad ? r.body : undefined;
  }, { timeoutMs: 20_000 });
  t.match(JSON.stringify(revision), /openapi\/shop\.yaml/, 'the revision names the file read as a manifest');
  t.equal(d.engine.calls.length, 2, 'nothing applied');
});
