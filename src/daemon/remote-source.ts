import * as fs from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import git, { type GitAuth, type GitHttpResponse, type HttpClient } from 'isomorphic-git';
import nodeHttp from 'isomorphic-git/http/node';
import { CanceledError, SetopsError, throwIfAborted } from '../errors.js';

/**
 * Follows one branch of a remote repository over HTTP(S) with isomorphic-git: a bare
 * repository under the state directory, created on the first fetch, then one `fetch` per call.
 * Manifests are read from its git objects (`readGitTree({ repo: source.gitdir, ref: commit })`),
 * never from a checkout.
 *
 * Credentials come from the environment (see {@link gitCredentials}) and reach isomorphic-git
 * only through `onAuth`: they are never part of a URL, a message, or a file in the repository.
 */

/** The server refused or asked for credentials, or the credential settings are inconsistent. Not retryable. */
export const E_GIT_AUTH = 'E_GIT_AUTH';
/** Fetching failed on the way (network errors, timeouts, HTTP 5xx, 408, 429): retryable. */
export const E_GIT_FETCH = 'E_GIT_FETCH';
/** No repository at the URL, a server that does not speak git, or another refusal: not retryable. */
export const E_GIT_NOT_A_REPOSITORY = 'E_GIT_NOT_A_REPOSITORY';
/** The local clone cannot be created (the state directory is not writable): not retryable. */
export const E_GIT_CLONE_DIR = 'E_GIT_CLONE_DIR';
/** The remote URL cannot be used (scheme, embedded credentials, query). Not retryable. */
export const E_GIT_URL = 'E_GIT_URL';
/** Another ref (a pull request) is more than the byte limit to fetch. Not retryable. */
export const E_GIT_TOO_LARGE = 'E_GIT_TOO_LARGE';

/** Environment variables read for credentials. */
export const GIT_TOKEN_ENV = 'SETOPSD_GIT_TOKEN';
export const GIT_USER_ENV = 'SETOPSD_GIT_USER';
export const GIT_PASSWORD_ENV = 'SETOPSD_GIT_PASSWORD';
/** User sent with a token when SETOPSD_GIT_USER is not set (what GitHub expects for tokens). */
export const DEFAULT_TOKEN_USER = 'x-access-token';

/** Basic-auth credentials and the variable they came from (for messages: never the value). */
export interface GitCredentials {
  username: string;
  password: string;
  from: typeof GIT_TOKEN_ENV | typeof GIT_PASSWORD_ENV;
}

/**
 * Credentials from `env`: `SETOPSD_GIT_TOKEN` as the password, with user `SETOPSD_GIT_USER` or
 * else `x-access-token`; or `SETOPSD_GIT_USER` + `SETOPSD_GIT_PASSWORD`. None set: undefined
 * (anonymous). Throws an `E_GIT_AUTH` SetopsError when they contradict each other (a password
 * without a user, or both a token and a password). Empty values count as unset.
 */
export function gitCredentials(env: Record<string, string | undefined>): GitCredentials | undefined {
  const value = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const token = value(GIT_TOKEN_ENV);
  const user = value(GIT_USER_ENV);
  const password = value(GIT_PASSWORD_ENV);
  if (token !== undefined && password !== undefined) {
    throw new SetopsError(`${GIT_TOKEN_ENV} and ${GIT_PASSWORD_ENV} are both set; set only one of them`, { code: E_GIT_AUTH });
  }
  if (token !== undefined) return { username: user ?? DEFAULT_TOKEN_USER, password: token, from: GIT_TOKEN_ENV };
  if (password !== undefined) {
    if (user === undefined) {
      throw new SetopsError(`${GIT_PASSWORD_ENV} is set without ${GIT_USER_ENV}; set the user too, or use ${GIT_TOKEN_ENV}`, {
        code: E_GIT_AUTH,
      });
    }
    return { username: user, password, from: GIT_PASSWORD_ENV };
  }
  if (user !== undefined) {
    throw new SetopsError(`${GIT_USER_ENV} is set without ${GIT_TOKEN_ENV} or ${GIT_PASSWORD_ENV}; set one of them too`, {
      code: E_GIT_AUTH,
    });
  }
  return undefined;
}

/**
 * Checks a remote URL: `http:` or `https:`, no user or password in it (credentials belong in
 * the environment), no query or fragment. Returns it parsed; throws an `E_GIT_URL` SetopsError
 * whose message shows the URL without its credentials.
 */
export function checkRemoteUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SetopsError(`remote ${JSON.stringify(redactUrl(url))} is not a URL; give the https:// URL of the repository (SSH remotes are not followed)`, { code: E_GIT_URL });
  }
  const shown = displayUrl(parsed);
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new SetopsError(`remote ${shown}: only https:// and http:// URLs are followed (got ${parsed.protocol}); give the repository's HTTPS URL`, {
      code: E_GIT_URL,
    });
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new SetopsError(`remote ${shown}: the URL has credentials in it; remove them and set ${GIT_TOKEN_ENV} instead`, { code: E_GIT_URL });
  }
  if (parsed.search !== '' || parsed.hash !== '') {
    throw new SetopsError(`remote ${shown}: the URL has a query or fragment; give the plain repository URL`, { code: E_GIT_URL });
  }
  return parsed;
}

/** The URL for messages: scheme, host and path only (no credentials, query or fragment). */
export function displayUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

/** `url` as typed with everything before its last `@` masked (for a string that does not parse as a URL). */
function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^]*@/i, (_, scheme: string | undefined) => `${scheme ?? ''}***@`);
}

/** Whether credentials may be sent to `url`: over https, or over http to a loopback address only. */
export function mayCarryCredentials(url: URL): boolean {
  if (url.protocol === 'https:') return true;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Where the bare repository following `url`'s `branch` lives under the state directory:
 * `<stateDir>/remotes/<host>-<path>-<hash>.git`, readable and unique per URL and branch.
 */
export function remoteDir(stateDir: string, url: string, branch: string): string {
  const parsed = new URL(url);
  const slug = `${parsed.host}${parsed.pathname}`
    .replace(/\.git$/, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
  const hash = createHash('sha256').update(`${displayUrl(parsed)}\n${branch}`).digest('hex').slice(0, 12);
  return join(stateDir, 'remotes', `${slug}-${hash}.git`);
}

/** What a fetch found on the tracked branch. */
export type RemoteFetchResult =
  | {
      kind: 'commit';
      /** The branch's commit on the remote now. */
      commit: string;
      /** What the branch was at after the previous fetch (undefined on the first). */
      previous: string | undefined;
      changed: boolean;
      /** The new commit does not descend from `previous` (a force-push). Only reported: the caller decides. */
      forced: boolean;
    }
  | {
      /** The branch does not exist on the remote (deleted, never pushed, or the repository is empty). */
      kind: 'branch-missing';
      branch: string;
      /** The last commit seen on it, still in the local repository. */
      previous: string | undefined;
    };

export interface RemoteSourceOptions {
  /** `https://…` (or `http://…`) URL of the repository, without credentials. */
  url: string;
  /** Branch to follow, e.g. `main`. */
  branch: string;
  /** Directory of the bare repository (see {@link remoteDir}); created on the first fetch. */
  dir: string;
  /** Environment for credentials (see {@link gitCredentials}). */
  env: Record<string, string | undefined>;
  /** HTTP client for isomorphic-git (default `isomorphic-git/http/node`). */
  http?: HttpClient;
  /** At most this many bytes of answers per {@link RemoteSource.fetchOther} (default {@link OTHER_FETCH_MAX_BYTES}). */
  otherFetchMaxBytes?: number;
}

/** See the module comment. */
export class RemoteSource {
  /** The bare repository: give it to `readGitTree({ repo })`. */
  readonly gitdir: string;
  readonly branch: string;
  /** The remote-tracking ref that holds the last fetched commit, e.g. `refs/remotes/origin/main`. */
  readonly trackingRef: string;
  /** The URL as shown in messages. */
  readonly display: string;
  readonly #url: URL;
  readonly #credentials: GitCredentials | undefined;
  readonly #http: HttpClient;
  readonly #otherFetchMaxBytes: number;
  #queue: Promise<unknown> = Promise.resolve();

  /** Throws (`E_GIT_URL`, `E_GIT_AUTH`) when the URL, branch or credential settings are unusable. */
  constructor(opts: RemoteSourceOptions) {
    this.#url = checkRemoteUrl(opts.url);
    this.display = displayUrl(this.#url);
    if (!isBranchName(opts.branch)) {
      throw new SetopsError(`remote ${this.display}: ${JSON.stringify(opts.branch)} is not a branch name; give a branch such as main`, {
        code: E_GIT_URL,
      });
    }
    this.#credentials = gitCredentials(opts.env);
    this.gitdir = opts.dir;
    this.branch = opts.branch;
    this.trackingRef = `refs/remotes/origin/${opts.branch}`;
    this.#http = opts.http ?? nodeHttp;
    this.#otherFetchMaxBytes = opts.otherFetchMaxBytes ?? OTHER_FETCH_MAX_BYTES;
  }

  /**
   * The commit last accepted on the branch (see {@link accept}), or undefined when none was
   * (a new clone, or one made before accepted commits were kept).
   */
  async accepted(): Promise<string | undefined> {
    const text = await fs.promises.readFile(join(this.gitdir, ACCEPTED_REF), 'utf8').catch(() => '');
    const oid = text.trim();
    return /^[0-9a-f]{40}$/.test(oid) ? oid : undefined;
  }

  /**
   * Records `commit` as accepted: kept in the clone as the ref `refs/setopsd/accepted` (written
   * atomically), so a restarted daemon compares the next head with it — a force-push refused
   * (or made) while it was down is still refused — and the commit's objects stay reachable.
   */
  async accept(commit: string): Promise<void> {
    const file = join(this.gitdir, ACCEPTED_REF);
    const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await fs.promises.mkdir(dirname(file), { recursive: true });
    await fs.promises.writeFile(temp, `${commit}\n`);
    await rename(temp, file);
  }

  /** The commit of the last successful fetch, or undefined before the first one. */
  async current(): Promise<string | undefined> {
    if (!(await exists(join(this.gitdir, 'config')))) return undefined;
    return resolveOrUndefined(this.gitdir, this.trackingRef);
  }

  /**
   * Fetches the tracked branch (creating the bare repository first if needed) and reports what
   * it is at now. Fetches of one source run one after another.
   *
   * Throws SetopsErrors: `E_GIT_AUTH` (not retryable) when the server wants credentials that are
   * not set or refuses them; `E_GIT_FETCH`, retryable for network errors, timeouts and HTTP 5xx,
   * not retryable for a missing repository or a server that does not speak git; CanceledError when
   * `signal` aborts. Messages name the URL without credentials.
   */
  fetch(signal?: AbortSignal): Promise<RemoteFetchResult> {
    const run = this.#queue.then(() => this.#fetch(signal));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #fetch(signal: AbortSignal | undefined): Promise<RemoteFetchResult> {
    throwIfAborted(signal);
    await this.#ensureRepository();
    const previous = await resolveOrUndefined(this.gitdir, this.trackingRef);
    let fetchHead: string | null;
    try {
      const result = await git.fetch({
        fs,
        http: abortableHttp(this.#http, signal),
        gitdir: this.gitdir,
        remote: 'origin',
        remoteRef: `refs/heads/${this.branch}`,
        // Names the local ref whose commit is offered as "have", so only new objects are sent.
        ref: this.trackingRef,
        singleBranch: true,
        tags: false,
        onAuth: () => this.#auth(),
        onAuthFailure: () => ({ cancel: true }),
      });
      fetchHead = result.fetchHead;
    } catch (error) {
      if (signal?.aborted) throw new CanceledError('canceled', { cause: signal.reason });
      const e = error as { code?: string; data?: { what?: string } };
      if (e.code === 'NotFoundError' && e.data?.what === `refs/heads/${this.branch}`) {
        return { kind: 'branch-missing', branch: this.branch, previous };
      }
      throw this.#fetchError(error);
    }
    if (fetchHead === null) return { kind: 'branch-missing', branch: this.branch, previous };
    const commit = fetchHead;
    const changed = commit !== previous;
    const forced = previous !== undefined && changed && !(await descends(this.gitdir, commit, previous));
    return { kind: 'commit', commit, previous, changed, forced };
  }

  /**
   * Fetches another ref of the remote — a pull request's branch, or GitHub's `refs/pull/N/head` —
   * without touching the tracked branch's remote-tracking ref, its accepted commit or the
   * force-push check: it goes through a second remote whose refspec matches nothing, so no ref is
   * written at all; the objects land in the clone and are read by the commit id this returns.
   * Undefined when the remote has no such ref. Queued with the tracked branch's fetches, and
   * given at most {@link OTHER_FETCH_TIMEOUT_MS}, so that a slow pull request (a huge fork, say)
   * cannot hold up the tracked branch for long; and at most `otherFetchMaxBytes` of answers, since
   * isomorphic-git holds a whole pack in memory and anyone may open a pull request. Throws as
   * {@link fetch} does, and `E_GIT_TOO_LARGE` past the byte limit.
   */
  fetchOther(remoteRef: string, signal?: AbortSignal): Promise<string | undefined> {
    const run = this.#queue.then(() => this.#fetchOther(remoteRef, signal));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #fetchOther(remoteRef: string, outer: AbortSignal | undefined): Promise<string | undefined> {
    throwIfAborted(outer);
    await this.#ensureRepository();
    const timeout = AbortSignal.timeout(OTHER_FETCH_TIMEOUT_MS);
    const signal = outer ? AbortSignal.any([outer, timeout]) : timeout;
    const limit = { max: this.#otherFetchMaxBytes, exceeded: false };
    try {
      const result = await git.fetch({
        fs,
        http: abortableHttp(limitedHttp(this.#http, limit), signal),
        gitdir: this.gitdir,
        remote: OTHER_REMOTE,
        remoteRef,
        // Offers the tracked branch's commit as "have": only objects new to it are sent.
        ref: this.trackingRef,
        singleBranch: true,
        tags: false,
        onAuth: () => this.#auth(),
        onAuthFailure: () => ({ cancel: true }),
      });
      return result.fetchHead ?? undefined;
    } catch (error) {
      if (outer?.aborted) throw new CanceledError('canceled', { cause: outer.reason });
      if (limit.exceeded) {
        throw new SetopsError(`remote ${this.display}: ${remoteRef} is more than ${limit.max >= 1048576 ? `${Math.round(limit.max / 1048576)} MiB` : `${Math.round(limit.max / 1024)} KiB`} to fetch; it is not read (a pull request that large is refused)`, {
          code: E_GIT_TOO_LARGE,
          data: { url: this.display, ref: remoteRef, maxBytes: limit.max },
        });
      }
      if (timeout.aborted) {
        throw new SetopsError(`remote ${this.display}: fetching ${remoteRef} took longer than ${OTHER_FETCH_TIMEOUT_MS / 1000} s; it is tried again on the next sync`, {
          code: E_GIT_FETCH,
          data: { url: this.display, ref: remoteRef },
        });
      }
      const e = error as { code?: string; data?: { what?: string } };
      if (e.code === 'NotFoundError' && e.data?.what === remoteRef) return undefined;
      throw this.#fetchError(error, remoteRef);
    }
  }

  /** The branches of the remote (names without `refs/heads/`), from its ref advertisement, within {@link OTHER_FETCH_TIMEOUT_MS}. Throws as {@link fetch} does. */
  async listBranches(outer?: AbortSignal): Promise<string[]> {
    throwIfAborted(outer);
    const timeout = AbortSignal.timeout(OTHER_FETCH_TIMEOUT_MS);
    const signal = outer ? AbortSignal.any([outer, timeout]) : timeout;
    try {
      const refs = await git.listServerRefs({
        http: abortableHttp(this.#http, signal),
        url: this.display,
        prefix: 'refs/heads/',
        protocolVersion: 1,
        onAuth: () => this.#auth(),
        onAuthFailure: () => ({ cancel: true }),
      });
      return refs.map((r) => r.ref.slice('refs/heads/'.length)).filter((b) => b.length > 0 && !b.endsWith('^{}')).sort();
    } catch (error) {
      if (outer?.aborted) throw new CanceledError('canceled', { cause: outer.reason });
      if (timeout.aborted) {
        throw new SetopsError(`remote ${this.display}: listing its branches took longer than ${OTHER_FETCH_TIMEOUT_MS / 1000} s; it is tried again on the next sync`, { code: E_GIT_FETCH, data: { url: this.display } });
      }
      throw this.#fetchError(error, 'the list of branches');
    }
  }

  #auth(): GitAuth | void {
    if (!this.#credentials) return undefined;
    if (!mayCarryCredentials(this.#url)) {
      throw new SetopsError(
        `remote ${this.display}: refusing to send ${this.#credentials.from} over plain http to a host that is not loopback; use the https:// URL`,
        { code: E_GIT_AUTH },
      );
    }
    return { username: this.#credentials.username, password: this.#credentials.password };
  }

  /**
   * Creates the bare repository with its remote on first use, atomically: made in a temp dir and
   * renamed into place, so a crash never leaves a half-made repository behind.
   */
  async #ensureRepository(): Promise<void> {
    try {
      if (await exists(join(this.gitdir, 'config'))) {
        await this.#configure(this.gitdir);
        return;
      }
      const temp = `${this.gitdir}.init-${randomBytes(6).toString('hex')}`;
      await fs.promises.mkdir(dirname(this.gitdir), { recursive: true });
      try {
        await git.init({ fs, gitdir: temp, bare: true, defaultBranch: this.branch });
        await this.#configure(temp);
        await rm(this.gitdir, { recursive: true, force: true }); // a leftover without config
        await rename(temp, this.gitdir).catch(async (error: unknown) => {
          // Another process made it meanwhile: use theirs.
          if (!(await exists(join(this.gitdir, 'config')))) throw error;
        });
      } finally {
        await rm(temp, { recursive: true, force: true });
      }
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw new SetopsError(
        `remote ${this.display}: cannot create its clone in ${this.gitdir} (${code ?? String(error)}); check that the state directory is writable`,
        { code: E_GIT_CLONE_DIR, data: { url: this.display, dir: this.gitdir, ...(code ? { cause: code } : {}) } },
      );
    }
  }

  /** Sets the remote's URL and refspec where they differ (only reads when they are right). */
  async #configure(gitdir: string): Promise<void> {
    const want: [string, string][] = [
      ['remote.origin.url', this.display],
      ['remote.origin.fetch', `+refs/heads/${this.branch}:${this.trackingRef}`],
      // For fetchOther: isomorphic-git writes the refs a remote's refspec maps, and this maps none.
      [`remote.${OTHER_REMOTE}.url`, this.display],
      [`remote.${OTHER_REMOTE}.fetch`, '+refs/setopsd-fetches-map-nothing/*:refs/setopsd/unused/*'],
    ];
    for (const [path, value] of want) {
      if ((await git.getConfig({ fs, gitdir, path })) !== value) await git.setConfig({ fs, gitdir, path, value });
    }
  }

  /** A SetopsError for a failed fetch of the tracked branch, or of `what` (another ref, the branch list). */
  #fetchError(error: unknown, what: string = this.branch): SetopsError {
    if (error instanceof SetopsError) return error;
    const e = error as { code?: string; message?: string; data?: { statusCode?: number } };
    const where = `remote ${this.display}`;
    const status = e.code === 'HttpError' ? e.data?.statusCode : undefined;
    const data = { url: this.display, branch: this.branch, ...(what.startsWith('refs/') ? { ref: what } : {}), ...(e.code ? { cause: e.code } : {}), ...(status ? { status } : {}) };
    const withCreds = this.#credentials ? ` (from ${this.#credentials.from})` : '';
    // The tracked branch's fetch is retried with backoff; other refs are read again on the next sync.
    const again = what === this.branch ? '; the fetch is retried' : '; it is tried again on the next sync';
    if (e.code === 'UserCanceledError') {
      return new SetopsError(
        `${where}: the server refused the credentials${withCreds}; check the token and that it may read the repository`,
        { code: E_GIT_AUTH, data },
      );
    }
    if (status === 401) {
      return new SetopsError(
        this.#credentials
          ? `${where}: the server refused the credentials${withCreds} (HTTP 401); check the token and that it may read the repository`
          : `${where}: the server asks for credentials (HTTP 401); set ${GIT_TOKEN_ENV} (or ${GIT_USER_ENV} and ${GIT_PASSWORD_ENV})`,
        { code: E_GIT_AUTH, data },
      );
    }
    if (status === 403) {
      return new SetopsError(`${where}: access denied (HTTP 403); check that the credentials${withCreds} may read the repository`, {
        code: E_GIT_AUTH,
        data,
      });
    }
    if (status === 404) {
      return new SetopsError(`${where}: no repository there (HTTP 404); check the URL and that the credentials may read it`, {
        code: E_GIT_NOT_A_REPOSITORY,
        data,
      });
    }
    if (status !== undefined) {
      const retryable = status >= 500 || status === 408 || status === 429;
      return new SetopsError(`${where}: the server answered HTTP ${status}${retryable ? again : '; check the URL'}`, {
        code: retryable ? E_GIT_FETCH : E_GIT_NOT_A_REPOSITORY,
        data,
      });
    }
    if (e.code === 'SmartHttpError') {
      return new SetopsError(`${where}: the server does not answer as a git server; check the URL`, { code: E_GIT_NOT_A_REPOSITORY, data });
    }
    if (e.code !== undefined && NETWORK_ERRORS.test(e.code)) {
      return new SetopsError(`${where}: cannot reach the server (${e.code})${again}`, { code: E_GIT_FETCH, data });
    }
    // Anything else (a cut-off pack, a full disk, …) may well pass next time.
    return new SetopsError(`${where}: fetching ${what} failed (${e.code ?? 'error'}: ${this.#redact(String(e.message ?? error))})${again}`, {
      code: E_GIT_FETCH,
      data,
    });
  }

  /** Removes the password, in plain and in base64 forms, from a foreign message. */
  #redact(text: string): string {
    const c = this.#credentials;
    if (!c) return text;
    let out = text;
    for (const secret of [c.password, Buffer.from(`${c.username}:${c.password}`).toString('base64'), encodeURIComponent(c.password)]) {
      if (secret) out = out.split(secret).join('***');
    }
    return out;
  }
}

/** The clone's second remote (same URL), for {@link RemoteSource.fetchOther}. */
const OTHER_REMOTE = 'setopsd-other';
/** How long one fetch of another ref may take. */
const OTHER_FETCH_TIMEOUT_MS = 120_000;
/** How many bytes of answers one fetch of another ref may take (the daemon holds the pack in memory). */
export const OTHER_FETCH_MAX_BYTES = 128 * 1024 * 1024;

/** Where {@link RemoteSource.accept} keeps the accepted commit, in the clone. */
const ACCEPTED_REF = 'refs/setopsd/accepted';

const NETWORK_ERRORS = /^(ECONNREFUSED|ECONNRESET|ECONNABORTED|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ENETDOWN|EHOSTDOWN|UND_ERR_.*|ERR_STREAM_PREMATURE_CLOSE)$/;

/** Branch names git accepts, in the common form (no `..`, no control characters, no leading `-`, …). */
export function isBranchName(name: string): boolean {
  return (
    /^[^\s~^:?*[\\\x00-\x1f\x7f]+$/.test(name) &&
    !name.startsWith('-') &&
    !name.startsWith('/') &&
    !name.endsWith('/') &&
    !name.endsWith('.') &&
    !name.endsWith('.lock') &&
    !name.includes('..') &&
    !name.includes('//') &&
    !name.includes('@{') &&
    !name.split('/').some((part) => part.startsWith('.'))
  );
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null)) !== null;
}

async function resolveOrUndefined(gitdir: string, ref: string): Promise<string | undefined> {
  try {
    return await git.resolveRef({ fs, gitdir, ref });
  } catch {
    return undefined;
  }
}

/** Whether `oid` descends from `ancestor`; an ancestry that cannot be walked counts as not (reported as forced). */
async function descends(gitdir: string, oid: string, ancestor: string): Promise<boolean> {
  try {
    return await git.isDescendent({ fs, gitdir, oid, ancestor, depth: -1 });
  } catch {
    return false;
  }
}

/**
 * Wraps an isomorphic-git HTTP client so that the response bodies together end with an error once
 * they passed `limit.max` bytes (and `limit.exceeded` says why).
 */
function limitedHttp(client: HttpClient, limit: { max: number; exceeded: boolean }): HttpClient {
  let total = 0;
  return {
    async request(req) {
      return withBody(await client.request(req), async (it) => {
        const step = await it.next();
        if (!step.done) {
          total += step.value.byteLength;
          if (total > limit.max) {
            limit.exceeded = true;
            await it.return?.();
            throw new Error(`more than ${limit.max} bytes`);
          }
        }
        return step;
      });
    },
  };
}

/**
 * Wraps an isomorphic-git HTTP client so that `signal` aborts every request (isomorphic-git's
 * fetch does not take a signal itself) and every read of a response body, even one the
 * underlying stream would leave hanging.
 */
export function abortableHttp(client: HttpClient, signal: AbortSignal | undefined): HttpClient {
  if (!signal) return client;
  return {
    async request(req) {
      throwIfAborted(signal);
      const res = await raceAbort(client.request({ ...req, signal }), signal);
      return withBody(res, (it) => raceAbort(it.next(), signal));
    },
  };
}

/** `res` with its body read through `next` (given the body's own iterator); a response without a body as it is. */
function withBody(res: GitHttpResponse, next: (it: AsyncIterator<Uint8Array>) => Promise<IteratorResult<Uint8Array>>): GitHttpResponse {
  if (!res.body) return res;
  const it = (res.body as AsyncIterableIterator<Uint8Array>)[Symbol.asyncIterator]();
  const body: AsyncIterableIterator<Uint8Array> = {
    next: () => next(it),
    return: async (value?: unknown) => (it.return ? it.return(value) : { done: true, value: undefined }),
    [Symbol.asyncIterator]() {
      return body;
    },
  };
  return { ...res, body };
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(new CanceledError('canceled', { cause: signal.reason }));
    const onAbort = () => reject(new CanceledError('canceled', { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
