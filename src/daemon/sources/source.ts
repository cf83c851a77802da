import type { SourceFiles } from '../../manifests/api.js';

/** What a source needs to know of a pull request to read its head. */
export interface PullRequestRef {
  number: number;
  /** `github` unless the webhook came from GitLab. */
  provider: 'github' | 'gitlab';
  /** The head branch (in the base repository, or in a fork). */
  branch: string;
  /** The head commit the event names, if it did. */
  headSha?: string;
  /** The head is in a fork: only the forge's pull request ref has it (a branch of its name here is other code). */
  fromFork?: boolean;
}

/**
 * Where the daemon reads its manifests from: a local git repository (the tracked branch), a
 * plain directory (development mode), or a remote repository. A source says when it may have a
 * new revision (`watch`) and reads the newest one on demand (`read`); the daemon decides what to
 * do with it, so a burst of notifications costs one read.
 */
export interface ConfigSource {
  /** How to name the source in logs, status and errors (never with credentials). */
  readonly description: string;
  /** The tracked branch, for a git source. */
  readonly branch?: string;
  /** The files of the newest revision (a git source: `commit` and `ref` set). */
  read(signal: AbortSignal): Promise<SourceFiles>;
  /** Git sources that can serve preview stages: the local branches, and the files of one of them. */
  branches?(): Promise<string[]>;
  readBranch?(branch: string, signal: AbortSignal): Promise<SourceFiles>;
  /** Git sources that have the commit locally: the files of one commit (a pull request's head). */
  readCommit?(sha: string, signal: AbortSignal): Promise<SourceFiles>;
  /**
   * Remote sources: the files of a pull request's head, fetched first — from the forge's pull
   * request ref (GitHub `refs/pull/N/head`, GitLab `refs/merge-requests/N/head`, which fork pull
   * requests have too), else from its branch; the event's head commit when it was fetched.
   */
  readPullRequest?(pr: PullRequestRef, signal: AbortSignal): Promise<SourceFiles>;
  /** Calls `changed` whenever the source may have a new revision; resolves to a function that stops watching. */
  watch(changed: (why: string) => void): Promise<() => Promise<void>>;
}
