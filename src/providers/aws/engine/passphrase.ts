/**
 * The passphrase that encrypts a stack's secrets on DIY backends (file, s3, …). setopsd never
 * reads the passphrase itself: it passes `PULUMI_CONFIG_PASSPHRASE` or
 * `PULUMI_CONFIG_PASSPHRASE_FILE` on to the CLI, and fails early with a clear message when
 * neither is set (the CLI would otherwise stop at a prompt it cannot show).
 */
import { access, constants } from 'node:fs/promises';
import { EngineError } from '../../../errors.js';
import type { BackendInfo } from './backend.js';

/** The environment variables to pass to the CLI for the stack's secrets provider. */
export async function passphraseEnv(
  env: Record<string, string | undefined>,
  backend: BackendInfo,
  subject: string,
): Promise<Record<string, string>> {
  // Pulumi Cloud stacks use the service's secrets manager: no passphrase.
  if (backend.kind === 'cloud') return {};
  if (env.PULUMI_CONFIG_PASSPHRASE !== undefined) return { PULUMI_CONFIG_PASSPHRASE: env.PULUMI_CONFIG_PASSPHRASE };
  const file = env.PULUMI_CONFIG_PASSPHRASE_FILE;
  if (file !== undefined && file !== '') {
    try {
      await access(file, constants.R_OK);
    } catch {
      throw new EngineError(
        `${subject}: PULUMI_CONFIG_PASSPHRASE_FILE names ${file}, which cannot be read; fix the path or its permissions`,
        { code: 'E_PULUMI_PASSPHRASE_MISSING', data: { file } },
      );
    }
    return { PULUMI_CONFIG_PASSPHRASE_FILE: file };
  }
  throw new EngineError(
    `${subject}: the Pulumi stack's secrets are encrypted with a passphrase, but neither PULUMI_CONFIG_PASSPHRASE ` +
      'nor PULUMI_CONFIG_PASSPHRASE_FILE is set; set one of them (use the same passphrase on every run: ' +
      'secrets already in the stack cannot be read with another one)',
    { code: 'E_PULUMI_PASSPHRASE_MISSING', data: { backend: backend.url } },
  );
}
