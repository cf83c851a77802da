/** Manifest edits change only the bytes they must: comments, flow style and other documents stay. */
import t from 'tap';
import { ManifestSet } from '../../src/manifests/edit.js';
import { resetStage } from '../../src/operations/stage-manifests.js';

const text = `# top comment
apiVersion: setopsd/v1
kind: App
metadata: { name: web, project: shop }
spec:
  image: web:1   # base
  env: { A: "1" }
  stages:
    staging:
      image: web:2 # staging
---
apiVersion: setopsd/v1
kind: App
metadata: { name: worker, project: shop }
spec: { image: worker:1, stages: { staging: { scale: 2 } } }
`;

const open = () => {
  const set = new ManifestSet([{ path: 'apps.yaml', text }]);
  const [web, worker] = set.documents();
  return { set, web: web!, worker: worker! };
};
const after = (set: ManifestSet) => set.edits()[0]!.after!;

t.test('an existing scalar is replaced in place, its comment kept', async (t) => {
  const { set, web } = open();
  set.set(web, ['spec', 'stages', 'staging', 'image'], 'web:3');
  t.equal(after(set), text.replace('image: web:2 # staging', 'image: web:3 # staging'));
});

t.test('a new key goes at the end of its block mapping, at its indentation; a flow mapping gets it inline', async (t) => {
  const { set, web, worker } = open();
  set.set(web, ['spec', 'stages', 'production', 'image'], 'web:2');
  set.set(worker, ['spec', 'stages', 'production', 'image'], 'worker:2');
  t.equal(
    after(set),
    text
      .replace('      image: web:2 # staging\n', '      image: web:2 # staging\n    production:\n      image: web:2\n')
      .replace('stages: { staging: { scale: 2 } } }', 'stages: { staging: { scale: 2 }, production: {image: worker:2} } }'),
  );
});

t.test('deleting the only override removes the emptied stages mapping; removing a document keeps the others byte for byte', async (t) => {
  const { set, web, worker } = open();
  set.delete(web, ['spec', 'stages', 'staging']);
  set.remove(worker);
  t.equal(after(set), text.slice(0, text.indexOf('---\n')).replace('  stages:\n    staging:\n      image: web:2 # staging\n', ''));
});

t.test('no edit, no file; an unchanged value is no edit', async (t) => {
  const { set, web } = open();
  set.set(web, ['spec', 'image'], 'web:1');
  t.same(set.edits(), []);
});

t.test('stage reset: the images of one stage become another stage\'s, nothing else', async (t) => {
  const files = `apiVersion: setopsd/v1
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
---
apiVersion: setopsd/v1
kind: Stage
metadata: { name: pr-7, project: shop }
---
apiVersion: setopsd/v1
kind: App
metadata: { name: web, project: shop }
spec:
  image: web:1
  command: x
  stages:
    staging: { image: web:2 }
`;
  const change = resetStage({ root: '/r', dir: '', files: [{ path: 's.yaml', text: files }] }, { stage: 'pr-7', to: 'staging' });
  t.same(change.changed, { 'acme/shop/pr-7': ['app/web'] });
  t.equal(change.edits[0]!.after, files.replace('    staging: { image: web:2 }\n', '    staging: { image: web:2 }\n    pr-7:\n      image: web:2\n'));
  t.throws(() => resetStage({ root: '/r', dir: '', files: [{ path: 's.yaml', text: change.edits[0]!.after! }] }, { stage: 'pr-7', to: 'staging' }), /nothing to change/);
});
