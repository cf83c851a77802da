/** The test model builders fill in the same defaults as loading manifests that leave every optional field out. */
import t from 'tap';
import type { ServiceType } from '../../src/model/stage-model.js';
import { loadDesired } from '../../src/manifests/load.js';
import { formatIssue } from '../../src/errors.js';
import { app, service, stage } from './models.js';

const TYPES: ServiceType[] = ['postgresql', 'redis', 's3', 'volume', 'documentdb', 'elasticsearch'];

const doc = (kind: string, metadata: string, spec = '') => `apiVersion: setopsd/v1\nkind: ${kind}\nmetadata: { ${metadata} }\n${spec}`;

t.test('app(), service(type) and stage() equal what the loader makes of minimal manifests', async (t) => {
  const text = [
    doc('Organization', 'name: acme'),
    doc('Project', 'name: shop'),
    doc('Stage', 'name: staging, project: shop'),
    doc('App', 'name: web, project: shop'),
    ...TYPES.map((type) => doc('Service', `name: svc-${type}, project: shop`, `spec: { type: ${type} }\n`)),
  ].join('---\n');
  const loaded = loadDesired({ root: '/config', dir: '', files: [{ path: 'setops.yaml', text }] });
  if (!loaded.ok) throw new Error(loaded.issues.map(formatIssue).join('\n'));
  t.strictSame(loaded.value.stages, [stage({ apps: { web: app() }, services: Object.fromEntries(TYPES.map((type) => [`svc-${type}`, service(type)])) })]);
});

t.test('overrides replace top-level fields; undefined leaves a field out; results are fresh copies', async (t) => {
  const shared = { path: '/health', status: '200', interval: 5, timeout: 2, retries: 1, startPeriod: 0 };
  const a = app({ healthCheck: shared, command: undefined });
  t.not(a.healthCheck, shared);
  t.notOk('command' in a);
  t.notOk('version' in service('postgresql', { version: undefined }));
  const s = stage({ name: 'production', organization: { provider: 'aws', aws: { region: 'eu-central-1' } }, after: 'staging' });
  t.strictSame(s.organization, { name: 'acme', provider: 'aws', aws: { region: 'eu-central-1' } });
  t.strictSame(s.stage, { name: 'production', approval: 'auto', protected: false, notifications: {}, after: 'staging' });
  t.notOk('after' in stage().stage);
});
