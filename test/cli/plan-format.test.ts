import t from 'tap';
import { planStage } from '../../src/reconciler/stage-plan.js';
import { renderText } from '../../src/render/text.js';
import { renderMarkdown } from '../../src/render/markdown.js';
import { renderJson } from '../../src/render/json.js';
import { app, service, stage } from '../helpers/models.js';

function sample() {
  const actual = stage({ apps: { web: app({ env: { TOKEN: { secret: 'tok-1' } } }) }, services: { db: service('postgresql', { plan: undefined }) } });
  const desired = stage({ apps: { web: app({ protocol: 'tcp', env: { TOKEN: { secret: 'tok-2' } }, command: 'echo ``` <b>' }) } });
  const p = planStage(desired, { model: actual, serial: '7' }, 'pulumi');
  p.resources = [{ op: 'create', subject: 'resource/aws:ecs/service:Service/web', dataLoss: false, command: '# pulumi up' }];
  p.notes = ['resource preview partial'];
  return p;
}

t.test('text: warnings first, replace marker, resources and notes, colour codes per op', async (t) => {
  const text = renderText([sample()], { color: false });
  t.equal(
    text,
    [
      'Warnings:',
      '  data loss: service/db in acme/shop/staging: deleting it destroys its data; apply needs --allow-data-loss',
      '',
      'acme/shop/staging (pulumi engine, state serial 7)',
      '  -/+ app/web protocol: "http" → "tcp" (protocol cannot change in place)',
      '  - service/db (postgresql 16) [data loss]',
      '  resources (engine preview):',
      '    + resource/aws:ecs/service:Service/web',
      '  note: resource preview partial',
      '  acme/shop/staging: 0 to create, 0 to update, 1 to replace, 1 to delete, 1 with data loss',
      '',
      'Plan: 0 to create, 0 to update, 1 to replace, 1 to delete, 1 with data loss across 1 stage (0 in sync).',
      '',
    ].join('\n'),
  );
  const colour = renderText([sample()], { color: true });
  t.match(colour, '\u001b[35m-/+ app/web');
  t.match(colour, '\u001b[31m- service/db');
  t.equal(colour.replace(/\u001b\[\d+m/g, ''), text, 'colour adds escape codes only');
});

t.test('markdown: escapes HTML outside code, fences longer than any backtick run in the content', async (t) => {
  const p = sample();
  // A change whose value holds backticks and HTML.
  p.changeset.changes.push({ op: 'update', subject: 'app/web', path: 'command', before: undefined, after: 'echo ``` <b>', dataLoss: false, command: "x '```'" });
  const md = renderMarkdown([p], { source: { ref: 'main', commit: 'c'.repeat(40) } });
  t.match(md, /^### setopsd plan\n\nSource: `main` \(cccccccccccc\)\n/);
  t.match(md, '> [!CAUTION]');
  t.ok(md.indexOf('[!CAUTION]') < md.indexOf('| Stage |'), 'warnings before the table');
  t.match(md, '````diff\n');
  t.match(md, '````sh\n');
  t.notMatch(md, /<b>(?![^`]*````)/, 'no raw HTML outside code blocks');
});

t.test('markdown: a tiny limit keeps the total and says what was cut', async (t) => {
  const plans = Array.from({ length: 50 }, (_, i) => planStage(stage({ name: `st-${String(i).padStart(3, '0')}`, apps: { web: app() } }), { model: null, serial: null }, 'local'));
  const md = renderMarkdown(plans, { source: {}, limit: 2000 });
  t.ok(md.length <= 2000, `length ${md.length}`);
  t.match(md, '| **Total** | | | 100 | 0 | 0 | 0 | 0 |');
  t.match(md, /\*\*50 of 50 stage details were cut\*\*/);
  t.match(md, /table rows were cut; the Total row counts every stage/);
});

t.test('json: contract fields, secrets masked, deterministic', async (t) => {
  const json = renderJson([sample()], { ref: 'main', commit: 'c'.repeat(40) });
  const doc = JSON.parse(json);
  t.match(doc, {
    formatVersion: 1,
    source: { ref: 'main', commit: 'c'.repeat(40) },
    stages: [{ organization: 'acme', project: 'shop', stage: 'staging', engine: 'pulumi', actualSerial: '7', desiredHash: /^sha256:[0-9a-f]{64}$/ }],
    summary: { create: 0, update: 0, replace: 1, delete: 1, dataLoss: 1 },
  });
  t.notMatch(json, /tok-1"\s*}/, 'no secret objects');
  t.equal(renderJson([sample()], { ref: 'main', commit: 'c'.repeat(40) }), json);
});

t.test('markdown never exceeds its limit and always keeps the Total row (property)', async (t) => {
  const fc = (await import('fast-check')).default;
  const { stageModel } = await import('../reconciler/arbitraries.js');
  fc.assert(
    fc.property(fc.array(fc.tuple(stageModel, fc.option(stageModel, { nil: null })), { minLength: 1, maxLength: 30 }), fc.integer({ min: 1200, max: 20_000 }), (pairs, limit) => {
      const plans = pairs.flatMap(([desired, actual], i) => {
        const name = `s-${String(i).padStart(3, '0')}`;
        const d = { ...desired, stage: { ...desired.stage, name } };
        const a = actual && { ...actual, stage: { ...actual.stage, name } };
        try {
          return [planStage(d, { model: a, serial: a ? '1' : null }, 'local')];
        } catch {
          return []; // a refused major-version downgrade
        }
      });
      const md = renderMarkdown(plans, { source: {}, limit });
      return md.length <= limit && (plans.length === 0 || md.includes('| **Total** |'));
    }),
    { numRuns: 100 },
  );
  t.pass('property held');
});
