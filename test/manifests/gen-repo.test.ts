import t from 'tap';
import { generateRepo } from '../../bench/gen-repo.js';
import { loadDesired } from '../../src/manifests/load.js';
import { formatIssue } from '../../src/errors.js';

t.test('the benchmark generator makes valid repositories with the counts it reports', async (t) => {
  const repo = generateRepo({ projects: 2, stagesPerProject: 4, sharedAppsPerProject: 3, pinnedAppsPerStage: 2, servicesPerProject: 5 });
  const r = loadDesired({ root: '/bench', dir: '', files: repo.files });
  t.ok(r.ok, r.ok ? '' : r.issues.slice(0, 5).map(formatIssue).join('\n'));
  if (!r.ok) return;
  t.strictSame(r.value.counts, { organizations: 1, projects: 2, stages: 8, apps: 2 * 3 + 8 * 2, services: 10 });
  t.equal(r.value.stages.reduce((n, s) => n + Object.keys(s.apps).length, 0), repo.counts.appInstances);
  const prod = r.value.stages.find((s) => s.stage.name === 'production')!;
  t.equal(prod.apps['shared-000']!.scale, 3, 'production override applied');
  t.equal(prod.stage.after, 'staging');
});

t.test('the generator is deterministic', async (t) => {
  t.strictSame(generateRepo({ projects: 1 }), generateRepo({ projects: 1 }));
});
