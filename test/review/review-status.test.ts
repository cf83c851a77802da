/** The `setopsd/plan` status line: "N to change, M data loss, K policy violations", and when it fails. */
import t from 'tap';
import { reviewCounts, reviewStatus } from '../../src/operations/plan-comment.js';
import { planStage } from '../../src/reconciler/stage-plan.js';
import { app, service, stage } from '../helpers/models.js';

const plans = [
  planStage(stage({ apps: { web: app({ scale: 2 }) } }), { model: stage({ apps: { web: app() }, services: { db: service('postgresql') } }), serial: '1' }, 'local'),
  planStage(stage({ name: 'production' }), { model: null, serial: null }, 'local'),
];
const review = { ok: true as const, plans, source: {}, showFiles: false };

t.test('counts: every change, the data-loss ones, and the policy counts handed in', async (t) => {
  t.same(reviewCounts(plans), { changes: 3, dataLoss: 1, policyViolations: 0, denied: 0 });
  t.same(reviewCounts(plans, { violations: 4, denied: 1 }), { changes: 3, dataLoss: 1, policyViolations: 4, denied: 1 });
});

t.test('the policy counts come from the plans\' violations', async (t) => {
  const withViolations = plans.map((p, i) => ({
    ...p,
    violations: i === 0 ? [{ policy: 'baseline', rule: 'scale', severity: 'warn' as const, message: 'm', subject: 'app/web', details: [] }, { policy: 'baseline', rule: 'tag', severity: 'deny' as const, message: 'm', subject: 'app/web', details: [] }] : [],
  }));
  t.same(reviewCounts(withViolations), { changes: 3, dataLoss: 1, policyViolations: 2, denied: 1 });
  t.match(reviewStatus({ ...review, plans: withViolations }, '.'), { state: 'failure', description: '3 to change, 1 data loss, 2 policy violations' });
});

t.test('the status: success unless a policy denies or the manifests are invalid', async (t) => {
  t.same(reviewStatus(review, '.'), { context: 'setopsd/plan', state: 'success', description: '3 to change, 1 data loss, 0 policy violations' });
  t.same(reviewStatus(review, 'config', { violations: 1, denied: 0 }), { context: 'setopsd/plan (config)', state: 'success', description: '3 to change, 1 data loss, 1 policy violation' });
  t.match(reviewStatus(review, '.', { violations: 2, denied: 1 }), { state: 'failure', description: '3 to change, 1 data loss, 2 policy violations' });
  t.same(reviewStatus({ ok: false, issues: [{ file: 'a.yaml', line: 1, col: 1, pointer: '', message: 'x' }], source: {} }, '.'), { context: 'setopsd/plan', state: 'failure', description: 'invalid manifests: 1 problem, nothing planned' });
});
