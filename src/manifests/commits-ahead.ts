/**
 * How many commits `head` (default `HEAD` of the repository holding `path`) is ahead of
 * `commit` (null: cannot tell). Loads isomorphic-git only when asked: commands that never meet
 * a pinned stage do not pay for it.
 */
export async function commitsAhead(path: string, commit: string, head = 'HEAD'): Promise<number | null> {
  const git = await import('./source-git.js');
  return git.commitsAhead(path, commit, head);
}
