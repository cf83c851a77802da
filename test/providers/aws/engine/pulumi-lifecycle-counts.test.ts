/**
 * Counting as Pulumi counts, over a committed subset of pulumi/pulumi's lifecycle-test event
 * streams (test/fixtures/pulumi, PROVENANCE.md): one stream per rule of Pulumi's own counting
 * (`pkg/engine/update.go`, `OnResourceStepPost` of the update and the preview actions: a step is
 * counted when it finished without error, `record && !isInternalStep`). For each, the counts the
 * translation derives from the steps equal the stream's summaryEvent.resourceChanges, and the
 * rule's own effect is checked.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { translateEvents } from '../../../../src/providers/aws/engine/events/translate.js';
import type { SummaryEventBody } from '../../../../src/providers/aws/engine/events/types.js';
import { parseEventStream } from './event-stream.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/pulumi/pkg/engine/lifecycletest/testdata/output');

const CASES: { stream: string; rule: string; counts: Record<string, number> }[] = [
  { stream: 'TestAliasesInDeletedWithAreNormalized/0', rule: 'component resources count: their steps send no outputs event', counts: { create: 4 } },
  { stream: 'TestBadResourceType/-0-0', rule: 'components count although the program then fails', counts: { create: 2 } },
  { stream: 'TestComponentOutputs/-0-0', rule: 'a component that registers outputs after its step counts once', counts: { create: 1 } },
  { stream: 'TestComponentOutputs/-1-0-preview', rule: 'a planned refresh counts what it would find (same)', counts: { same: 1 } },
  { stream: 'TestRefreshBasics/3-0-0-preview', rule: 'each refresh pass counts: two planned deletes under one URN', counts: { delete: 2 } },
  { stream: 'TestRefreshWithProgramWithDeletedResource/1', rule: 'a refresh counts its result, and the step after it counts too', counts: { delete: 1, same: 2 } },
  { stream: 'TestRefreshBeforeUpdate/-0-3', rule: 'a refresh inside an update reports op refresh and does not count; the same of the stack does', counts: { same: 1, update: 1 } },
  { stream: 'TestStackReference/-2-0-preview', rule: 'a read counts only when it changed the outputs (judged at its outputs event)', counts: {} },
  { stream: 'TestComponentReadResourceOutputCanBeHydratedByProgram/0', rule: 'a read that changed nothing does not count; the component does', counts: { create: 1 } },
  { stream: 'TestMultipleProtectedDeletes/1', rule: 'planned deletes that fail (protected) are taken back', counts: { same: 1 } },
  { stream: 'TestComputedCanBeDropped/0', rule: 'a step whose outputs are reported twice counts once', counts: { create: 2 } },
  { stream: 'TestViewsCreateBeforeReplace/2', rule: 'only the replace step of a replacement counts, views included', counts: { replace: 1, update: 1 } },
  { stream: 'TestDestroyWithProgramWithComponents/1', rule: 'component deletes count (they send outputs events)', counts: { delete: 2, same: 2 } },
  { stream: 'TestProviderVersionDefault/-1-0', rule: 'refresh results count; default providers never', counts: { same: 2 } },
  { stream: 'TestComponentToCustomUpdate/2', rule: 'a component replaced by a custom resource is one replace', counts: { replace: 1 } },
];

for (const c of CASES) {
  t.test(`${c.stream}: ${c.rule}`, async (t) => {
    const events = parseEventStream(readFileSync(join(dir, c.stream, 'eventstream.json'), 'utf8'));
    const summary = events.map((e) => e.summaryEvent as SummaryEventBody | undefined).filter((s) => s !== undefined).pop()!;
    const want = Object.fromEntries(Object.entries(summary.resourceChanges ?? {}).filter(([, n]) => n > 0).sort());
    t.same(want, c.counts, "the stream's summaryEvent says so");
    t.same(translateEvents(events).counts, want, 'counted from the steps as Pulumi counts');
  });
}
