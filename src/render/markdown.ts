import type { StagePlan } from '../reconciler/stage-plan.js';
import { addSummaries, summaryLine } from '../reconciler/summary.js';
import type { PlanSource } from '../reconciler/plan-document.js';
import { stageChangeLines, stageHeader, totalLine, warningLines } from './text.js';
import { policyMarkdown } from './policies.js';
import { costMarkdown } from './cost.js';

/** GitHub rejects comments over 65,536 characters; stay below with room to spare. */
export const MARKDOWN_LIMIT = 65_000;

/** Options of the markdown renderer. */
export interface MarkdownOptions {
  source: PlanSource;
  /** Name the manifest files behind each change. */
  showFiles?: boolean;
  /** Maximum length in characters (default `MARKDOWN_LIMIT`). */
  limit?: number;
  /** Title line (default `setopsd plan`). */
  title?: string;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeCell(s: string): string {
  return escapeHtml(s).replace(/\|/g, '\\|');
}

/** A code fence longer than any backtick run in `body`. */
function fenced(lang: string, body: string): string {
  const longest = Math.max(2, ...[...body.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${lang}\n${body}\n${fence}`;
}

function sourceLine(source: PlanSource): string {
  const at = (ref: string | undefined, commit: string | undefined): string =>
    commit === undefined ? 'the working tree' : ref === undefined || commit.startsWith(ref) ? `\`${commit.slice(0, 12)}\`` : `\`${ref}\` (${commit.slice(0, 12)})`;
  const head = `Source: ${at(source.ref, source.commit)}`;
  return source.base ? `${head}, compared with ${at(source.base.ref, source.base.commit)}` : head;
}

function details(p: StagePlan, showFiles: boolean): string {
  const body = stageChangeLines(p, showFiles).map((l) => l.text).join('\n');
  const commands = p.changeset.changes.map((c) => c.command).join('\n');
  const parts = [
    `<details><summary><code>${escapeHtml(p.key)}</code>: ${escapeHtml(summaryLine(p.summary))}</summary>`,
    '',
    escapeHtml(stageHeader(p)),
    '',
    fenced('diff', body),
  ];
  if (commands) parts.push('', 'SetOps equivalent:', '', fenced('sh', commands));
  parts.push('', '</details>', '');
  return parts.join('\n');
}

/**
 * Markdown for a pull-request comment: title, warnings first, a summary table, then one
 * collapsible `<details>` per stage with changes. Never longer than `limit`: per-stage details
 * are cut first (and the cut is stated), then table rows and warnings.
 */
export function renderMarkdown(plans: readonly StagePlan[], opts: MarkdownOptions): string {
  const limit = opts.limit ?? MARKDOWN_LIMIT;
  const total = addSummaries(plans.map((p) => p.summary));
  const inSync = plans.filter((p) => p.changeset.changes.length === 0 && p.resources.length === 0).length;

  const head: string[] = [`### ${opts.title ?? 'setopsd plan'}`, '', sourceLine(opts.source), ''];
  const warnings = warningLines(plans).map((w) => `> - ${escapeHtml(w)}`);
  const warnHead = ['> [!CAUTION]', '> **This plan destroys data or touches protected resources:**'];
  const rows = plans.map(
    (p) => `| \`${escapeCell(p.key)}\` | ${p.engine} | ${p.summary.create} | ${p.summary.update} | ${p.summary.replace} | ${p.summary.delete} | ${p.summary.dataLoss > 0 ? `**${p.summary.dataLoss}**` : '0'} |`,
  );
  const tableHead = ['| Stage | Engine | Create | Update | Replace | Delete | Data loss |', '| --- | --- | ---: | ---: | ---: | ---: | ---: |'];
  const totalRow = `| **Total** | | ${total.create} | ${total.update} | ${total.replace} | ${total.delete} | ${total.dataLoss} |`;
  const foot = [totalLine(plans, inSync), ''];
  const withChanges = plans.filter((p) => p.changeset.changes.length > 0 || p.resources.length > 0 || p.notes.length > 0);
  const blocks = withChanges.map((p) => details(p, opts.showFiles ?? false));
  const reviewSections = [...policyMarkdown(plans, escapeHtml), ...costMarkdown(plans, escapeCell)];

  const assemble = (w: string[], r: string[], b: string[], notes: string[]): string => {
    const out = [...head];
    if (w.length > 0) out.push(...warnHead, ...w, '');
    if (plans.length > 0) out.push(...tableHead, ...r, totalRow, '');
    out.push(...reviewSections); // policies, cost: their own files
    out.push(...foot);
    if (notes.length > 0) out.push(...notes.map((n) => `> ${n}`), '');
    out.push(...b);
    return out.join('\n');
  };

  const full = assemble(warnings, rows, blocks, []);
  if (full.length <= limit) return full;

  // Too long: keep the summary, cut per-stage details (in stage order), then table rows and warnings.
  const cutNote = (n: number): string =>
    `**${n} of ${blocks.length} stage details were cut** to keep this comment under ${limit.toLocaleString('en-US')} characters; run \`setopsd plan\` or use \`--format json\` for the full changeset.`;
  const kept: string[] = [];
  // Each kept block adds its length plus one joining newline; the note's own length barely varies.
  let length = assemble(warnings, rows, [], [cutNote(blocks.length)]).length;
  for (const b of blocks) {
    if (length + b.length + 1 > limit) break;
    length += b.length + 1;
    kept.push(b);
  }
  let text = assemble(warnings, rows, kept, [cutNote(blocks.length - kept.length)]);
  if (text.length <= limit) return text;

  let r = rows;
  let w = warnings;
  while (text.length > limit && (r.length > 0 || w.length > 0)) {
    if (r.length >= w.length) r = r.slice(0, Math.floor(r.length / 2));
    else w = w.slice(0, Math.floor(w.length / 2));
    const notes = [cutNote(blocks.length)];
    if (r.length < rows.length) notes.push(`${rows.length - r.length} of ${rows.length} table rows were cut; the Total row counts every stage.`);
    if (w.length < warnings.length) notes.push(`${warnings.length - w.length} of ${warnings.length} warnings were cut.`);
    text = assemble(w, r, [], notes);
  }
  return text.length <= limit ? text : text.slice(0, limit - 1) + '\n';
}
