import { createHash } from 'node:crypto';
import { formatIssue } from '../../errors.js';
import { changeText, marker } from '../../render/describe.js';
import type { DaemonView, StageView } from '../view.js';
import { PAGE_SCRIPT, PAGE_STYLE } from './page-assets.js';

/** What the status page shows; everything comes from the view. */
export interface StatusPageInput {
  source: string;
  revision: ReturnType<DaemonView['revision']>;
  stages: StageView[];
  /** The page reloads itself this often (meta refresh, works without JavaScript). */
  refreshSeconds: number;
  /** When the page was made (ISO), shown at the bottom. */
  generatedAt: string;
}

/**
 * The status page, `GET /`: the source and newest commit (with its problems when invalid), then
 * per project its stages as a pipeline in `after:` order — a stage that runs after another stands
 * to its right. Plain HTML and CSS: readable without JavaScript, and it reloads itself (meta
 * refresh); a tiny inline script reloads it sooner when the daemon reports an event. Every value
 * is escaped.
 */
export function renderStatusPage(input: StatusPageInput): string {
  const { revision } = input;
  const projects = groupByProject(input.stages);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${Math.max(1, Math.round(input.refreshSeconds))}">
<title>setopsd — ${esc(input.source)}</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<header>
<h1>setopsd</h1>
<dl class="facts">
<dt>source</dt><dd>${esc(input.source)}</dd>
<dt>newest commit</dt><dd>${commit(revision.commit)} ${revision.valid ? '<span class="valid">valid</span>' : '<span class="invalid">invalid</span>'}</dd>
</dl>
${revisionProblems(revision)}
</header>
<main>
${projects.length === 0 ? '<p class="empty">No stages yet.</p>' : projects.map(renderProject).join('\n')}
</main>
<footer>Generated ${esc(input.generatedAt)}; this page reloads every ${esc(String(input.refreshSeconds))} s.</footer>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

/** The Content-Security-Policy of the page: no resource but its own inline style and script (by hash) and the event stream. */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  `style-src '${sha256(PAGE_STYLE)}'`,
  `script-src '${sha256(PAGE_SCRIPT)}'`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function revisionProblems(revision: StatusPageInput['revision']): string {
  const parts: string[] = [];
  if (!revision.valid && revision.issues.length > 0) {
    parts.push(`<section class="problems" aria-label="problems of the newest commit">
<h2>The newest commit is invalid: ${revision.issues.length} problem${revision.issues.length === 1 ? '' : 's'}; nothing from it is applied</h2>
<ul>${revision.issues.map((issue) => `<li><code>${esc(formatIssue(issue))}</code></li>`).join('')}</ul>
</section>`);
  }
  if (revision.error && (revision.valid || revision.issues.length === 0)) {
    parts.push(`<section class="problems" aria-label="source error"><h2>${esc(revision.error.code)}</h2><p>${esc(revision.error.message)}</p></section>`);
  }
  return parts.join('\n');
}

/** One project of the page: `org/project` and its stages in pipeline columns. */
export interface Project {
  name: string;
  /** Stages by column: column 0 runs first, each `after:` stage one column to the right of the one it follows. */
  columns: StageView[][];
}

/** Projects in the order their first stage comes; within one, columns by `after:` depth. */
export function groupByProject(stages: StageView[]): Project[] {
  const byProject = new Map<string, StageView[]>();
  for (const s of stages) {
    const name = `${s.organization}/${s.project}`;
    byProject.set(name, [...(byProject.get(name) ?? []), s]);
  }
  return [...byProject].map(([name, list]) => {
    const byName = new Map(list.map((s) => [s.stage, s]));
    const depth = new Map<string, number>();
    const depthOf = (s: StageView, seen: Set<string>): number => {
      const known = depth.get(s.stage);
      if (known !== undefined) return known;
      const before = s.after === null ? undefined : byName.get(s.after);
      // A cycle (which validation refuses) or an `after:` outside this list starts a column of its own.
      const d = before === undefined || seen.has(before.stage) ? 0 : depthOf(before, new Set([...seen, s.stage])) + 1;
      depth.set(s.stage, d);
      return d;
    };
    const columns: StageView[][] = [];
    for (const s of list) {
      const d = depthOf(s, new Set([s.stage]));
      (columns[d] ??= []).push(s);
    }
    return { name, columns: columns.filter((c) => c !== undefined) };
  });
}

function renderProject(project: Project): string {
  const cols = project.columns.map((col) => `<li class="column">${col.map(renderStage).join('\n')}</li>`);
  return `<section class="project">
<h2>${esc(project.name)}</h2>
<ol class="pipeline">${cols.join('<li class="arrow" aria-hidden="true">→</li>')}</ol>
</section>`;
}

function renderStage(s: StageView): string {
  const r = s.record;
  const state = r?.state ?? 'unknown';
  const d = s.lastDeployment;
  const rows: [string, string][] = [
    ['applied', commit(r?.lastAppliedRevision ?? null)],
    ['attempted', commit(r?.lastAttemptedRevision ?? null)],
    ['last deployment', d ? `#${d.number} ${esc(d.kind)} <span class="deploy-${esc(d.status)}">${esc(d.status)}</span> ${time(d.endedAt ?? d.startedAt)}` : 'none'],
    ['failures', String(r?.failures ?? 0)],
  ];
  if (s.after !== null) rows.push(['after', esc(s.after)]);
  if (s.approval !== null) rows.push(['approval', esc(s.approval)]);
  if (s.pin) rows.push(['pinned', `at #${s.pin.deployment} (${s.pin.reason === 'rollback' ? 'a rollback' : 'pinned'}) <code>setopsd unpin ${esc(s.key)}</code>`]);
  if (s.preview) rows.push(['preview', previewLinks(s.preview)]);
  if (r?.drift?.length) rows.push(['drift', r.drift.map(esc).join('<br>')]);
  if (r?.policy) rows.push(['policy', `<span class="${r.policy.deny > 0 ? 'deploy-failed' : 'none'}">${r.policy.deny} deny, ${r.policy.warn} warn</span><br>${r.policy.violations.map(esc).join('<br>')}`]);
  return `<article class="stage state-${esc(state)}" data-stage="${esc(s.key)}" data-state="${esc(state)}">
<h3>${esc(s.stage)}</h3>
<p class="status"><span class="badge">${esc(state)}</span>${r?.reason ? ` <code class="reason">${esc(r.reason)}</code>` : ''}${r ? ` <span class="since">since ${time(r.since)}</span>` : ''}</p>
${r?.message ? `<p class="message">${esc(r.message)}</p>` : r === null ? '<p class="message">not reconciled yet</p>' : ''}
<dl>${rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>
${s.pending ? renderPending(s.pending) : ''}
</article>`;
}

/** A preview stage's pull request and its public apps, each a link; a URL that is not http(s) is shown as text. */
function previewLinks(preview: NonNullable<StageView['preview']>): string {
  const apps = Object.entries(preview.urls)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([app, url]) => (/^https?:\/\//i.test(url) ? `<a href="${esc(url)}">${esc(app)}</a>` : `${esc(app)} <code>${esc(url)}</code>`));
  return `#${esc(String(preview.number))} <code>${esc(preview.branch)}</code>${apps.length > 0 ? ` ${apps.join(', ')}` : ''}`;
}

function renderPending(pending: NonNullable<StageView['pending']>): string {
  const changes = pending.changes.map((c) => `<li class="op-${esc(c.op)}${c.dataLoss ? ' data-loss' : ''}"><code>${esc(marker(c.op))} ${esc(changeText(c, null, null))}</code></li>`);
  return `<div class="pending">
<p>${pending.changes.length} change${pending.changes.length === 1 ? '' : 's'} wait${pending.changes.length === 1 ? 's' : ''} for approval (plan <code>${esc(pending.planId)}</code>):</p>
<ul class="changes">${changes.join('')}</ul>
<p>Approve with <code class="approve">${esc(pending.approveCommand)}</code></p>
</div>`;
}

function commit(c: string | null): string {
  return c === null ? '<span class="none">none</span>' : `<code title="${esc(c)}">${esc(c.slice(0, 12))}</code>`;
}

function time(iso: string): string {
  return `<time datetime="${esc(iso)}">${esc(iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z'))}</time>`;
}

/** Escapes text for HTML element content and quoted attribute values. */
export function esc(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

function sha256(text: string): string {
  return `sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}`;
}
