import { dirname, resolve } from 'node:path';
import type { Command } from '../command.js';
import { UsageError } from '../../errors.js';
import { stageKey } from '../../model/stage-model.js';
import { createBackup, listBackups, restoreBackup, type Backup } from '../../operations/backups.js';
import { Notifier } from '../../providers/notify/notifier.js';
import { parseTextOrJson } from '../../render/formats.js';
import { STATE_DIR_HELP, STATE_DIR_OPTION } from '../state-dir.js';
import { intOption, knownStages, selectStages, stateDirWithoutSource } from '../stage-select.js';

const command: Command = {
  name: 'backup',
  summary: 'Create, list and restore backups of a service',
  help: [
    'Usage: setopsd backup create  STAGE SERVICE [DIR] [--state-dir DIR] [--secrets FILE]',
    '       setopsd backup list    STAGE SERVICE [DIR] [--format text|json] [--state-dir DIR]',
    '       setopsd backup restore STAGE SERVICE [DIR] [--id ID] --allow-data-loss [--lock-timeout S] [--state-dir DIR]',
    '',
    'Backups of a deployed service on the local engine, under the state directory',
    '(stages/ORG/PROJECT/STAGE/backups/SERVICE/), each with its size, time and sha256:',
    '  postgresql  a base backup of the stage\'s PostgreSQL cluster with its WAL (pg_backup_start/stop);',
    '              all postgresql services of a stage share the cluster: a restore returns each of them',
    '  redis       the server\'s RDB snapshot (BGSAVE); restored through a full replica synchronisation',
    '  s3, volume  a tar archive of the service\'s directory; restored by swapping directories',
    '`create` prunes backups older than the service\'s backup.retentionDays (the newest one always',
    'stays); a failed backup is recorded as failed and sent to the stage\'s notifications.',
    '`restore` replaces the service\'s data (default: with the newest completed backup): it needs',
    '--allow-data-loss, holds the stage lock, checks the checksum, and first takes a "pre-restore"',
    'backup of the data it replaces, so a restore can be undone by restoring that one.',
    '',
    'On AWS stages the backups are snapshots of the service\'s database: RDS (postgresql), DocumentDB',
    'cluster and ElastiCache (redis) snapshots. `create` takes a manual snapshot named',
    'ORG-PROJECT-STAGE-SERVICE-YYYYMMDDHHMMSS and prunes the ones setopsd took past retentionDays;',
    '`list` shows manual, automated and final snapshots with their status; `restore` changes',
    'nothing: it prints the AWS CLI commands that create a new database from the snapshot with the',
    'service\'s network settings, beside the running one.',
    '',
    'Options:',
    '  STAGE                ORG/PROJECT/STAGE, PROJECT/STAGE or STAGE.',
    '  SERVICE              A service of the deployed stage.',
    '  DIR                  Config directory whose state to use (its DIR/.setopsd).',
    '  --id ID              restore: the backup to restore (see `backup list`).',
    '  --allow-data-loss    restore: confirm that the current data is replaced.',
    '  --lock-timeout S     restore: wait up to S seconds for an apply holding the stage (default 0).',
    '  --secrets FILE       Secrets for the stage\'s notification keys (webhook signing, SMTP password).',
    '  --format FORMAT      list: text (default) or json.',
    STATE_DIR_HELP,
    '',
    'Exit codes: 0 done, 1 error (a failed backup, a refused or failed restore).',
  ].join('\n'),
  options: { ...STATE_DIR_OPTION, id: { type: 'string' }, 'allow-data-loss': { type: 'boolean' }, 'lock-timeout': { type: 'string' }, secrets: { type: 'string' }, format: { type: 'string' } },
  async run(ctx) {
    const { deps, signal } = ctx;
    const v = ctx.args.values;
    const [verb, stage, service, dir, ...extra] = ctx.args.positionals;
    if (verb !== 'create' && verb !== 'list' && verb !== 'restore') throw new UsageError(`backup needs create, list or restore, got ${verb === undefined ? 'nothing' : `"${verb}"`}; see setopsd backup --help`);
    if (stage === undefined || service === undefined) throw new UsageError(`backup ${verb} needs a STAGE and a SERVICE, e.g. setopsd backup ${verb} shop/staging database`);
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    const stateDir = stateDirWithoutSource(ctx, dir);
    const [ref] = selectStages([stage], await knownStages(stateDir));
    const req = {
      stateDir,
      ref: ref!,
      service,
      configRoot: dir !== undefined ? resolve(deps.cwd, dir) : dirname(stateDir),
      ...(typeof v.secrets === 'string' ? { secretsFile: resolve(deps.cwd, v.secrets) } : {}),
    };
    const key = stageKey(ref!);
    if (verb === 'create') {
      const notifier = new Notifier({ log: deps.log, sleep: deps.sleep });
      try {
        const { backup, pruned } = await createBackup(deps, { ...req, trigger: 'manual', notifier }, signal);
        deps.stdout.write(
          backup.file !== undefined
            ? `service/${service} in ${key}: backup ${backup.id} completed (${formatSize(backup.size ?? 0)}, sha256 ${backup.sha256?.slice(0, 12)}…, ${backup.method})\n  ${backup.file}\n`
            : `service/${service} in ${key}: ${backup.method} ${backup.id} ${backup.status === 'completed' ? 'completed' : `started (${backup.providerStatus ?? 'creating'}); see setopsd backup list ${key} ${service}`}\n${backup.arn ? `  ${backup.arn}\n` : ''}`,
        );
        if (pruned.length > 0) deps.stdout.write(`  pruned past retention: ${pruned.join(', ')}\n`);
        return 0;
      } finally {
        await notifier.drain();
      }
    }
    if (verb === 'list') {
      const format = parseTextOrJson(v.format);
      const backups = await listBackups(deps, req, signal);
      deps.stdout.write(format === 'json' ? JSON.stringify({ stage: key, service, backups }, null, 2) + '\n' : renderList(key, service, backups));
      return 0;
    }
    const outcome = await restoreBackup(deps, { ...req, ...(typeof v.id === 'string' ? { id: v.id } : {}), allowDataLoss: v['allow-data-loss'] === true, lockTimeoutMs: intOption('lock-timeout', v['lock-timeout'], 0) * 1000 }, signal);
    if (outcome.kind === 'planned') {
      const { plan } = outcome;
      deps.stdout.write(
        `service/${service} in ${key}: restoring snapshot ${plan.snapshot.id} (taken ${plan.snapshot.startedAt}) creates ${plan.into}; nothing has changed yet. To restore, run:\n` +
          plan.commands.map((c) => `  ${c}\n`).join('') +
          plan.then.map((l) => `${l}\n`).join(''),
      );
      return 0;
    }
    deps.stdout.write(
      `service/${service} in ${key}: restored backup ${outcome.restored.id} (taken ${outcome.restored.startedAt})${outcome.affected.length > 1 ? `; the stage's postgresql services ${outcome.affected.join(', ')} all returned to that time` : ''}\n` +
        `  the data it replaced is backup ${outcome.safety.id}: setopsd backup restore ${key} ${service} --id ${outcome.safety.id} --allow-data-loss\n`,
    );
    return 0;
  },
};
export default command;

function renderList(key: string, service: string, backups: Backup[]): string {
  if (backups.length === 0) return `service/${service} in ${key}: no backups; create one with setopsd backup create ${key} ${service}\n`;
  const lines = [`service/${service} in ${key}: ${backups.length} backup${backups.length === 1 ? '' : 's'}, newest first`];
  for (const b of backups) {
    const detail =
      b.status === 'failed'
        ? b.error ? `${b.error.code}: ${b.error.message}` : `${b.method}: ${b.providerStatus ?? 'failed'}`
        : b.file === undefined
          ? `${b.method}${b.sizeGiB !== undefined ? `, ${b.sizeGiB} GiB` : b.size !== undefined ? `, ${formatSize(b.size)}` : ''}${b.status === 'running' ? ` (${b.providerStatus ?? 'creating'}${b.percentProgress !== undefined ? ` ${b.percentProgress}%` : ''})` : ''}`
          : b.status === 'completed' ? `${formatSize(b.size ?? 0)}  sha256 ${b.sha256?.slice(0, 12)}` : 'in progress';
    lines.push(`  ${b.id}  ${b.status.padEnd(9)}  ${b.startedAt}  ${b.trigger.padEnd(11)}  ${detail}`);
  }
  return lines.join('\n') + '\n';
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
