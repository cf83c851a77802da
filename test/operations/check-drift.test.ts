import t from 'tap';
import { runtimeDrift } from '../../src/operations/check-drift.js';
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
