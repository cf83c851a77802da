import t from 'tap';
import { SetopsError } from '../../../src/errors.js';
import { createMetrics, type DaemonMetrics } from '../../../src/daemon/http/metrics.js';
import { deployment } from './fixtures.js';
import { promtoolCheck } from './promtool.js';

const ref = { organization: 'acme', project: 'shop', stage: 'staging' };
const STAGE = 'acme/shop/staging';
const COMMIT = '0123456789abcdef0123456789abcdef01234567';

/** The values of one metric as `labels → value` (labels as `k=v,k=v`, sorted). */
async function values(metrics: DaemonMetrics, name: string): Promise<Record<string, number>> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const out: Record<string, number> = {};
  for (const v of (await metric.get()).values) {
    const labels = Object.entries(v.labels)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, l]) => `${k}=${l}`)
      .join(',');
    const key = 'metricName' in v && v.metricName !== name ? `${v.metricName}{${labels}}` : labels;
    out[key] = v.value;
  }
  return out;
}

t.test('observe: finished, refused and started applies; source errors', async (t) => {
  const m = createMetrics({ defaultMetrics: false });
  m.observe({ type: 'apply', stage: STAGE, event: { type: 'started', ref, deployment: deployment({ status: 'running' }) } });
  t.equal((await values(m, 'setopsd_stage_status'))[`stage=${STAGE},state=reconciling`], 1);
  m.observe({ type: 'apply', stage: STAGE, event: { type: 'finished', ref, deployment: deployment({ status: 'succeeded', commit: COMMIT }), durationMs: 2500 } });
  m.observe({ type: 'apply', stage: STAGE, event: { type: 'finished', ref, deployment: deployment({ status: 'failed' }), durationMs: 700 } });
  m.observe({ type: 'apply', stage: STAGE, event: { type: 'refused', ref, error: new SetopsError('secret API_KEY=hunter2 missing', { code: 'E_SECRET_MISSING' }) } });
  m.observe({ type: 'source-error', code: 'E_MANIFEST', message: 'cannot reach https://user:pw@example.invalid' });
  m.observe({ type: 'source-error', code: 'E_MANIFEST', message: 'again' });

  t.same(await values(m, 'setopsd_applies_total'), { 'result=succeeded': 1, 'result=failed': 1, 'result=refused': 1 });
  t.same(await values(m, 'setopsd_source_fetch_failures_total'), { '': 2 });
  const status = await values(m, 'setopsd_stage_status');
  t.equal(status[`stage=${STAGE},state=ready`], 1, 'a success sets ready');
  t.equal(status[`stage=${STAGE},state=reconciling`], 0);
  t.same(await values(m, 'setopsd_last_applied_info'), { [`commit=${COMMIT},stage=${STAGE}`]: 1 });
  const duration = await values(m, 'setopsd_reconcile_duration_seconds');
  t.equal(duration[`setopsd_reconcile_duration_seconds_count{result=succeeded,stage=${STAGE}}`], 1);
  t.equal(duration[`setopsd_reconcile_duration_seconds_sum{result=succeeded,stage=${STAGE}}`], 2.5);
  t.equal(duration[`setopsd_reconcile_duration_seconds_sum{result=failed,stage=${STAGE}}`], 0.7);

  const text = await m.registry.metrics();
  t.notMatch(text, /hunter2|user:pw|example\.invalid/, 'no message reaches a label');
});

t.test('setters: stage status is one-hot, last applied keeps one series per stage, forgetStage drops them', async (t) => {
  const m = createMetrics({ defaultMetrics: false });
  m.setStageStatus(STAGE, 'waiting-approval');
  const status = await values(m, 'setopsd_stage_status');
  t.same(
    Object.entries(status).filter(([, v]) => v === 1),
    [[`stage=${STAGE},state=waiting-approval`, 1]],
  );
  t.equal(Object.keys(status).length, 6, 'one series per state');
  m.setStageStatus(STAGE, null);
  t.same(Object.values(await values(m, 'setopsd_stage_status')), [0, 0, 0, 0, 0, 0], 'no record: every state 0');

  m.setLastApplied(STAGE, 'aaaaaaa');
  m.setLastApplied(STAGE, 'BBBBBBB');
  m.setLastApplied('acme/shop/prod', null);
  t.same(await values(m, 'setopsd_last_applied_info'), { [`commit=bbbbbbb,stage=${STAGE}`]: 1, 'commit=none,stage=acme/shop/prod': 1 });

  m.setDrift(STAGE, 3);
  m.setQueueDepth(4);
  t.same(await values(m, 'setopsd_drift'), { [`stage=${STAGE}`]: 3 });
  t.same(await values(m, 'setopsd_queue_depth'), { '': 4 });

  m.forgetStage(STAGE);
  t.same(await values(m, 'setopsd_stage_status'), {});
  t.same(await values(m, 'setopsd_drift'), {});
  t.same(await values(m, 'setopsd_last_applied_info'), { 'commit=none,stage=acme/shop/prod': 1 });
});

t.test('label values are only stage keys, commits and short words', async (t) => {
  const m = createMetrics({ defaultMetrics: false });
  m.webhookDelivery('github', 'accepted');
  m.webhookDelivery('github', 'accepted');
  m.webhookDelivery('gitlab', 'bad signature: token=s3cr3t');
  m.webhookDelivery('Evil"\nProvider', 'rejected');
  t.same(await values(m, 'setopsd_webhook_deliveries_total'), {
    'provider=github,result=accepted': 2,
    'provider=gitlab,result=other': 1,
    'provider=other,result=rejected': 1,
  });
  m.setStageStatus('<script>/x/y', 'failed');
  m.setLastApplied(STAGE, 'not a commit; password=x');
  const text = await m.registry.metrics();
  t.notMatch(text, /s3cr3t|<script>|password|Evil/);
  t.match(text, /setopsd_stage_status\{stage="invalid",state="failed"\} 1/);
  t.match(text, /setopsd_last_applied_info\{stage="acme\/shop\/staging",commit="unknown"\} 1/);
});

t.test('the exposition with default process metrics passes promtool check metrics', async (t) => {
  const m = createMetrics();
  m.observe({ type: 'apply', stage: STAGE, event: { type: 'finished', ref, deployment: deployment(), durationMs: 1200 } });
  m.setStageStatus(STAGE, 'ready');
  m.setDrift(STAGE, 0);
  m.webhookDelivery('github', 'accepted');
  const text = await m.registry.metrics();
  t.match(text, /^setopsd_process_cpu_user_seconds_total /m, 'Node process metrics carry the prefix');
  const metricNames = [...text.matchAll(/^# TYPE (\S+) /gm)].map((x) => x[1]!);
  t.same(
    metricNames.filter((n) => !n.startsWith('setopsd_')),
    [],
    'every metric is setopsd_',
  );
  const result = await promtoolCheck(text);
  t.equal(result.code, 0, result.output);
});

t.test('notification deliveries are counted by channel and result, from zero', async (t) => {
  const m = createMetrics({ defaultMetrics: false });
  t.match(await m.registry.metrics(), /setopsd_notifications_total\{channel="email",result="failed"\} 0/);
  m.notificationDelivery('webhook', 'failed');
  m.notificationDelivery('webhook', 'failed');
  m.notificationDelivery('email', 'delivered');
  const text = await m.registry.metrics();
  t.match(text, /setopsd_notifications_total\{channel="webhook",result="failed"\} 2/);
  t.match(text, /setopsd_notifications_total\{channel="email",result="delivered"\} 1/);
});
