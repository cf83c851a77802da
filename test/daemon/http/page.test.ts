import t from 'tap';
import { createHash } from 'node:crypto';
import { STATUS_PAGE_CSP, esc, groupByProject, renderStatusPage, type StatusPageInput } from '../../../src/daemon/http/page.js';
import { PAGE_SCRIPT, PAGE_STYLE } from '../../../src/daemon/http/page-assets.js';
import { ISSUES, stageView, waitingStage } from './fake-view.js';
import { record } from './fixtures.js';
import { call, startHarness } from './harness.js';

function input(over: Partial<StatusPageInput> = {}): StatusPageInput {
  return {
    source: '/srv/config (branch main)',
    revision: { commit: '0123456789abcdef0123456789abcdef01234567', valid: true, issues: [] },
    stages: [stageView(), waitingStage()],
    refreshSeconds: 5,
    generatedAt: '2026-01-01T00:00:10.000Z',
    ...over,
  };
}

t.test('stages form a pipeline in after: order, per project', async (t) => {
  const stages = [
    stageView({ stage: 'production', after: 'staging' }),
    stageView({ stage: 'canary', after: 'staging' }),
    stageView({ stage: 'staging', after: 'dev' }),
    stageView({ stage: 'dev' }),
    stageView({ project: 'blog', stage: 'live', after: 'gone' }),
  ];
  t.same(
    groupByProject(stages).map((p) => [p.name, p.columns.map((c) => c.map((s) => s.stage))]),
    [
      ['acme/shop', [['dev'], ['staging'], ['production', 'canary']]],
      ['acme/blog', [['live']]],
    ],
  );
  const html = renderStatusPage(input({ stages }));
  const order = ['dev', 'staging', 'production'].map((s) => html.indexOf(`data-stage="acme/shop/${s}"`));
  t.ok(order[0]! < order[1]! && order[1]! < order[2]!, 'each stage comes after (to the right of) the one it follows');
});

t.test('a cycle of after: (which validation refuses) still renders every stage', async (t) => {
  const stages = [stageView({ stage: 'a', after: 'b' }), stageView({ stage: 'b', after: 'a' })];
  const cols = groupByProject(stages)[0]!.columns.flat().map((s) => s.stage);
  t.same(cols.sort(), ['a', 'b']);
});

t.test('a stage shows its status, reason, message, commits, last deployment and failures', async (t) => {
  const failed = stageView({
    stage: 'staging',
    record: record({ state: 'failed', reason: 'E_UNHEALTHY', message: 'app web did not pass its health check', failures: 2, lastAttemptedRevision: 'fedcba9876543210fedcba9876543210fedcba98' }),
    lastDeployment: { number: 4, status: 'failed', commit: 'fedcba98', startedAt: '2026-01-01T00:01:00.000Z', endedAt: '2026-01-01T00:01:09.500Z', kind: 'apply' },
  });
  const html = renderStatusPage(input({ stages: [failed] }));
  t.match(html, /class="stage state-failed"/);
  t.match(html, /<span class="badge">failed<\/span> <code class="reason">E_UNHEALTHY<\/code>/);
  t.match(html, /app web did not pass its health check/);
  t.match(html, /<dt>applied<\/dt><dd><code title="0123456789abcdef0123456789abcdef01234567">0123456789ab<\/code>/);
  t.match(html, /<dt>attempted<\/dt><dd><code title="fedcba9876543210fedcba9876543210fedcba98">fedcba987654<\/code>/);
  t.match(html, /<dt>last deployment<\/dt><dd>#4 apply <span class="deploy-failed">failed<\/span> <time datetime="2026-01-01T00:01:09.500Z">2026-01-01 00:01:09Z<\/time>/);
  t.match(html, /<dt>failures<\/dt><dd>2<\/dd>/);
  t.match(html, /<meta http-equiv="refresh" content="5">/);
});

t.test('waiting-approval shows the pending changes and the command that approves the plan', async (t) => {
  const html = renderStatusPage(input());
  t.match(html, /2 changes wait for approval \(plan <code>plan-1<\/code>\)/);
  t.match(html, /<code>~ app\/web scale: 1 → 3<\/code>/);
  t.match(html, /class="op-delete data-loss"><code>- service\/cache \[data loss\]<\/code>/);
  t.match(html, /<code class="approve">setopsd approve acme\/shop\/production --plan plan-1<\/code>/);
});

t.test('an invalid newest commit shows its problems as file:line:col: /pointer: message', async (t) => {
  const html = renderStatusPage(input({ revision: { commit: 'fedcba98', valid: false, issues: ISSUES, error: { code: 'E_VALIDATION', message: '2 problems' } } }));
  t.match(html, /<span class="invalid">invalid<\/span>/);
  t.match(html, /The newest commit is invalid: 2 problems/);
  t.match(html, /<li><code>acme\/shop\/stage\.yaml:3:7: \/spec\/after: must be a stage of the same project<\/code><\/li>/);
  t.match(html, /acme\/shop\/apps\/web\.yaml:12:5: \/spec\/port: must be &lt;= 65535/);
  const sourceError = renderStatusPage(input({ revision: { commit: null, valid: true, issues: [], error: { code: 'E_MANIFEST', message: 'cannot read refs/heads/main' } } }));
  t.match(sourceError, /<h2>E_MANIFEST<\/h2><p>cannot read refs\/heads\/main<\/p>/);
});

t.test('a preview stage links its pull request apps; a pinned stage says how to unpin it', async (t) => {
  const preview = stageView({ stage: 'pr-7', preview: { number: 7, branch: 'feature/login', commit: 'abc', urls: { web: 'http://web.pr-7.shop.localhost:8080/', api: 'javascript:alert(1)' } } });
  const pinned = stageView({ stage: 'production', pin: { deployment: 3, reason: 'rollback', commit: 'abc', since: '2026-01-01T00:00:00.000Z', message: 'pinned at #3' } });
  const html = renderStatusPage(input({ stages: [preview, pinned] }));
  t.match(html, /<dt>preview<\/dt><dd>#7 <code>feature\/login<\/code> api <code>javascript:alert\(1\)<\/code>, <a href="http:\/\/web\.pr-7\.shop\.localhost:8080\/">web<\/a><\/dd>/);
  t.notMatch(html, /href="javascript/, 'only http(s) URLs become links');
  t.match(html, /<dt>pinned<\/dt><dd>at #3 \(a rollback\) <code>setopsd unpin acme\/shop\/production<\/code><\/dd>/);
});

t.test('every value is escaped', async (t) => {
  const evil = '<script>alert(1)</script>"\'&';
  const stage = stageView({ record: record({ state: 'failed', reason: evil, message: evil }), after: evil });
  const waiting = waitingStage();
  waiting.pending!.changes[0]!.after = evil;
  waiting.pending!.approveCommand = evil;
  const html = renderStatusPage(
    input({
      source: evil,
      stages: [stage, waiting],
      revision: { commit: evil, valid: false, issues: [{ file: evil, line: 1, col: 1, pointer: '/x', message: evil }] },
    }),
  );
  t.equal(html.match(/<script>/g)?.length, 1, 'the page has its own script and no other');
  t.notMatch(html, /alert\(1\)<\/script>/);
  t.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;&quot;&#39;&amp;/);
  t.equal(esc('a"b\'c<d>e&f'), 'a&quot;b&#39;c&lt;d&gt;e&amp;f');
});

t.test('GET / serves the page with a CSP that allows only its own style and script', async (t) => {
  const h = await startHarness(t);
  h.view.stageList = [stageView(), waitingStage()];
  const res = await call(h.server.url, 'GET', '/');
  t.equal(res.status, 200);
  t.match(res.headers['content-type'], /^text\/html; charset=utf-8/);
  t.equal(res.headers['content-security-policy'], STATUS_PAGE_CSP);
  const hash = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;
  t.match(STATUS_PAGE_CSP, `script-src ${hash(PAGE_SCRIPT)}`);
  t.match(STATUS_PAGE_CSP, `style-src ${hash(PAGE_STYLE)}`);
  t.match(res.body, `<script>${PAGE_SCRIPT}</script>`, 'the inline script is exactly the hashed one');
  t.match(res.body, `<style>${PAGE_STYLE}</style>`);
  t.match(res.body, /data-stage="acme\/shop\/production" data-state="waiting-approval"/);
});
