/**
 * A markdown plan as pull-request comments (pure): the hidden marker that finds setopsd's own
 * comments again, and the split of a long plan into numbered comments with code fences and
 * `<details>` kept intact (each part closes what is open and the next one reopens it).
 */

/** GitHub refuses a comment body over 65,536 characters; GitLab notes allow more. */
export const COMMENT_LIMIT = 65_535;
/** At most this many comments per plan; the plan is rendered shorter (details cut) to fit. */
export const MAX_COMMENTS = 10;
/** Room kept in each part for its marker and part header, which are known only at the end. */
const HEADER_ROOM = 200;

const MARKER = /^<!-- setopsd:plan dir=(\S*?)(?: part=(\d+))? -->/;

/** `<!-- setopsd:plan dir=DIR part=K -->`: one sticky comment (set) per config directory. */
export function commentMarker(dir: string, part = 1): string {
  return `<!-- setopsd:plan dir=${encodeURIComponent(dir === '' ? '.' : dir)}${part > 1 ? ` part=${part}` : ''} -->`;
}

/** The config directory and part number of a comment setopsd wrote, or null for any other comment. */
export function parseMarker(body: string): { dir: string; part: number } | null {
  const m = MARKER.exec(body);
  if (!m) return null;
  try {
    return { dir: decodeURIComponent(m[1]!), part: m[2] === undefined ? 1 : Number(m[2]) };
  } catch {
    return null;
  }
}

interface Open {
  /** The line that opened it (reopened, marked as continued, in the next part). */
  line: string;
  /** The line that closes it. */
  close: string;
  fence: boolean;
}

// Blank lines around HTML: markdown after `<summary>` on the same block would render as raw text.
function closers(stack: readonly Open[]): string[] {
  return [...stack].reverse().flatMap((o) => (o.fence ? [o.close] : ['', o.close]));
}

function reopeners(stack: readonly Open[]): string[] {
  return stack.flatMap((o) => (o.fence ? [o.line] : [o.line.replace('</summary>', ' (continued)</summary>'), '']));
}

/** Updates the stack of open fences and `<details>` for one line. */
function step(stack: Open[], line: string): void {
  const top = stack[stack.length - 1];
  if (top?.fence) {
    if (line === top.close) stack.pop();
    return;
  }
  const fence = /^(`{3,})/.exec(line);
  if (fence) stack.push({ line, close: fence[1]!, fence: true });
  else if (line.startsWith('<details')) stack.push({ line, close: '</details>', fence: false });
  else if (line === '</details>' && top && !top.fence) stack.pop();
}

const size = (lines: readonly string[]): number => lines.reduce((n, l) => n + l.length + 1, 0);

/**
 * Splits `markdown` into parts of at most `limit` characters each, markers and headers included.
 * A part ends between two top-level blocks where it can; inside a `<details>` or a code fence it
 * closes them and the next part opens them again. Part 1 starts with `commentMarker(dir)` and,
 * when there are several, says so; part K > 1 starts with its marker and `part K of N`.
 */
export function splitComment(markdown: string, dir: string, limit = COMMENT_LIMIT): string[] {
  const budget = limit - HEADER_ROOM;
  const lines = markdown.replace(/\n+$/, '').split('\n');
  const parts: string[][] = [];
  let cur: string[] = [];
  /** Lines of `cur` that are reopeners (a part of only those has no content). */
  let prefix = 0;
  /** Index in `cur` after which the stack was empty (a clean place to end the part), or -1. */
  let lastTop = -1;
  const stack: Open[] = [];
  let curSize = 0;
  for (let raw of lines) {
    // A single line longer than a part cannot be kept whole: cut it (only a pathological plan has one).
    if (raw.length > budget / 4) raw = raw.slice(0, Math.floor(budget / 4) - 1) + '…';
    const after = [...stack];
    step(after, raw);
    if (curSize + raw.length + 1 + size(closers(after)) > budget && cur.length > prefix) {
      if (lastTop > prefix && size(cur.slice(lastTop)) <= budget / 4) {
        // End at the last top-level boundary; the lines after it move to the next part as they are.
        const moved = cur.slice(lastTop);
        parts.push(cur.slice(0, lastTop));
        cur = moved;
        prefix = 0;
      } else {
        parts.push([...cur, ...closers(stack)]);
        cur = reopeners(stack);
        prefix = cur.length;
      }
      curSize = size(cur);
      lastTop = -1;
    }
    cur.push(raw);
    curSize += raw.length + 1;
    step(stack, raw);
    if (stack.length === 0) lastTop = cur.length;
  }
  if (cur.length > prefix || parts.length === 0) parts.push(cur);
  const n = parts.length;
  return parts.map((p, i) => {
    const k = i + 1;
    const head = k === 1 ? [commentMarker(dir)] : [commentMarker(dir, k), `**setopsd plan, part ${k} of ${n}** (continued from the comment above)`, ''];
    const foot = n > 1 && k === 1 ? ['', `*This plan is split into ${n} comments; this is part 1.*`] : [];
    return [...head, ...p, ...foot].join('\n') + '\n';
  });
}
