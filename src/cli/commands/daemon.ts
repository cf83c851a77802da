import type { PreviewSettings } from '../../daemon/previews.js';
import { resolve } from 'node:path';
import type { Command } from '../command.js';
import { UsageError } from '../../errors.js';
import { startDaemon } from '../../daemon/daemon.js';
import { parseDuration } from '../../daemon/duration.js';
import { startHttpServer } from '../../daemon/http/server.js';
import { createMetrics } from '../../daemon/http/metrics.js';
import { directorySource } from '../../daemon/sources/directory.js';
import { localRepoSource } from '../../daemon/sources/local-repo.js';
import { remoteSource } from '../../daemon/sources/remote.js';
import type { ConfigSource } from '../../daemon/sources/source.js';
import { STATE_DIR_HELP, STATE_DIR_OPTION, resolveStateDir } from '../state-dir.js';
import { intOption } from '../stage-select.js';

const command: Command = {
  name: 'daemon',
  summary: 'Follow the config repository and keep every stage converged',
  help: [
    'Usage: setopsd daemon [DIR | --repo PATH|URL] [--branch main] [--dir SUBDIR] [--listen HOST:PORT]',
    '                      [--concurrency N] [--secrets FILE] [--poll DURATION] [--shutdown-timeout DURATION]',
    '                      [--shard K/N] [--state-dir DIR]',
    '',
    'Reconciles every stage once, then follows the source: a new commit of the tracked branch of a',
    'local repository (watched on its refs, no polling), or every saved change of a directory',
    '(development mode), is loaded, validated and planned; stages whose desired state changed are',
    'applied, one apply per stage at a time, up to --concurrency stages at once, each after its',
    '`after:` stage converged. An invalid commit applies nothing. Stages with `approval: manual` and',
    'plans that lose data wait for `setopsd approve`. Failing stages back off (5 s doubling to 5 min)',
    'and stall after 3 failures on the same desired state until it changes or `setopsd retry`.',
    '',
    'A remote repository (--repo https://…) is fetched into a bare clone under the state directory,',
    'every --poll (default 30s, ±10% jitter) and at once on a signed webhook: POST /hooks/github',
    '(X-Hub-Signature-256) or /hooks/gitlab (X-Gitlab-Token), with the secret from',
    'SETOPSD_WEBHOOK_SECRET (unset: the hooks answer 404). Credentials from SETOPSD_GIT_TOKEN (or',
    'SETOPSD_GIT_USER + SETOPSD_GIT_PASSWORD), never in the URL. A deleted branch is reported',
    '(E_GIT_BRANCH_MISSING) and applies nothing. A force-push is reported (E_GIT_FORCE_PUSHED) and',
    'applies nothing until `setopsd sync` accepts the new head; a webhook or a poll does not.',
    '',
    'HTTP on --listen (default 127.0.0.1:7420): /healthz, /readyz, /metrics, /api/v1/…, and a status',
    'page at /. The token for mutations is written to <state-dir>/daemon.json (mode 0600).',
    '',
    'Options:',
    '  DIR                     Config directory to follow (development mode).',
    '  --repo PATH|URL         A local git repository, or the https:// URL of a remote one, to follow.',
    '  --branch NAME           Branch of --repo to follow (default main).',
    '  --dir SUBDIR            Sub-directory of --repo holding the manifests.',
    '  --listen HOST:PORT      Where the API and page answer (default 127.0.0.1:7420; port 0: any free one).',
    '  --concurrency N         Stages reconciled at once (default 4).',
    '  --secrets FILE          Secrets file for `{secret: NAME}` values of local stages.',
    '  --poll DURATION         Also read the source this often (500ms, 30s, 10m, 1h; default: off for local sources, 30s for remote ones).',
    '  --shutdown-timeout D    On SIGTERM, let applies in flight finish this long before canceling them (default 60s).',
    '  --shard K/N             Reconcile only the stages whose key hashes to shard K of N.',
    '  --drift-interval D      Check what runs against what was applied this often (default 10m; 0: never).',
    '  --self-heal             Deploy a stage that drifted again (a killed supervisor, crashed servers).',
    '  --task-check-interval D Look for failed scheduled task runs to notify (task.failed) this often (default 60s; 0: never).',
    '  --preview-stages FROM=STAGE',
    '                          A preview stage pr-<number> per open pull request (pull_request / Merge Request',
    '                          webhooks), copying STAGE of the branch\'s own manifests: unprotected, approval',
    '                          auto, no domains. Removed with its data when the pull request closes or the',
    '                          branch is deleted. Needs a --repo source (a local path or a remote URL; never',
    '                          from a fork).',
    '  --preview-branches GLOB Also give branches matching GLOB (e.g. \'pr/*\') a preview; the number is the',
    '                          last digits of the branch name.',
    '  --comment-prs           On pull_request webhooks (opened, synchronize, reopened; GitLab open, update,',
    '                          reopen) plan the head against the base and post or update the pull request\'s',
    '                          plan comment, as `setopsd comment` does; closed ones are left alone. Tokens from',
    '                          the environment: GITHUB_TOKEN (GITHUB_API_URL), or GITLAB_TOKEN and CI_API_V4_URL.',
    '                          Needs a --repo source and SETOPSD_WEBHOOK_SECRET. A remote --repo fetches the head',
    '                          from refs/pull/N/head (GitLab refs/merge-requests/N/head), so forks work too.',
    STATE_DIR_HELP,
    '',
    'Exit codes: 0 stopped by SIGINT/SIGTERM, 1 could not start.',
  ].join('\n'),
  options: {
    ...STATE_DIR_OPTION,
    repo: { type: 'string' },
    branch: { type: 'string' },
    dir: { type: 'string' },
    listen: { type: 'string' },
    concurrency: { type: 'string' },
    secrets: { type: 'string' },
    poll: { type: 'string' },
    'shutdown-timeout': { type: 'string' },
    shard: { type: 'string' },
    'drift-interval': { type: 'string' },
    'self-heal': { type: 'boolean' },
    'task-check-interval': { type: 'string' },
    'preview-stages': { type: 'string' },
    'preview-branches': { type: 'string' },
    'comment-prs': { type: 'boolean' },
  },
  async run(ctx) {
    const { deps, signal } = ctx;
    const v = ctx.args.values;
    // A daemon tells what it does: info unless SETOPSD_LOG_LEVEL says otherwise.
    if (deps.env.SETOPSD_LOG_LEVEL === undefined) deps.log.level = 'info';
    const concurrency = intOption('concurrency', v.concurrency, 4);
    if (concurrency < 1) throw new UsageError('--concurrency must be at least 1');
    const pollFlag = v.poll === undefined ? undefined : parseDuration(String(v.poll), '--poll');
    let pollMs = pollFlag ?? 0;
    let pollJitter = 0;
    const shutdownTimeoutMs = v['shutdown-timeout'] === undefined ? 60_000 : parseDuration(String(v['shutdown-timeout']), '--shutdown-timeout');
    const driftIntervalMs = v['drift-interval'] === undefined ? 600_000 : String(v['drift-interval']) === '0' ? 0 : parseDuration(String(v['drift-interval']), '--drift-interval');
    const taskCheckIntervalMs = v['task-check-interval'] === undefined ? 60_000 : String(v['task-check-interval']) === '0' ? 0 : parseDuration(String(v['task-check-interval']), '--task-check-interval');
    const listen = parseListen(typeof v.listen === 'string' ? v.listen : '127.0.0.1:7420');
    const shard = typeof v.shard === 'string' ? parseShard(v.shard) : undefined;
    if (ctx.args.positionals.length > 1) throw new UsageError(`daemon follows one source, got: ${ctx.args.positionals.join(' ')}`);
    const given = ctx.args.positionals[0];
    let source: ConfigSource;
    let stateDir: string;
    if (typeof v.repo === 'string') {
      if (given !== undefined) throw new UsageError(`give either a directory ("${given}") or --repo, not both`);
      const branch = typeof v.branch === 'string' ? v.branch : 'main';
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v.repo)) {
        // A remote: state in the user state directory (as for --repo PATH), the bare clone under it.
        stateDir = resolveStateDir(ctx, { root: deps.cwd, commit: 'tracked' });
        source = remoteSource({ url: v.repo, branch, ...(typeof v.dir === 'string' ? { dir: v.dir } : {}), stateDir, env: deps.env });
        pollMs = pollFlag ?? 30_000;
        pollJitter = 0.1;
      } else {
        const repo = resolve(deps.cwd, v.repo);
        source = await localRepoSource({ repo, branch, ...(typeof v.dir === 'string' ? { dir: v.dir } : {}), display: v.repo });
        stateDir = resolveStateDir(ctx, { root: repo, commit: 'tracked' });
      }
    } else {
      if (v.branch !== undefined || v.dir !== undefined) throw new UsageError('--branch and --dir need --repo PATH');
      const dir = resolve(deps.cwd, given ?? '.');
      source = directorySource({ dir, display: given ?? '.' });
      stateDir = resolveStateDir(ctx, { root: dir });
    }
    const previews = previewSettings(v['preview-stages'], v['preview-branches']);
    const metrics = createMetrics();
    const running = await startDaemon(
      deps,
      {
        stateDir,
        source,
        pollMs,
        pollJitter,
        ...(deps.env.SETOPSD_WEBHOOK_SECRET ? { webhookSecret: deps.env.SETOPSD_WEBHOOK_SECRET } : {}),
        concurrency,
        shutdownTimeoutMs,
        driftIntervalMs,
        selfHeal: v['self-heal'] === true,
        taskCheckIntervalMs,
        ...(typeof v.secrets === 'string' ? { secretsFile: resolve(deps.cwd, v.secrets) } : {}),
        ...(shard ? { shard } : {}),
        ...(previews ? { previews } : {}),
        ...(v['comment-prs'] === true ? { commentPrs: true } : {}),
        metrics,
        listen: (view, token) => startHttpServer({ view, listen, token, log: deps.log, metrics: metrics.registry }),
        onEvent: (event) => {
          metrics.observe(event);
          const level = event.type === 'invalid' || event.type === 'source-error' || event.type === 'drift' ? 'warn' : 'info';
          deps.log[level]({ event: event.type, ...('stage' in event ? { stage: event.stage } : {}), ...('revision' in event ? { commit: event.revision } : {}) }, describeEvent(event));
        },
      },
      signal,
    );
    deps.stderr.write(`setopsd daemon: following ${source.description}, state in ${stateDir}${running.url ? `, answering on ${running.url}` : ''}\n`);
    await running.stopped;
    deps.stderr.write('setopsd daemon: stopped\n');
    return 0;
  },
};
export default command;

function parseListen(text: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new UsageError(`--listen must be HOST:PORT, e.g. 127.0.0.1:7420, got "${text}"`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count) throw new UsageError(`--shard must be K/N with 1 ≤ K ≤ N, e.g. 1/3, got "${text}"`);
  return { index, count };
}

function describeEvent(event: import('../../daemon/controller.js').DaemonEvent): string {
  switch (event.type) {
    case 'synced':
      return `revision ${event.revision?.slice(0, 12) ?? '(working tree)'}: ${event.stages} stages, ${event.changed.length} changed`;
    case 'invalid':
      return `revision ${event.revision?.slice(0, 12) ?? '(working tree)'} is invalid, nothing applied:\n  ${event.problems.join('\n  ')}${event.issues > event.problems.length ? `\n  … ${event.issues - event.problems.length} more` : ''}`;
    case 'source-error':
      return event.message;
    case 'apply':
      return `${event.stage}: ${event.event.type}`;
    case 'held':
      return `${event.stage}: ${event.reason}`;
    case 'approved':
      return `${event.stage}: plan ${event.planId} approved`;
    case 'retry':
      return `${event.stage}: retry requested`;
    case 'drift':
      return `${event.stage}: drift: ${event.findings.join('; ')}${event.healing ? ' (deploying again)' : ''}`;
  }
}

/** `--preview-stages FROM=STAGE` (and `--preview-branches GLOB`), or none. */
function previewSettings(stages: unknown, branches: unknown): PreviewSettings | undefined {
  if (stages === undefined) {
    if (branches !== undefined) throw new UsageError('--preview-branches needs --preview-stages FROM=STAGE');
    return undefined;
  }
  const m = /^FROM=(.+)$/.exec(String(stages));
  if (!m) throw new UsageError(`--preview-stages takes FROM=STAGE, e.g. --preview-stages FROM=staging; got "${String(stages)}"`);
  return { from: m[1]!, ...(typeof branches === 'string' ? { branches } : {}) };
}
