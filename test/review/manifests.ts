import { readGitTree } from '../../src/manifests/source-git.js';
import { loadDesired } from '../../src/manifests/load.js';
import { StateStore } from '../../src/state/store.js';
import { refOf } from '../../src/model/stage-model.js';

/** Manifests of acme/shop for the pull-request comment tests: staging (auto) and a protected, manual production. */
export function shopManifests(opts: { scale?: number; broken?: boolean; apps?: number } = {}): Record<string, string> {
  const extra = Array.from({ length: opts.apps ?? 0 }, (_, i) => `---
apiVersion: setopsd/v1
kind: App
metadata: { name: worker-${i}, organization: acme, project: shop }
spec:
  command: node worker.js --queue ${'q'.repeat(40)}-${i}
  env: { QUEUE: "${'x'.repeat(60)}-${i}", MODE: batch, LEVEL: info }
`).join('');
  return {
    'config/setops.yaml': `apiVersion: setopsd/v1
kind: Organization
metadata: { name: acme }
spec: { provider: local }
---
apiVersion: setopsd/v1
kind: Project
metadata: { name: shop, organization: acme }
---
apiVersion: setopsd/v1
kind: Stage
metadata: { name: staging, organization: acme, project: shop }
---
apiVersion: setopsd/v1
kind: Stage
metadata: { name: production, organization: acme, project: shop }
spec: { approval: manual, protected: true }
---
apiVersion: setopsd/v1
kind: App
metadata: { name: web, organization: acme, project: shop }
spec:
  command: node server.js
  ${opts.broken ? 'port: 70000' : 'port: 5000'}
  scale: ${opts.scale ?? 1}
  env: { API_KEY: { secret: payments-api-key }, GREETING: hello }
${opts.broken ? '  healthCheck: { path: 12 }\n' : ''}${extra}`,
  };
}

/** Records the desired state of `ref` as deployed, as an apply would have. */
export async function deployed(repoDir: string, ref: string, stateDir: string): Promise<void> {
  const loaded = loadDesired(await readGitTree({ repo: repoDir, ref, dir: 'config' }));
  if (!loaded.ok) throw new Error('invalid fixture');
  const store = new StateStore(stateDir);
  for (const model of loaded.value.stages) await store.write(refOf(model), model);
}
