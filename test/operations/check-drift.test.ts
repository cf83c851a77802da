import t from 'tap';
import { checkDrift, runtimeDrift } from '../../src/operations/check-drift.js';
import type { Engine } from '../../src/providers/engine.js';
import { secretDigests } from '../../src/state/secret-digests.js';
import { tempDir } from '../helpers/temp.js';
import { app, stage } from '../helpers/models.js';

const proc = (healthy: boolean) => ({ pid: 1, port: 1, healthy, restarts: 0, startedAt: '2026-01-01T00:00:00Z' });

t.test('runtime drift: unhealthy or missing processes, stopped services, nothing running', async (t) => {
  const model = stage({ apps: { web: app({ scale: 2 }) }, services: { db: { type: 'postgresql' } as never } });
  t.same(runtimeDrift(model, { apps: { web: { processes: [proc(true), proc(true)] } }, services: { db: { type: 'postgresql', status: 'running' } } }), [], 'in sync');
  t.same(runtimeDrift(model, { apps: { web: { processes: [proc(true), proc(false)] } }, services: { db: { type: 'postgresql', status: 'stopped', detail: 'the stage supervisor is not running' } } }), [
    'app/web: 1 of 2 processes healthy',
    'service/db: stopped (the stage supervisor is not running) (postgresql)',
  ]);
  t.same(runtimeDrift(model, { apps: {}, services: {} }), ['app/web: 0 of 2 processes healthy', 'service/db: missing (postgresql)']);
  t.same(runtimeDrift(model, null), ['stage: the engine reports nothing running']);
  t.same(runtimeDrift(model, { apps: {}, services: {}, source: 'stack outputs' }), [], 'a view that is not live is not compared');
});

t.test('secret drift: a secret whose value changed since the apply is a finding, by digest, without the value', async (t) => {
  const stateDir = tempDir(t, 'setopsd-drift-secrets-');
  const model = stage({ apps: { web: app({ scale: 1, env: { TOKEN: { secret: 'API_TOKEN' }, PLAIN: 'x' } }) } });
  const running: Engine['status'] = async () => ({ apps: { web: { processes: [proc(true)] } }, services: {} });
  const engine = { name: 'local', status: running } as unknown as Engine;
  const ref = { organization: model.organization.name, project: model.project.name, stage: model.stage.name };
  const values: Record<string, string> = { API_TOKEN: 'canary-old-value' };
  const lookup = { get: async (name: string) => values[name] ?? Promise.reject(new Error('missing')) };
  const recorded = await secretDigests(stateDir, model, lookup);
  const signal = new AbortController().signal;
  t.same(await checkDrift(engine, ref, model, signal, { stateDir, recorded, lookup }), [], 'the same value: in sync');
  values.API_TOKEN = 'canary-new-value';
  const findings = await checkDrift(engine, ref, model, signal, { stateDir, recorded, lookup });
  t.same(findings, ['app/web env.TOKEN: (secret API_TOKEN) has another value than the running processes got']);
  t.notMatch(JSON.stringify(findings), /canary/, 'no value in the findings');
  t.same(await checkDrift(engine, ref, model, signal, { stateDir, recorded: undefined, lookup }), [], 'no digests recorded (an older state): nothing to compare');
  delete values.API_TOKEN;
  t.same(await checkDrift(engine, ref, model, signal, { stateDir, recorded, lookup }), [], 'a secret that cannot be read now is not drift (the apply reports it)');
  t.same(await checkDrift(engine, ref, model, signal), [], 'without secrets to compare: the runtime view only');
});
