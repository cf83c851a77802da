import type { StagePlan } from '../reconciler/stage-plan.js';
import { addSummaries, summaryLine } from '../reconciler/summary.js';
import { changeText, marker } from './describe.js';
import type { Change } from '../model/changeset.js';
import { policyLines, policyTotal } from './policies.js';
import { costLines } from './cost.js';

/** Options of the text renderer. */
export interface TextOptions {
  /** ANSI colours (only on a terminal and without NO_COLOR; see `useColor`). */
  color: boolean;
  /** Name the manifest files behind each change (`plan --base/--head`, `diff`). */
  showFiles?: boolean;
}

/** Colour on a TTY unless `NO_COLOR` is set (https://no-color.org). */
export function useColor(deps: { isTTY: { stdout: boolean }; env: Record<string, string | undefined> }): boolean {
  return deps.isTTY.stdout && (deps.env.NO_COLOR === undefined || deps.env.NO_COLOR === '');
}

const CODES = { green: 32, yellow: 33, red: 31, magenta: 35, bold: 1, dim: 2 } as const;

function paint(on: boolean, style: keyof typeof CODES, s: string): string {
  return on ? `\u001b[${CODES[style]}m${s}\u001b[0m` : s;
}

function opColor(op: Change['op']): keyof typeof CODES {
  return op === 'create' ? 'green' : op === 'update' ? 'yellow' : op === 'replace' ? 'magenta' : 'red';
}

/** Header of a stage: key, engine and the actual serial it was planned against. */
export function stageHeader(p: StagePlan): string {
  if (p.compare) return `${p.key} (${p.compare.base} → ${p.compare.head})`;
  const serial = p.actual.serial === null ? 'nothing deployed' : `state serial ${p.actual.serial}`;
  return `${p.key} (${p.engine} engine, ${serial})`;
}

/** The warnings of every stage, first in every format: refusals, then data loss. */
export function warningLines(plans: readonly StagePlan[]): string[] {
  const problems = plans.flatMap((p) => p.problems);
  return [
    ...problems.filter((p) => p.refused).map((p) => `refused: ${p.message}`),
    ...problems.filter((p) => !p.refused).map((p) => `data loss: ${p.message}`),
  ];
}

/** The change lines of one stage (marker + text), without colour. */
export function stageChangeLines(p: StagePlan, showFiles = false): { op: Change['op'] | null; text: string }[] {
  const out: { op: Change['op'] | null; text: string }[] = [];
  for (const c of p.changeset.changes) {
    out.push({ op: c.op, text: `${marker(c.op)} ${changeText(c, p.desired, p.actual.model)}` });
    const files = p.files[c.subject];
    if (showFiles && files && files.length > 0) out.push({ op: null, text: `  from ${files.join(', ')}` });
  }
  if (p.resources.length > 0) {
    out.push({ op: null, text: 'resources (engine preview):' });
    for (const c of p.resources) out.push({ op: c.op, text: `  ${marker(c.op)} ${changeText(c, null, null)}` });
  }
  for (const note of p.notes) out.push({ op: null, text: `note: ${note}` });
  return out;
}

/** Text plan: warnings first, then each stage's changes and one-line summary, then the total. */
export function renderText(plans: readonly StagePlan[], opts: TextOptions): string {
  const { color } = opts;
  const lines: string[] = [];
  const warnings = warningLines(plans);
  if (warnings.length > 0) {
    lines.push(paint(color, 'bold', paint(color, 'red', 'Warnings:')));
    for (const w of warnings) lines.push(`  ${paint(color, 'red', w)}`);
    lines.push('');
  }
  let inSync = 0;
  for (const p of plans) {
    if (p.changeset.changes.length === 0 && p.resources.length === 0) {
      inSync += 1;
      lines.push(`${paint(color, 'bold', p.key)}: no changes ${stageHeader(p).slice(p.key.length + 1)}`);
      for (const note of p.notes) lines.push(`  note: ${note}`);
      for (const l of policyLines(p)) lines.push(`  ${paint(color, 'yellow', l)}`);
      for (const l of costLines(p)) lines.push(`  ${l}`);
      continue;
    }
    lines.push(paint(color, 'bold', stageHeader(p)));
    for (const l of stageChangeLines(p, opts.showFiles)) lines.push(`  ${l.op === null ? paint(color, 'dim', l.text) : paint(color, opColor(l.op), l.text)}`);
    for (const l of policyLines(p)) lines.push(`  ${paint(color, 'yellow', l)}`);
    for (const l of costLines(p)) lines.push(`  ${l}`);
    lines.push(`  ${p.key}: ${summaryLine(p.summary)}`);
    lines.push('');
  }
  if (plans.length > 0 && lines[lines.length - 1] !== '') lines.push('');
  lines.push(totalLine(plans, inSync));
  const policies = policyTotal(plans);
  if (policies !== null) lines.push(`Policies: ${policies}.`);
  return lines.join('\n') + '\n';
}

/** `Plan: … across N stages (M in sync).` or `No changes: N stages in sync.` */
export function totalLine(plans: readonly StagePlan[], inSync: number): string {
  const stages = (n: number): string => `${n} stage${n === 1 ? '' : 's'}`;
  if (plans.length === 0) return 'No stages to plan.';
  const total = addSummaries(plans.map((p) => p.summary));
  if (inSync === plans.length) return `No changes: ${stages(plans.length)} in sync.`;
  return `Plan: ${summaryLine(total)} across ${stages(plans.length)} (${inSync} in sync).`;
}
