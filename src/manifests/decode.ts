import type { SourceFile } from './api.js';

/** True for the file names setopsd reads as manifests. */
export function isManifestName(name: string): boolean {
  return name.endsWith('.yaml') || name.endsWith('.yml');
}

/** Directory names never searched for manifests. */
export const SKIPPED_DIRS: ReadonlySet<string> = new Set(['node_modules', '.git', '.setopsd']);

/**
 * Decodes a manifest file as UTF-8 (a leading byte order mark is dropped). Invalid UTF-8 is never
 * replaced silently: the file comes back with `unreadable` naming the line and column of the
 * first bad byte, so `loadDesired` reports it as an issue of that file and checks the others.
 */
export function decodeManifest(path: string, bytes: Uint8Array): SourceFile {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const offset = firstInvalidUtf8(bytes);
    const lineStart = bytes.lastIndexOf(0x0a, offset - 1) + 1;
    let line = 1;
    for (let i = 0; i < lineStart; i++) if (bytes[i] === 0x0a) line++;
    // Columns count characters as the YAML positions do; the bytes before the bad one are valid.
    const col = new TextDecoder('utf-8').decode(bytes.subarray(lineStart, offset)).length + 1;
    const byte = bytes[offset]!.toString(16).padStart(2, '0');
    return { path, text: '', unreadable: { line, col, message: `not valid UTF-8 (byte 0x${byte} at offset ${offset}); save the file as UTF-8` } };
  }
  return { path, text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text };
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  // Binary search over prefixes is unsafe (a prefix may cut a sequence); walk sequences instead.
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const len = b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0;
    if (len === 0 || i + len > bytes.length) return i;
    try {
      decoder.decode(bytes.subarray(i, i + len));
    } catch {
      return i;
    }
    i += len;
  }
  return i;
}
