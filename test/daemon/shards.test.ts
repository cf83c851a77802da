/** `--shard K/N`: daemons sharing a backend split the stages by a stable hash of their key and never reconcile the same one. */
import t from 'tap';
import { ownsKey } from '../../src/daemon/controller.js';
import { fakeEngine } from '../operations/apply-fakes.js';
import { waitFor } from '../helpers/wait.js';
import { daemonFor } from './helpers.js';

const STAGES = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];
const manifests = {
  'config/setops.yaml': [
    'apiVersion: setopsd/v1\nkind: Organization\nmetadata: { name: acme }\nspec: { provider: local }',
    'apiVersion: setopsd/v1\nkind: Project\nmetadata: { name: shop, organization: acme }',
    ...STAGES.map((s) => `apiVersion: setopsd/v1\nkind: Stage\nmetadata: { name: ${s}, organization: acme, project: shop }`),
    'apiVersion: setopsd/v1\nkind: App\nmetadata: { name: web, organization: acme, project: shop }\nspec: { command: node server.js }',
  ].join('\n---\n') + '\n',
};

t.test('every key belongs to exactly one shard, the same on every daemon', async (t) => {
  for (const stage of STAGES) {
    const key = `acme/shop/${stage}`;
    const owners = [1, 2, 3].filter((index) => ownsKey(key, { index, count: 3 }));
    t.equal(owners.length, 1, `${key} has one owner of 3`);
    t.equal(ownsKey(key, { index: owners[0]!, count: 3 }), true, 'stable');
  }
  t.ok(ownsKey('acme/shop/alpha', undefined), 'no shard: everything');
});

t.test('two daemons with --shard 1/2 and 2/2 apply disjoint sets of stages that cover them all', async (t) => {
  const one = fakeEngine();
  const two = fakeEngine();
  const a = await daemonFor(t, manifests, { engine: one, daemon: { shard: { index: 1, count: 2 } } });
  const b = await daemonFor(t, manifests, { engine: two, daemon: { shard: { index: 2, count: 2 } } });
  await waitFor('every stage applied once', () => one.calls.length + two.calls.length === STAGES.length, { timeoutMs: 20_000 });
  const applied = (e: typeof one) => e.calls.map((c) => c.replace('apply ', ''));
  t.same(applied(one).filter((k) => applied(two).includes(k)), [], 'no stage applied by both');
  t.same([...applied(one), ...applied(two)].sort(), STAGES.map((s) => `acme/shop/${s}`).sort());
  t.ok(applied(one).every((k) => ownsKey(k, { index: 1, count: 2 })));
  const listed = (await a.api('GET', '/api/v1/stages')).body.stages.map((s: { key: string }) => s.key);
  t.same(listed.sort(), applied(one).sort(), 'a daemon lists only its own stages');
  await b.stop();
});
