import { UsageError } from '../errors.js';

/**
 * `--format` of the commands that print text or JSON (validate, status, history), text by
 * default. Apart from the plan renderers (`formats.ts`), which `validate` does not load.
 */
export function parseTextOrJson(v: unknown): 'text' | 'json' {
  if (v === undefined) return 'text';
  if (v === 'text' || v === 'json') return v;
  throw new UsageError(`--format must be text or json, got "${String(v)}"`);
}
