import t from 'tap';
import { randomBytes } from 'node:crypto';
import { get } from 'node:http';
import { stageView, waitingStage } from './fake-view.js';
import { bearer, call, startHarness, waitFor, type Got } from './harness.js';

/**
 * Canaries: the API token and a secret-like message the daemon must never repeat. Every response
 * (status line aside: headers and body) and every log line is searched for them.
 */
t.test('the API token and a secret in an unexpected error reach neither responses nor logs', async (t) => {
  const token = `canary-api-token-${randomBytes(12).toString('hex')}`;
  const secret = `canary-secret-${randomBytes(12).toString('hex')}`;
  const h = await startHarness(t, { token });
  h.view.stageList = [stageView(), waitingStage()];
  const responses: Got[] = [];
  const record = async (p: Promise<Got>) => {
    const got = await p;
    responses.push(got);
    return got;
  };
  const paths = ['/api/v1/stages/acme/shop/production/approve', '/api/v1/stages/acme/shop/staging/retry', '/api/v1/sync'];

  // Right, wrong, near-miss and malformed tokens, and the token in a body and a query.
  for (const path of paths) {
    for (const headers of [bearer(token), bearer(`${token}0`), bearer(token.slice(0, -1)), { authorization: token }, { authorization: `Bearer ${token} ${token}` }]) {
      await record(call(h.server.url, 'POST', `${path}?token=${token}`, { headers, body: JSON.stringify({ plan: token }) }));
    }
  }
  t.ok(responses.some((r) => r.status === 401) && responses.some((r) => r.status === 409), 'refused and view-refused requests were made');

  // A bug whose message holds a secret (an unexpected error is no SetopsError: its message is not vetted).
  h.view.fail.sync = new Error(`connect ECONNREFUSED postgres://admin:${secret}@db.internal:5432`);
  h.view.fail.stages = Object.assign(new Error(`API_KEY=${secret}`), { secret });
  const bug = await record(call(h.server.url, 'POST', '/api/v1/sync', { headers: bearer(token) }));
  t.equal(bug.status, 500);
  t.equal(bug.json().error.code, 'E_BUG');
  await record(call(h.server.url, 'GET', '/api/v1/stages', { headers: bearer(token) }));
  await record(call(h.server.url, 'GET', '/', { headers: bearer(token) }));
  await record(call(h.server.url, 'GET', `/api/v1/stages/acme/shop/${token}`, { headers: bearer(token) }));
  await record(call(h.server.url, 'GET', `/${token}`));
  for (const path of ['/healthz', '/readyz', '/metrics', '/api/v1/revision', '/api/v1/stages/acme/shop/staging', '/api/v1/stages/acme/shop/staging/deployments', '/nope']) {
    await record(call(h.server.url, 'GET', path, { headers: bearer(token) }));
  }

  // The event stream, opened with the token.
  const stream = await new Promise<string>((resolve, reject) => {
    get(`${h.server.url}/api/v1/events`, { headers: bearer(token) }, (res) => {
      let body = JSON.stringify(res.headers);
      res.on('data', (c: Buffer) => {
        body += c.toString();
        if (body.includes('event: held')) {
          res.destroy();
          resolve(body);
        }
      });
      waitFor(() => h.view.subscribers === 1, 'the subscription').then(() => h.view.publish({ type: 'held', stage: 'acme/shop/staging', reason: `an event that echoes ${token}` }), reject);
    }).on('error', reject);
  });

  const everything = [...responses.map((r) => JSON.stringify(r.headers) + r.body), stream].join('\n');
  t.same(responses.filter((r) => (JSON.stringify(r.headers) + r.body).includes(token)).map((r) => r.body), [], 'no response holds the token');
  t.notOk(everything.includes(secret), 'no response holds the secret');
  await waitFor(() => h.logs().filter((l) => l.msg === 'http request').length === responses.length + 1, 'every request logged');
  const logs = h.rawLogs();
  t.notOk(logs.includes(token), 'no log line holds the token');
  t.notOk(logs.includes(secret), 'no log line holds the secret');
  t.notMatch(logs, /authorization|bearer/i, 'no log line holds an Authorization header');
  t.match(logs, /unexpected error \(a bug in setopsd\)/, 'the bug itself is logged');
  t.match(everything, /\[redacted\]/, 'an echoed token is redacted');
});
