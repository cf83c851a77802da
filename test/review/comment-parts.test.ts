/** Splitting a long markdown plan into numbered comments (pure): fences and <details> stay intact. */
import t from 'tap';
import { commentMarker, parseMarker, splitComment } from '../../src/render/comment-parts.js';

/** Every fence opened in a part is closed in it, and so is every <details>. */
function balanced(part: string): { fences: boolean; details: boolean } {
  let inFence: string | null = null;
  let details = 0;
  for (const line of part.split('\n')) {
    if (inFence !== null) {
      if (line === inFence) inFence = null;
      continue;
    }
    const f = /^(`{3,})/.exec(line);
    if (f) inFence = f[1]!;
    else if (line.startsWith('<details')) details += 1;
    else if (line === '</details>') details -= 1;
  }
  return { fences: inFence === null, details: details === 0 };
}

function stageBlock(i: number, lines: number): string {
  const diff = Array.from({ length: lines }, (_, k) => `! ~ app/worker-${k} env.LEVEL: info → debug ${'.'.repeat(40)}`).join('\n');
  return `<details><summary><code>acme/shop/stage-${i}</code>: 0 to create, ${lines} to update</summary>\n\nacme/shop/stage-${i}\n\n\`\`\`diff\n${diff}\n\`\`\`\n\n</details>\n`;
}

t.test('the marker names the config directory and the part', async (t) => {
  t.equal(commentMarker('config'), '<!-- setopsd:plan dir=config -->');
  t.equal(commentMarker('a dir/x', 3), '<!-- setopsd:plan dir=a%20dir%2Fx part=3 -->');
  t.same(parseMarker(`${commentMarker('a dir/x', 3)}\nbody`), { dir: 'a dir/x', part: 3 });
  t.same(parseMarker(commentMarker('')), { dir: '.', part: 1 });
  t.equal(parseMarker('LGTM <!-- setopsd:plan dir=config -->'), null, 'only a comment that starts with the marker');
});

t.test('a short plan is one part with the marker in front', async (t) => {
  const parts = splitComment('### setopsd plan\n\nNo changes.\n', 'config');
  t.same(parts, ['<!-- setopsd:plan dir=config -->\n### setopsd plan\n\nNo changes.\n']);
});

t.test('many stages: parts end between stages, each under the limit, numbered', async (t) => {
  const md = ['### setopsd plan', '', ...Array.from({ length: 40 }, (_, i) => stageBlock(i, 30))].join('\n');
  const parts = splitComment(md, '.', 20_000);
  t.ok(parts.length > 3, `${parts.length} parts`);
  for (const [i, p] of parts.entries()) {
    t.ok(p.length <= 20_000, `part ${i + 1}: ${p.length} characters`);
    t.same(balanced(p), { fences: true, details: true }, `part ${i + 1} balanced`);
    t.same(parseMarker(p), { dir: '.', part: i + 1 });
    if (i > 0) t.match(p, new RegExp(`\\*\\*setopsd plan, part ${i + 1} of ${parts.length}\\*\\*`));
    if (i > 0) t.notMatch(p, /\(continued\)<\/summary>/, 'cut between stages, not inside one');
  }
  t.match(parts[0]!, new RegExp(`This plan is split into ${parts.length} comments`));
  // Nothing lost: the stage blocks of all parts together are the original ones.
  const blocks = parts.join('\n').match(/<details><summary><code>acme\/shop\/stage-\d+<\/code>/g)!;
  t.equal(blocks.length, 40);
});

t.test('one stage longer than a part: its fence and <details> are closed and reopened', async (t) => {
  const md = ['### setopsd plan', '', stageBlock(1, 600)].join('\n');
  const parts = splitComment(md, 'config', 10_000);
  t.ok(parts.length >= 4, `${parts.length} parts`);
  for (const [i, p] of parts.entries()) {
    t.ok(p.length <= 10_000, `part ${i + 1}: ${p.length} characters`);
    t.same(balanced(p), { fences: true, details: true }, `part ${i + 1} balanced`);
    if (i > 0) t.match(p, /<details><summary><code>acme\/shop\/stage-1<\/code>: 0 to create, 600 to update \(continued\)<\/summary>/);
    if (i > 0) t.match(p, /```diff\n! ~ app\/worker-/, 'the diff fence reopens with its language');
  }
  const lines = parts.join('\n').match(/^! ~ app\/worker-\d+ /gm)!;
  t.equal(lines.length, 600, 'every line kept, none twice');
});

t.test('a fence with a longer backtick run is not closed by a shorter one', async (t) => {
  const body = ['````sh', '```', 'inner', '```', ...Array.from({ length: 400 }, (_, i) => `line ${i} ${'x'.repeat(50)}`), '````'].join('\n');
  const parts = splitComment(body, '.', 8_000);
  t.ok(parts.length > 1);
  for (const p of parts) t.same(balanced(p).fences, true);
  t.match(parts[1]!, /^<!-- setopsd:plan dir=\. part=2 -->\n\*\*setopsd plan, part 2 of \d+\*\* \(continued from the comment above\)\n\n````sh\n/);
});
