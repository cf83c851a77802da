import type { Translation } from './types.js';

/** The last lines of the run's error diagnostics, short enough for an error's `data.tail`. */
export function errorTail(t: Translation, maxLines = 12, maxChars = 2000): string {
  const lines: string[] = [];
  for (const d of t.diagnostics) {
    if (d.severity !== 'error') continue;
    for (const line of d.message.split('\n')) if (line.trim()) lines.push(d.subject ? `${d.subject}: ${line.trim()}` : line.trim());
  }
  for (const subject of t.failed) {
    if (!t.diagnostics.some((d) => d.severity === 'error' && d.subject === subject)) lines.push(`${subject}: the resource operation failed`);
  }
  for (const p of t.policy) if (p.level === 'mandatory') lines.push(`policy ${p.pack}/${p.policy}${p.subject ? ` on ${p.subject}` : ''}: ${p.message}`);
  const tail = lines.slice(-maxLines).join('\n');
  return tail.length > maxChars ? '…' + tail.slice(tail.length - maxChars) : tail;
}
