/**
 * The corpus check: every recorded Pulumi engine event stream under test/fixtures/pulumi (copied
 * from pulumi/pulumi with its LICENSE and PROVENANCE.md; add more there) is fed through the
 * translation and compared with the stream's own `summaryEvent`: the resource counts the
 * translation derives from the steps equal Pulumi's `resourceChanges`, and the outcome agrees
 * with the summary's `result` where the stream has one. Interrupted streams are left out of the
 * count check: Pulumi counts steps still in flight there.
 */
import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { translateEvents } from '../../../../src/providers/aws/engine/events/translate.js';
import type { SummaryEventBody } from '../../../../src/providers/aws/engine/events/types.js';
import { parseEventStream } from './event-stream.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/pulumi');

function streams(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) return streams(p);
      return name.endsWith('.json') && !p.includes('/stack/testdata/') && !p.includes('/apitype/') ? [p] : [];
    });
}

const files = streams(join(fixtures, 'pkg'));
t.ok(files.length >= 19, `${files.length} recorded streams`);

let compared = 0;
for (const file of files) {
  const events = parseEventStream(readFileSync(file, 'utf8'));
  const summaries = events.map((e) => e.summaryEvent as SummaryEventBody | undefined).filter((s) => s !== undefined);
  if (summaries.length === 0) continue;
  const sum = summaries[summaries.length - 1]!;
  t.test(relative(fixtures, file), async (t) => {
    const tr = translateEvents(events);
    if (sum.result === 'succeeded' || sum.result === 'failed') t.equal(tr.outcome, sum.result, "the outcome is the summary's result");
    if (tr.outcome !== 'interrupted') {
      compared++;
      const want = Object.fromEntries(Object.entries(sum.resourceChanges ?? {}).filter(([, n]) => n > 0).sort());
      t.same(tr.counts, want, 'counts from the steps = summaryEvent.resourceChanges');
    }
  });
}

t.test('most streams are compared', async (t) => {
  t.ok(compared >= 15, `${compared} streams compared with their summary`);
});

t.test('every recorded checkpoint is read, or refused with a located E_PULUMI_STATE error', async (t) => {
  const { parseCheckpoint } = await import('../../../../src/providers/aws/engine/checkpoint.js');
  const dir = join(fixtures, 'pkg/resource/stack/testdata');
  const files = readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
  t.ok(files.length >= 5, `${files.length} checkpoints`);
  for (const name of files) {
    const text = readFileSync(join(dir, name), 'utf8');
    try {
      const info = parseCheckpoint(text, name);
      t.ok(info.resourceCount > 0, `${name}: read (${info.resourceCount} resources)`);
    } catch (err) {
      t.match(err, { code: 'E_PULUMI_STATE', message: new RegExp(`^${name}: `) }, `${name}: refused with a located error`);
    }
  }
});
