import t from 'tap';
import { EngineError, SetopsError } from '../../../src/errors.js';
import { ISSUES, stageView, waitingStage } from './fake-view.js';
import { bearer, call, startHarness, waitFor } from './harness.js';
import { deployment } from './fixtures.js';
import { promtoolCheck } from './promtool.js';

t.test('GET /healthz and /readyz', async (t) => {
  const h = await startHarness(t);
  const health = await call(h.server.url, 'GET', '/healthz');
  t.equal(health.status, 200);
  t.equal(health.body, 'ok\n');
  t.match(health.headers['content-type'], /^text\/plain/);

  const ready = await call(h.server.url, 'GET', '/readyz');
  t.equal(ready.status, 200);
  t.same(ready.json(), { ready: true, checks: { synced: { ok: true } } });

  h.view.ready = { ready: false, checks: { synced: { ok: false, message: 'the first sync has not completed' }, queue: { ok: true } } };
  const notReady = await call(h.server.url, 'GET', '/readyz');
  t.equal(notReady.status, 503);
  t.same(notReady.json(), h.view.ready);
});

t.test('GET /metrics is the registry as Prometheus text, valid for promtool', async (t) => {
  const h = await startHarness(t);
  h.metrics.setStageStatus('acme/shop/staging', 'ready');
  h.metrics.setQueueDepth(2);
  const res = await call(h.server.url, 'GET', '/metrics');
  t.equal(res.status, 200);
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  t.match(res.body, /^setopsd_stage_status\{stage="acme\/shop\/staging",state="ready"\} 1$/m);
  t.match(res.body, /^setopsd_queue_depth 2$/m);
  const check = await promtoolCheck(res.body);
  t.equal(check.code, 0, `promtool check metrics: ${check.output}`);
});

t.test('GET /api/v1/stages, one stage, and 404 for an unknown one', async (t) => {
  const h = await startHarness(t);
  h.view.stageList = [stageView(), waitingStage()];
  const all = await call(h.server.url, 'GET', '/api/v1/stages');
  t.equal(all.status, 200);
  t.match(all.headers['content-type'], /^application\/json/);
  t.same(all.json(), JSON.parse(JSON.stringify({ stages: h.view.stageList })));

  const one = await call(h.server.url, 'GET', '/api/v1/stages/acme/shop/production');
  t.equal(one.status, 200);
  t.same(one.json(), JSON.parse(JSON.stringify(waitingStage())));
  t.equal(one.json().pending.approveCommand, 'setopsd approve acme/shop/production --plan plan-1');

  const unknown = await call(h.server.url, 'GET', '/api/v1/stages/acme/shop/nope');
  t.equal(unknown.status, 404);
  t.same(unknown.json(), { error: { code: 'E_NOT_FOUND', message: 'stage acme/shop/nope is not managed by this daemon' } });

  const encodedSlash = await call(h.server.url, 'GET', '/api/v1/stages/acme/shop%2Fstaging/x');
  t.equal(encodedSlash.status, 404, 'an encoded "/" does not make another stage key');
  const badEncoding = await call(h.server.url, 'GET', '/api/v1/stages/acme/shop/%E0%A4%A');
  t.equal(badEncoding.status, 400);
  t.equal(badEncoding.json().error.code, 'E_USAGE');
});

t.test('GET deployments with ?limit=N', async (t) => {
  const h = await startHarness(t);
  h.view.history = [deployment({ number: 3 }), deployment({ number: 2 }), deployment({ number: 1 })];
  const res = await call(h.server.url, 'GET', '/api/v1/stages/acme/shop/staging/deployments?limit=2');
  t.equal(res.status, 200);
  t.same(
    res.json().deployments.map((d: { number: number }) => d.number),
    [3, 2],
  );
  t.equal(res.json().stage, 'acme/shop/staging');
  const dflt = await call(h.server.url, 'GET', '/api/v1/stages/acme/shop/staging/deployments');
  t.equal(dflt.json().deployments.length, 3);
  t.same(h.view.calls.deployments, [
    ['acme/shop/staging', 2],
    ['acme/shop/staging', 20],
  ]);
  for (const bad of ['0', '-1', 'abc', '501', '1.5', '']) {
    const r = await call(h.server.url, 'GET', `/api/v1/stages/acme/shop/staging/deployments?limit=${bad}`);
    t.equal(r.status, 400, `limit=${bad}`);
    t.equal(r.json().error.code, 'E_USAGE');
  }
  t.equal((await call(h.server.url, 'GET', '/api/v1/stages/acme/shop/nope/deployments')).status, 404);
});

t.test('GET /api/v1/revision: commit, validity and located issues', async (t) => {
  const h = await startHarness(t);
  t.same((await call(h.server.url, 'GET', '/api/v1/revision')).json(), { source: '/srv/config (branch main)', commit: '0123456789abcdef0123456789abcdef01234567', valid: true, issues: [] });
  h.view.rev = { commit: 'fedcba9876543210fedcba9876543210fedcba98', valid: false, issues: ISSUES, error: { code: 'E_VALIDATION', message: '2 problems in the manifests at fedcba98' } };
  const invalid = await call(h.server.url, 'GET', '/api/v1/revision');
  t.equal(invalid.status, 200);
  t.same(invalid.json(), { source: '/srv/config (branch main)', ...h.view.rev });
});

t.test('unknown paths are 404, a wrong method is 405 with Allow', async (t) => {
  const h = await startHarness(t);
  const missing = await call(h.server.url, 'GET', '/nope');
  t.equal(missing.status, 404);
  t.equal(missing.json().error.code, 'E_NOT_FOUND');
  const wrong = await call(h.server.url, 'GET', '/api/v1/sync');
  t.equal(wrong.status, 405);
  t.equal(wrong.headers.allow, 'POST');
  t.equal((await call(h.server.url, 'DELETE', '/api/v1/stages')).status, 405);
});

t.test('mutations need the bearer token: none or a wrong one is 401 and does nothing', async (t) => {
  const h = await startHarness(t);
  h.view.stageList = [stageView(), waitingStage()];
  const paths = ['/api/v1/stages/acme/shop/production/approve', '/api/v1/stages/acme/shop/staging/retry', '/api/v1/sync'];
  for (const path of paths) {
    for (const headers of [{}, bearer('wrong-token'), { authorization: h.token }, { authorization: `Basic ${h.token}` }, bearer(`${h.token}x`)]) {
      const res = await call(h.server.url, 'POST', path, { headers });
      t.equal(res.status, 401, `${path} with ${JSON.stringify(Object.keys(headers))}`);
      t.equal(res.json().error.code, 'E_UNAUTHORIZED');
      t.match(res.headers['www-authenticate'], /^Bearer/);
    }
  }
  t.same(h.view.calls, { approve: [], retry: [], sync: 0, deployments: [] }, 'nothing was done');

  const approve = await call(h.server.url, 'POST', paths[0]!, { headers: bearer(h.token) });
  t.equal(approve.status, 200);
  t.same(approve.json(), { stage: 'acme/shop/production', approved: 'plan-1' });
  const retry = await call(h.server.url, 'POST', paths[1]!, { headers: bearer(h.token) });
  t.equal(retry.status, 202);
  t.same(retry.json(), { stage: 'acme/shop/staging', retrying: true });
  const sync = await call(h.server.url, 'POST', paths[2]!, { headers: { authorization: `bearer  ${h.token}` } });
  t.equal(sync.status, 200, 'the scheme is case-insensitive');
  t.same(sync.json(), { synced: true });
  t.same(h.view.calls, { approve: [['acme/shop/production', undefined]], retry: ['acme/shop/staging'], sync: 1, deployments: [] });
});

t.test('approve: the plan id in the body, malformed bodies, UsageError → 409, unknown stage → 404', async (t) => {
  const h = await startHarness(t);
  h.view.stageList = [stageView(), waitingStage()];
  const url = '/api/v1/stages/acme/shop/production/approve';
  const auth = { ...bearer(h.token), 'content-type': 'application/json' };

  const named = await call(h.server.url, 'POST', url, { headers: auth, body: JSON.stringify({ plan: 'plan-1' }) });
  t.equal(named.status, 200);
  t.same(h.view.calls.approve.at(-1), ['acme/shop/production', 'plan-1']);

  const stale = await call(h.server.url, 'POST', url, { headers: auth, body: JSON.stringify({ plan: 'plan-0' }) });
  t.equal(stale.status, 409);
  t.same(stale.json(), { error: { code: 'E_USAGE', message: 'stage acme/shop/production: plan plan-0 is not the waiting plan (plan-1)' } });

  const nothingWaits = await call(h.server.url, 'POST', '/api/v1/stages/acme/shop/staging/approve', { headers: auth });
  t.equal(nothingWaits.status, 409);
  t.equal(nothingWaits.json().error.message, 'stage acme/shop/staging has no plan waiting for approval (it is ready)');

  const calls = h.view.calls.approve.length;
  for (const [body, why] of [
    ['{"plan":', 'not JSON'],
    ['[1]', 'not an object'],
    ['{"planId":"plan-1"}', 'a misspelt field'],
    ['{"plan":7}', 'a plan that is not a string'],
    ['{"plan":""}', 'an empty plan'],
  ] as const) {
    const res = await call(h.server.url, 'POST', url, { headers: auth, body });
    t.equal(res.status, 400, why);
    t.equal(res.json().error.code, 'E_USAGE', why);
  }
  t.equal(h.view.calls.approve.length, calls, 'a malformed body calls nothing');

  const unknown = await call(h.server.url, 'POST', '/api/v1/stages/acme/shop/nope/approve', { headers: auth });
  t.equal(unknown.status, 404);
  t.equal((await call(h.server.url, 'POST', '/api/v1/stages/acme/shop/nope/retry', { headers: auth })).status, 404);
});

t.test('errors: a SetopsError is 500 with its code and message; anything else 500 E_BUG without message or stack', async (t) => {
  const h = await startHarness(t);
  h.view.fail.sync = new SetopsError('/srv/config: cannot read refs/heads/main; check the repository', { code: 'E_MANIFEST' });
  const setops = await call(h.server.url, 'POST', '/api/v1/sync', { headers: bearer(h.token) });
  t.equal(setops.status, 500);
  t.same(setops.json(), { error: { code: 'E_MANIFEST', message: '/srv/config: cannot read refs/heads/main; check the repository' } });

  h.view.fail.retry = new EngineError('stage acme/shop/staging: cannot read status.json', { code: 'E_STATE_UNREADABLE' });
  const engine = await call(h.server.url, 'POST', '/api/v1/stages/acme/shop/staging/retry', { headers: bearer(h.token) });
  t.equal(engine.status, 500);
  t.equal(engine.json().error.code, 'E_STATE_UNREADABLE');

  h.view.fail.stages = new TypeError("Cannot read properties of undefined (reading 'state')");
  const bug = await call(h.server.url, 'GET', '/api/v1/stages');
  t.equal(bug.status, 500);
  t.equal(bug.json().error.code, 'E_BUG');
  t.notMatch(bug.body, /Cannot read|TypeError|\bat \S+ \(/, 'neither message nor stack');
  const page = await call(h.server.url, 'GET', '/');
  t.equal(page.status, 500);
  t.equal(page.json().error.code, 'E_BUG');

  h.view.fail.readiness = 'a thrown string';
  t.equal((await call(h.server.url, 'GET', '/readyz')).json().error.code, 'E_BUG');

  const logged = h.logs().filter((l) => l.msg === 'http: unexpected error (a bug in setopsd)');
  t.equal(logged.length, 3);
  t.equal(logged[0]!.error, 'TypeError');
  t.match(logged[0]!.frames, /^\s+at /, 'where it happened is logged');
  t.notMatch(JSON.stringify(logged), /Cannot read/, 'its message is not');
});

t.test('a body over 1 MiB is 413 and does nothing', async (t) => {
  const h = await startHarness(t);
  h.view.stageList = [waitingStage()];
  const big = JSON.stringify({ plan: 'x'.repeat(1024 * 1024) });
  const res = await call(h.server.url, 'POST', '/api/v1/stages/acme/shop/production/approve', { headers: bearer(h.token), body: big });
  t.equal(res.status, 413);
  t.equal(res.json().error.code, 'E_BODY_TOO_LARGE');
  const sync = await call(h.server.url, 'POST', '/api/v1/sync', { headers: bearer(h.token), body: Buffer.alloc(1024 * 1024 + 1, 0x20) });
  t.equal(sync.status, 413);
  const chunked = await call(h.server.url, 'POST', '/api/v1/sync', { headers: bearer(h.token), body: Buffer.alloc(3 * 1024 * 1024, 0x20), chunked: true });
  t.equal(chunked.status, 413, 'also when the size is known only as it arrives');
  const unauthorized = await call(h.server.url, 'POST', '/api/v1/sync', { body: Buffer.alloc(4 * 1024 * 1024, 0x20), chunked: true });
  t.equal(unauthorized.status, 401, 'a large body without the token is refused without reading it');
  t.equal(unauthorized.headers.connection, 'close');
  t.same(h.view.calls, { approve: [], retry: [], sync: 0, deployments: [] });
  const exactly = await call(h.server.url, 'POST', '/api/v1/sync', { headers: bearer(h.token), body: Buffer.alloc(1024 * 1024, 0x20) });
  t.equal(exactly.status, 200, '1 MiB itself is allowed');
  t.equal((await call(h.server.url, 'GET', '/healthz')).status, 200, 'the server still answers');
});

t.test('every request is logged once at debug level, without its headers or query', async (t) => {
  const h = await startHarness(t);
  await call(h.server.url, 'GET', '/healthz');
  await call(h.server.url, 'POST', '/api/v1/sync', { headers: bearer(h.token) });
  await call(h.server.url, 'GET', '/api/v1/stages/acme/shop/staging/deployments?limit=1');
  await call(h.server.url, 'GET', '/missing');
  await waitFor(() => h.logs().filter((l) => l.msg === 'http request').length === 4, 'four request lines');
  const lines = h.logs().filter((l) => l.msg === 'http request');
  t.same(
    lines.map((l) => [l.level, l.method, l.path, l.status]),
    [
      [20, 'GET', '/healthz', 200],
      [20, 'POST', '/api/v1/sync', 200],
      [20, 'GET', '/api/v1/stages/acme/shop/staging/deployments', 200],
      [20, 'GET', '/missing', 404],
    ],
  );
  for (const l of lines) t.type(l.ms, 'number');
  t.notMatch(h.rawLogs(), new RegExp(`${h.token}|authorization|limit=`, 'i'));
});

t.test('the server refuses an empty token and an address in use', async (t) => {
  await t.rejects(startHarness(t, { token: '' }), { code: 'E_USAGE', message: /token is empty/ });
  const h = await startHarness(t);
  const port = Number(new URL(h.server.url).port);
  await t.rejects(startHarness(t, { listen: { host: '127.0.0.1', port } }), { code: 'E_USAGE', message: new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: EADDRINUSE`) });
});
