/**
 * Reads the engine event streams recorded under `test/fixtures/pulumi/` (Pulumi's display and
 * lifecycle test data): NDJSON, or JSON objects written one after another.
 */
import type { EngineEventLike } from '../../../../src/providers/aws/engine/events/types.js';

/** Parses an event log: NDJSON, or JSON objects written one after another (pretty-printed or not). */
export function parseEventStream(text: string): EngineEventLike[] {
  const out: EngineEventLike[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && /\s/.test(text[i]!)) i++;
    if (i >= n) break;
    if (text[i] !== '{') throw new SyntaxError(`engine event stream: expected '{' at offset ${i}`);
    const start = i;
    let depth = 0;
    let inString = false;
    for (; i < n; i++) {
      const ch = text[i];
      if (inString) {
        if (ch === '\\') i++;
        else if (ch === '"') inString = false;
      } else if (ch === '"') inString = true;
      else if (ch === '{') depth++;
      else if (ch === '}') {
        depth--;
        if (depth === 0) {
          i++;
          break;
        }
      }
    }
    if (depth !== 0) throw new SyntaxError(`engine event stream: object starting at offset ${start} is not closed`);
    out.push(JSON.parse(text.slice(start, i)) as EngineEventLike);
  }
  return out;
}
