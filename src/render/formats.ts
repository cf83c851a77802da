import type { Deps } from '../deps.js';
import { UsageError } from '../errors.js';
import type { PlanSource } from '../reconciler/plan-document.js';
import type { StagePlan } from '../reconciler/stage-plan.js';
import { renderJson } from './json.js';
import { renderMarkdown } from './markdown.js';
import { renderText, useColor } from './text.js';

/** Output formats of `plan` and `diff`. */
export type PlanFormat = 'text' | 'markdown' | 'json';

/** `--format` value, text by default; UsageError for anything else. */
export function parseFormat(v: unknown): PlanFormat {
  if (v === undefined) return 'text';
  if (v === 'text' || v === 'markdown' || v === 'json') return v;
  throw new UsageError(`--format must be text, markdown or json, got "${String(v)}"`);
}

/** `--format` of the commands that print text or JSON (validate, status, history), text by default. */
export function parseTextOrJson(v: unknown): 'text' | 'json' {
  if (v === undefined) return 'text';
  if (v === 'text' || v === 'json') return v;
  throw new UsageError(`--format must be text or json, got "${String(v)}"`);
}

/** Renders stage plans in one format. */
export function renderPlans(
  plans: readonly StagePlan[],
  format: PlanFormat,
  opts: { deps: Pick<Deps, 'isTTY' | 'env'>; source: PlanSource; showFiles?: boolean; title?: string },
): string {
  if (format === 'json') return renderJson(plans, opts.source);
  if (format === 'markdown') return renderMarkdown(plans, { source: opts.source, showFiles: opts.showFiles, title: opts.title });
  return renderText(plans, { color: useColor(opts.deps), showFiles: opts.showFiles });
}
