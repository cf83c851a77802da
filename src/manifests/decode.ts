import { ManifestError } from '../errors.js';

/** True for the file names setopsd reads as manifests. */
export function isManifestName(name: string): boolean {
  return name.endsWith('.yaml') || name.endsWith('.yml');
}

/** Directory names never searched for manifests. */
export const SKIPPED_DIRS: ReadonlySet<string> = new Set(['node_modules', '.git', '.setopsd']);

/**
 * Decodes a manifest file as UTF-8 (a leading byte order mark is dropped). Invalid UTF-8 is a
 * ManifestError naming the file and the byte offset, never a silent replacement character.
 */
export function decodeManifest(path: string, bytes: Uint8Array, where = ''): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    const offset = firstInvalidUtf8(bytes);
    throw new ManifestError(
      `${path}${where}: not valid UTF-8 (first bad byte at offset ${offset}); save the file as UTF-8`,
      { data: { file: path, offset }, cause },
    );
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
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
