/**
 * The exit code of a command that plans (`plan`, `diff`) once it succeeded, as terraform has
 * them: 0 whether or not there are changes, so a plain `setopsd plan` step passes under `bash -e`;
 * with `--detailed-exitcode`, 2 when there are changes and 0 when there are none. Errors are 1
 * (the top-level catch in `main.ts`).
 */
export function planExitCode(changes: boolean, detailed: boolean): number {
  return detailed && changes ? 2 : 0;
}
