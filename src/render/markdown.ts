import type { StagePlan } from '../reconciler/stage-plan.js';
import { addSummaries, summaryLine } from '../reconciler/summary.js';
import type { PlanSource } from '../reconciler/plan-document.js';
import { formatIssue, type Issue } from '../errors.js';
import type { Change } from '../model/changeset.js';
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
  /** How to re-plan and apply, shown at the end (`setopsd comment` passes what fits its pull request). */
  commands?: ReviewCommands;
  /**
   * More sections between the summary and the per-stage details, in order (policies, cost):
   * each is markdown of its own, kept whole when the comment is cut.
   */
  sections?: readonly string[];
  /** Why details are cut when the plan is too long (default: `to keep this comment under N characters`). */
  cutReason?: string;
}

/** The commands a reviewer needs, as shell lines. */
export interface ReviewCommands {
  /** Plans again (e.g. `setopsd plan --repo . --base main --head HEAD`). */
  replan: string;
  /** Applies, or says who applies (e.g. `merge this pull request: CI applies the saved plan`). */
  apply: string;
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

/** The first column of a `diff` fence decides the colour: `+` green, `-` red, `!` orange (tfcmt's trick for `~`). */
const HIGHLIGHT: Record<Change['op'], string> = { create: '+', delete: '-', update: '!', replace: '!' };

/**
 * One change line for a `diff` fence: top-level `+`/`-` lines already colour themselves; `~` and
 * `-/+` get `! ` in front; indented lines (engine resources) put the highlight in their first
 * column; lines without an operation (files, notes) are context (a leading space).
 */
export function diffLine(op: Change['op'] | null, text: string): string {
  if (op === null) return ` ${text}`;
  if (text.startsWith(' ')) return HIGHLIGHT[op] + text.slice(1);
  if ((op === 'create' && text.startsWith('+')) || (op === 'delete' && text.startsWith('-'))) return text;
  return `${HIGHLIGHT[op]} ${text}`;
}

/** `auto` or `manual`, and `protected` when the stage is; from the desired model, else the recorded one. */
export function reviewMode(p: StagePlan): string {
  const stage = p.desired?.stage ?? p.actual.model?.stage;
  if (stage === undefined) return 'auto';
  return stage.protected ? `${stage.approval}, protected` : stage.approval;
}

/** Identical lines once each, in first-seen order, with `(×N)` when they occur N > 1 times. */
export function groupLines(lines: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const l of lines) counts.set(l, (counts.get(l) ?? 0) + 1);
  return [...counts].map(([l, n]) => (n > 1 ? `${l} (×${n})` : l));
}

function approvalLine(p: StagePlan): string {
  const stage = p.desired?.stage ?? p.actual.model?.stage;
  if (stage === undefined) return '';
  const approval = stage.approval === 'manual' ? 'manual (applied only once a person approves: `setopsd approve` for the daemon, `apply --yes` by hand)' : 'auto';
  const protection = stage.protected ? 'protected (data loss and stage deletion are refused)' : 'not protected';
  return `Approval: ${approval} · ${protection}`;
}

function details(p: StagePlan, showFiles: boolean): string {
  const body = stageChangeLines(p, showFiles).map((l) => diffLine(l.op, l.text)).join('\n');
  const commands = p.changeset.changes.map((c) => c.command).join('\n');
  const parts = [
    `<details><summary><code>${escapeHtml(p.key)}</code>: ${escapeHtml(summaryLine(p.summary))}</summary>`,
    '',
    escapeHtml(stageHeader(p)),
    '',
  ];
  const approval = approvalLine(p);
  if (approval) parts.push(approval, '');
  parts.push(fenced('diff', body));
  if (commands) parts.push('', 'SetOps equivalent:', '', fenced('sh', commands));
  parts.push('', '</details>', '');
  return parts.join('\n');
}

function commandLines(c: ReviewCommands, apply = true): string[] {
  const out = ['**To re-plan:**', '', fenced('sh', c.replan), ''];
  if (apply) out.push('**To apply:**', '', fenced('sh', c.apply), '');
  return out;
}

/**
 * Markdown for a pull-request comment, in sections: title and source, warnings first (identical
 * ones grouped with a count), a summary table with each stage's approval mode, the extra
 * `sections` (policies, cost), then one collapsible `<details>` per stage with changes, and the
 * commands to re-plan and apply. Never longer than `limit`: per-stage details are cut first (and
 * the cut is stated), then table rows and warnings.
 */
export function renderMarkdown(plans: readonly StagePlan[], opts: MarkdownOptions): string {
  const limit = opts.limit ?? MARKDOWN_LIMIT;
  const total = addSummaries(plans.map((p) => p.summary));
  const inSync = plans.filter((p) => p.changeset.changes.length === 0 && p.resources.length === 0).length;

  const head: string[] = [`### ${opts.title ?? 'setopsd plan'}`, '', sourceLine(opts.source), ''];
  const warnings = groupLines(warningLines(plans)).map((w) => `> - ${escapeHtml(w)}`);
  const warnHead = ['> [!CAUTION]', '> **This plan destroys data or touches protected resources:**'];
  const rows = plans.map(
    (p) =>
      `| \`${escapeCell(p.key)}\` | ${p.engine} | ${escapeCell(reviewMode(p))} | ${p.summary.create} | ${p.summary.update} | ${p.summary.replace} | ${p.summary.delete} | ${p.summary.dataLoss > 0 ? `**${p.summary.dataLoss}**` : '0'} |`,
  );
  const tableHead = ['| Stage | Engine | Approval | Create | Update | Replace | Delete | Data loss |', '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |'];
  const totalRow = `| **Total** | | | ${total.create} | ${total.update} | ${total.replace} | ${total.delete} | ${total.dataLoss} |`;
  const foot = [totalLine(plans, inSync), ''];
  const extra = (opts.sections ?? []).flatMap((s) => [s.trimEnd(), '']);
  const withChanges = plans.filter((p) => p.changeset.changes.length > 0 || p.resources.length > 0 || p.notes.length > 0);
  const blocks = withChanges.map((p) => details(p, opts.showFiles ?? false));
  const tail = opts.commands ? commandLines(opts.commands) : [];
  const reviewSections = [...policyMarkdown(plans, escapeHtml), ...costMarkdown(plans, escapeCell)];

  const assemble = (w: string[], r: string[], b: string[], notes: string[]): string => {
    const out = [...head];
    if (w.length > 0) out.push(...warnHead, ...w, '');
    if (plans.length > 0) out.push(...tableHead, ...r, totalRow, '');
    out.push(...reviewSections); // policies, cost: their own files
    out.push(...foot);
    out.push(...extra);
    if (notes.length > 0) out.push(...notes.map((n) => `> ${n}`), '');
    out.push(...b);
    out.push(...tail);
    return out.join('\n');
  };

  const full = assemble(warnings, rows, blocks, []);
  if (full.length <= limit) return full;

  // Too long: keep the summary, cut per-stage details (in stage order), then table rows and warnings.
  const cutNote = (n: number): string =>
    `**${n} of ${blocks.length} stage details were cut** ${opts.cutReason ?? `to keep this comment under ${limit.toLocaleString('en-US')} characters`}; run \`setopsd plan\` or use \`--format json\` for the full changeset.`;
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

/** Options of {@link renderMarkdownIssues}. */
export interface MarkdownIssuesOptions {
  source: PlanSource;
  title?: string;
  /** Only `replan` is shown: nothing can be applied. */
  commands?: ReviewCommands;
  limit?: number;
}

/**
 * The comment for manifests that do not validate: every problem located as
 * `file:line:col: /pointer: message` (so a pull request with broken manifests gets a comment
 * saying why, not nothing), and how to check locally. Identical problems are grouped.
 */
export function renderMarkdownIssues(issues: readonly Issue[], opts: MarkdownIssuesOptions): string {
  const limit = opts.limit ?? MARKDOWN_LIMIT;
  const lines = groupLines(issues.map(formatIssue));
  const n = issues.length;
  const head = [
    `### ${opts.title ?? 'setopsd plan'}`,
    '',
    sourceLine(opts.source),
    '',
    '> [!CAUTION]',
    `> **The manifests are invalid: nothing was planned.** ${n} problem${n === 1 ? '' : 's'}:`,
    '',
  ];
  const tail = ['', 'Fix them and push again; `setopsd validate` shows the same list locally.', '', ...(opts.commands ? commandLines(opts.commands, false) : [])];
  const assemble = (kept: string[], cut: number): string =>
    [...head, fenced('text', kept.join('\n')), ...(cut > 0 ? ['', `> ${cut} more problem${cut === 1 ? '' : 's'} were cut to keep this comment short; run \`setopsd validate\` for all.`] : []), ...tail].join('\n');
  let kept = lines;
  let text = assemble(kept, 0);
  while (text.length > limit && kept.length > 1) {
    kept = kept.slice(0, Math.floor(kept.length / 2));
    text = assemble(kept, lines.length - kept.length);
  }
  return text;
}
