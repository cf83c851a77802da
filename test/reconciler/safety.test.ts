import t from 'tap';
import { plan } from '../../src/reconciler/plan.js';
import { checkPlanSafety } from '../../src/reconciler/safety.js';
import { app, service, stage } from '../helpers/models.js';

t.test('no data loss: no problems', async (t) => {
  const desired = stage({ apps: { web: app({ scale: 2 }) } });
  const actual = stage({ apps: { web: app() } });
  t.same(checkPlanSafety(plan(desired, actual), desired, actual, { allowDataLoss: false }), []);
});

t.test('deleting a stateful service needs --allow-data-loss', async (t) => {
  const actual = stage({ services: { db: service('postgresql') } });
  const desired = stage();
  const cs = plan(desired, actual);
  const problems = checkPlanSafety(cs, desired, actual, { allowDataLoss: false });
  t.same(problems.map((p) => [p.code, p.subject, p.refused]), [['E_DATA_LOSS', 'service/db', false]]);
  t.match(problems[0]!.message, /^service\/db in acme\/shop\/staging: deleting it destroys its data; apply needs --allow-data-loss$/);
  t.same(checkPlanSafety(cs, desired, actual, { allowDataLoss: true }), []);
});

t.test('deletion protection of the ACTUAL service refuses even with --allow-data-loss', async (t) => {
  const actual = stage({ services: { db: service('postgresql', { deletionProtection: true }) } });
  const desired = stage();
  const problems = checkPlanSafety(plan(desired, actual), desired, actual, { allowDataLoss: true });
  t.same(problems.map((p) => [p.code, p.subject, p.refused]), [['E_DELETION_PROTECTION', 'service/db', true]]);
  t.match(problems[0]!.message, /set deletionProtection: false on the service and apply that first/);
});

t.test('protected stage refuses data loss and stage deletion', async (t) => {
  const actual = stage({ protected: true, services: { db: service('postgresql') } });
  const desired = stage({ protected: false, services: { db: service('redis') } });
  const problems = checkPlanSafety(plan(desired, actual), desired, actual, { allowDataLoss: true });
  t.same(problems.map((p) => [p.code, p.subject, p.refused]), [['E_PROTECTED_STAGE', 'service/db', true]], 'un-protecting in the same commit does not help');
  const gone = checkPlanSafety(plan(null, stage({ protected: true })), null, stage({ protected: true }), { allowDataLoss: true });
  t.same(gone.map((p) => [p.code, p.subject]), [['E_PROTECTED_STAGE', 'stage']], 'an empty protected stage is not destroyed either');
});

t.test('stage delete lists every service and the stage', async (t) => {
  const actual = stage({ services: { db: service('postgresql'), cache: service('redis') } });
  const problems = checkPlanSafety(plan(null, actual), null, actual, { allowDataLoss: false });
  t.same(problems.map((p) => p.subject), ['service/cache', 'service/db', 'stage']);
  t.ok(problems.every((p) => p.code === 'E_DATA_LOSS' && !p.refused));
});
