/**
 * Whether a process with this pid exists on this host: `kill(pid, 0)` succeeds, or fails with
 * EPERM (it exists but belongs to another user). Zombies count as existing.
 */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
