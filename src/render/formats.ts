import type { Deps } from '../deps.js';
import { UsageError } from '../errors.js';
import type { PlanSource } from '../reconciler/plan-document.js';
import type { StagePlan } from '../reconciler/stage-plan.js';
import { renderJson } from './json.js';
import { renderMarkdown } from './markdown.js';
import { renderText, useColor } from './text.js';

/** What every plan renderer receives besides the plans. */
export interface PlanRenderOptions {
  deps: Pick<Deps, 'isTTY' | 'env'>;
  source: PlanSource;
  showFiles?: boolean;
  title?: string;
}

/**
 * The plan renderers by `--format` name (`plan`, `diff`, and the daemon's API and PR comments).
 * A new output format is one entry here and one file beside this one.
 */
export const PLAN_FORMATS = {
  text: (plans, opts) => renderText(plans, { color: useColor(opts.deps), showFiles: opts.showFiles }),
  markdown: (plans, opts) => renderMarkdown(plans, { source: opts.source, showFiles: opts.showFiles, title: opts.title }),
  json: (plans, opts) => renderJson(plans, opts.source),
} satisfies Record<string, (plans: readonly StagePlan[], opts: PlanRenderOptions) => string>;

/** Output formats of `plan` and `diff`. */
export type PlanFormat = keyof typeof PLAN_FORMATS;

/** `--format` value, text by default; UsageError for anything else. */
export function parseFormat(v: unknown): PlanFormat {
  if (v === undefined) return 'text';
  if (typeof v === 'string' && Object.hasOwn(PLAN_FORMATS, v)) return v as PlanFormat;
  throw new UsageError(`--format must be ${listOr(Object.keys(PLAN_FORMATS))}, got "${String(v)}"`);
}

/** `a, b or c`. */
function listOr(names: string[]): string {
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

export { parseTextOrJson } from './text-or-json.js';

/** Renders stage plans in one format. */
export function renderPlans(plans: readonly StagePlan[], format: PlanFormat, opts: PlanRenderOptions): string {
  return PLAN_FORMATS[format](plans, opts);
}
