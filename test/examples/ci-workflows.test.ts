/**
 * examples/ci/github-actions.yml and examples/ci/gitlab-ci.yml, run as a runner would: each file
 * is parsed with a YAML parser, and the shell steps of a job (`run:` / `script:`) run with bash
 * in a real git repository, with the environment the runner sets (GITHUB_EVENT_PATH,
 * GITHUB_REPOSITORY, GITHUB_API_URL… / CI_API_V4_URL, CI_MERGE_REQUEST_IID…) and `${{ … }}`
 * expressions filled in from the event. The GitHub and GitLab APIs are the local stand-in of
 * test/helpers/fake-forge.ts; `setopsd` on the PATH runs this checkout. Steps that are `uses:`
 * actions (checkout, setup-node) and the `npm install --global setopsd` step are what a runner
 * provides, so they are not run here.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parse } from 'yaml';
import { fakeForge } from '../helpers/fake-forge.js';
import { gitRepo, type TestRepo } from '../helpers/git.js';
import { tempDir } from '../helpers/temp.js';
import { killMentioning, repoRoot } from '../e2e/helpers.js';

const GITHUB_TOKEN = 'ghs_workflowCANARY0123456789abcdef';
const GITLAB_TOKEN = 'glpat-workflowCANARY-0123456789';
const PLAN_KEY = 'k'.repeat(48);

interface Step { name?: string; id?: string; uses?: string; run?: string; env?: Record<string, string>; 'continue-on-error'?: boolean }
interface Job { if?: string; steps: Step[]; env?: Record<string, string> }
interface Workflow { on: Record<string, unknown>; env: Record<string, string>; jobs: Record<string, Job> }

function manifests(opts: { volumes?: string[]; broken?: boolean } = {}): Record<string, string> {
  const services = (opts.volumes ?? ['files']).map((name) => `---
apiVersion: setopsd/v1
kind: Service
metadata: { name: ${name}, organization: acme, project: shop }
spec: { type: volume }
`).join('');
  return {
    'config/setops.yaml': `apiVersion: setopsd/v1
kind: Organization
metadata: { name: acme }
spec: { provider: local }
---
apiVersion: setopsd/v1
kind: Project
metadata: { name: shop, organization: acme }
---
apiVersion: setopsd/v1
kind: Stage
metadata: { name: review, organization: acme, project: shop }
${opts.broken ? 'spec: { approval: sometimes }\n' : ''}${services}`,
    // A workflow file beside the manifests must not be read as one.
    '.github/workflows/setopsd.yml': readFileSync(join(repoRoot, 'examples/ci/github-actions.yml'), 'utf8'),
  };
}

/** A directory with a `setopsd` that runs this checkout's CLI (what `npm install --global setopsd` provides). */
function setopsdOnPath(t: Parameters<typeof tempDir>[0]): string {
  const bin = tempDir(t, 'setopsd-bin-');
  const tsx = import.meta.resolve('tsx');
  writeFileSync(join(bin, 'setopsd'), `#!/bin/sh\nexec "${process.execPath}" --import "${tsx}" "${join(repoRoot, 'src/cli/run.ts')}" "$@"\n`);
  chmodSync(join(bin, 'setopsd'), 0o755);
  return bin;
}

/** `${{ a.b.c }}` from the context; anything more than a property path is a test failure (the workflows keep expressions that simple). */
function expand(text: string, ctx: Record<string, unknown>): string {
  return text.replace(/\$\{\{\s*([^}]*?)\s*\}\}/g, (_, expr: string) => {
    if (!/^[A-Za-z_][\w-]*(\.[\w-]+)*$/.test(expr)) throw new Error(`expression not supported by this test runner: ${expr}`);
    let v: unknown = ctx;
    for (const part of expr.split('.')) v = v === null || typeof v !== 'object' ? undefined : (v as Record<string, unknown>)[part];
    return v === undefined || v === null ? '' : String(v);
  });
}

function bash(script: string, cwd: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // GitHub's `shell: bash` is `bash --noprofile --norc -eo pipefail {0}`; GitLab stops a job at the first failing line.
    execFile('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], { cwd, env, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Runs the shell steps of one GitHub Actions job; returns each step's result. */
async function runGithubJob(wf: Workflow, name: string, repo: TestRepo, ctx: { event: Record<string, any>; eventName: string; sha: string; ref: string }, runner: Record<string, string>) {
  const job = wf.jobs[name]!;
  t.equal(job.if, `github.event_name == '${ctx.eventName}'`, `${name} runs on ${ctx.eventName}`);
  const eventPath = join(runner.RUNNER_TEMP!, 'event.json');
  writeFileSync(eventPath, JSON.stringify(ctx.event));
  const context = {
    github: { event: ctx.event, event_name: ctx.eventName, repository: 'acme/shop', sha: ctx.sha, ref: ctx.ref, token: GITHUB_TOKEN },
    secrets: { GITHUB_TOKEN, SETOPSD_PLAN_KEY: PLAN_KEY },
    vars: {},
  };
  const base: Record<string, string> = {
    ...runner,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: ctx.eventName,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_SHA: ctx.sha,
    GITHUB_REF: ctx.ref,
    GITHUB_WORKSPACE: repo.dir,
  };
  const results: { step: string; code: number; stdout: string; stderr: string }[] = [];
  for (const step of job.steps) {
    if (step.uses !== undefined || step.id === 'install') continue;
    const env = { ...base };
    for (const scope of [wf.env, job.env ?? {}, step.env ?? {}]) for (const [k, v] of Object.entries(scope)) env[k] = expand(String(v), context);
    const r = await bash(expand(step.run!, context), repo.dir, env);
    results.push({ step: step.name ?? step.run!, ...r });
    if (r.code !== 0 && step['continue-on-error'] !== true) break;
  }
  return results;
}

function pullRequestEvent(action: string, repo: TestRepo, number: number): Record<string, any> {
  const examples = (createRequire(import.meta.url)('@octokit/webhooks-examples') as { name: string; examples: any[] }[]).find((d) => d.name === 'pull_request')!.examples;
  const event = structuredClone(examples.find((e) => e.action === 'opened')!);
  event.action = action;
  event.number = number;
  event.pull_request.number = number;
  event.pull_request.head = { ...event.pull_request.head, ref: 'feature', sha: repo.revParse('feature') };
  event.pull_request.base = { ...event.pull_request.base, ref: 'main', sha: repo.revParse('main') };
  event.repository.full_name = 'acme/shop';
  return event;
}

function runnerEnv(t: Parameters<typeof tempDir>[0]): Record<string, string> {
  const home = tempDir(t, 'setopsd-runner-home-');
  mkdirSync(join(home, 'tmp'));
  return { PATH: `${setopsdOnPath(t)}:${process.env.PATH}`, HOME: home, RUNNER_TEMP: join(home, 'tmp'), LC_ALL: 'C' };
}

t.test('both files are valid YAML of the expected shape', async (t) => {
  const gh = parse(readFileSync(join(repoRoot, 'examples/ci/github-actions.yml'), 'utf8')) as Workflow;
  t.same(Object.keys(gh.on).sort(), ['pull_request', 'push']);
  t.same(Object.keys(gh.jobs).sort(), ['apply', 'plan']);
  t.match(gh.jobs.plan!, { permissions: { 'pull-requests': 'write', statuses: 'write' } });
  const gl = parse(readFileSync(join(repoRoot, 'examples/ci/gitlab-ci.yml'), 'utf8')) as Record<string, any>;
  t.same(gl.stages, ['plan', 'apply']);
  t.match(gl['setopsd:plan'], { rules: [{ if: '$CI_PIPELINE_SOURCE == "merge_request_event"' }] });
  t.match(gl['setopsd:apply'], { rules: [{ if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $CI_PIPELINE_SOURCE == "push"' }] });
});

t.test('GitHub Actions: the first push comments, the next updates it, a merge applies the saved plan', async (t) => {
  const wf = parse(readFileSync(join(repoRoot, 'examples/ci/github-actions.yml'), 'utf8')) as Workflow;
  const forge = await fakeForge(t, { token: GITHUB_TOKEN });
  const runner: Record<string, string> = { ...runnerEnv(t), GITHUB_API_URL: forge.url };
  const repo = gitRepo(t, manifests());
  t.teardown(async () => {
    await bash('setopsd destroy acme/shop/review --repo . --dir config --yes --allow-data-loss || true', repo.dir, runner);
    await killMentioning(runner.HOME!);
  });
  repo.branch('feature');
  repo.checkout('feature');
  repo.commit('add a volume', manifests({ volumes: ['files', 'uploads'] }));
  const prOpened = { event: pullRequestEvent('opened', repo, 5), eventName: 'pull_request', sha: repo.revParse('feature'), ref: 'refs/pull/5/merge' };
  const first = await runGithubJob(wf, 'plan', repo, prOpened, runner);
  t.same(first.map((s) => s.code), [0, 0], `validate and comment pass: ${first.map((s) => s.stderr).join('')}`);
  const [comment] = forge.on('acme/shop#5');
  t.ok(comment, 'the comment was created');
  t.match(comment!.body, /^<!-- setopsd:plan dir=config -->/);
  t.match(comment!.body, /`acme\/shop\/review`/);
  t.match(comment!.body, /service\/uploads/);
  t.match(comment!.body, /# merge this pull request: the setopsd workflow applies main/);
  t.match(forge.statuses.at(-1), { sha: repo.revParse('feature'), body: { state: 'success', context: 'setopsd/plan (config)' } });

  repo.commit('one more volume', manifests({ volumes: ['files', 'uploads', 'cache'] }));
  const sync = { ...prOpened, event: pullRequestEvent('synchronize', repo, 5), sha: repo.revParse('feature') };
  const second = await runGithubJob(wf, 'plan', repo, sync, runner);
  t.same(second.map((s) => s.code), [0, 0]);
  t.same(forge.on('acme/shop#5').map((c) => c.id), [comment!.id], 'the same comment, updated');
  t.match(forge.on('acme/shop#5')[0]!.body, /service\/cache/);

  repo.commit('break it', manifests({ volumes: ['files'], broken: true }));
  const broken = await runGithubJob(wf, 'plan', repo, { ...prOpened, event: pullRequestEvent('synchronize', repo, 5), sha: repo.revParse('feature') }, runner);
  t.same(broken.map((s) => s.code), [1, 1], 'validate fails (and goes on), the comment step fails the job');
  t.match(broken[0]!.stdout + broken[0]!.stderr, /config\/setops\.yaml:\d+:\d+: \/spec\/approval/);
  t.match(forge.on('acme/shop#5')[0]!.body, /The manifests are invalid: nothing was planned[\s\S]*config\/setops\.yaml:\d+:\d+: \/spec\/approval/);
  repo.commit('fix it', manifests({ volumes: ['files', 'uploads', 'cache'] }));

  repo.checkout('main');
  repo.git('merge', '--quiet', '--no-ff', '-m', 'Merge pull request #5', 'feature');
  const push = { event: { ref: 'refs/heads/main', after: repo.revParse('main') }, eventName: 'push', sha: repo.revParse('main'), ref: 'refs/heads/main' };
  const applied = await runGithubJob(wf, 'apply', repo, push, runner);
  t.same(applied.map((s) => s.code), [0, 0], applied.map((s) => s.stdout + s.stderr).join('\n'));
  t.match(applied[0]!.stderr, /Saved the plan to setopsd\.plan/);
  const again = await bash('setopsd plan --repo . --dir config --detailed-exitcode', repo.dir, runner);
  t.equal(again.code, 0, `nothing left to apply: ${again.stdout}`);
  const all = [...first, ...second, ...broken, ...applied].map((s) => s.stdout + s.stderr).join('\n') + forge.comments.map((c) => c.body).join('\n');
  t.notMatch(all, /CANARY/, 'the token is in no output and no comment');
});

t.test('GitLab CI: the merge request gets one note, updated on the next push', async (t) => {
  const gl = parse(readFileSync(join(repoRoot, 'examples/ci/gitlab-ci.yml'), 'utf8')) as Record<string, any>;
  const forge = await fakeForge(t, { token: GITLAB_TOKEN });
  const repo = gitRepo(t, manifests());
  repo.branch('feature');
  repo.checkout('feature');
  const job = gl['setopsd:plan'];
  t.equal(job.extends, '.setopsd');
  t.same(gl['.setopsd'].before_script, ['npm install --global "$SETOPSD_PACKAGE"'], 'the install line is what the test replaces by its PATH');
  const script = (job.script as string[]).join('\n');
  const runner = runnerEnv(t);
  const run = () =>
    bash(script, repo.dir, {
      ...runner,
      ...gl.variables,
      GITLAB_CI: 'true',
      CI_PIPELINE_SOURCE: 'merge_request_event',
      CI_API_V4_URL: forge.gitlabUrl,
      CI_PROJECT_ID: '42',
      CI_PROJECT_PATH: 'acme/shop',
      CI_MERGE_REQUEST_IID: '3',
      CI_MERGE_REQUEST_TARGET_BRANCH_NAME: 'main',
      CI_MERGE_REQUEST_DIFF_BASE_SHA: repo.revParse('main'),
      CI_COMMIT_SHA: repo.revParse('feature'),
      CI_COMMIT_REF_NAME: 'feature',
      CI_JOB_TOKEN: 'job-token-that-cannot-write-notes',
      GITLAB_TOKEN,
    });
  repo.commit('add a volume', manifests({ volumes: ['files', 'uploads'] }));
  const first = await run();
  t.equal(first.code, 0, first.stdout + first.stderr);
  const notes = forge.on('acme/shop!3');
  t.equal(notes.length, 1);
  t.match(notes[0]!.body, /^<!-- setopsd:plan dir=config -->[\s\S]*service\/uploads/);
  t.match(notes[0]!.body, /# merge this merge request: the pipeline applies main/);
  repo.commit('one more', manifests({ volumes: ['files', 'uploads', 'cache'] }));
  const second = await run();
  t.equal(second.code, 0, second.stdout + second.stderr);
  t.same(forge.on('acme/shop!3').map((c) => c.id), [notes[0]!.id], 'the same note');
  t.match(forge.on('acme/shop!3')[0]!.body, /service\/cache/);
  t.match(forge.statuses.at(-1), { target: 'acme/shop', sha: repo.revParse('feature'), body: { state: 'success', name: 'setopsd/plan (config)' } });
  t.ok(forge.requests.every((r) => r.headers['private-token'] === GITLAB_TOKEN), 'GITLAB_TOKEN is used over the job token');
  t.notMatch(first.stdout + first.stderr + second.stdout + second.stderr, /CANARY/);
});
