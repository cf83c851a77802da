import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../state/atomic.js';

/**
 * Generated service credentials and ports of one stage, in a 0600 file under the stage
 * directory. Passwords are created here and only ever leave this file as app env values.
 */
export interface CredentialsFile {
  postgres?: { port: number; superPassword: string; dataDir?: string };
  services: Record<string, { password: string; port?: number }>;
}

/** A random password (hex, so it needs no escaping in URLs or configs). */
export function generatePassword(): string {
  return randomBytes(24).toString('hex');
}

/** Reads and writes `credentials.json` (mode 0600), cached in memory. */
export class Credentials {
  private cache: CredentialsFile | null = null;
  constructor(private readonly file: string) {}

  async load(): Promise<CredentialsFile> {
    if (this.cache !== null) return this.cache;
    try {
      this.cache = JSON.parse(await readFile(this.file, 'utf8')) as CredentialsFile;
      this.cache.services ??= {};
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.cache = { services: {} };
    }
    return this.cache;
  }

  async save(): Promise<void> {
    if (this.cache !== null) await writeFileAtomic(this.file, JSON.stringify(this.cache, null, 2) + '\n', 0o600);
  }
}
