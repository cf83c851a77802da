import { spawn } from 'node:child_process';

/**
 * Runs `promtool check metrics` (Debian's `prometheus` package; `.ci/run` installs it) on an
 * exposition text. Rejects with a clear message when promtool is not installed: the check must
 * fail then, never skip. Resolves to promtool's findings (empty: nothing to say) and exit code.
 */
export function promtoolCheck(text: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        reject(new Error('promtool is not installed: install Debian\'s "prometheus" package (apt-get install -y --no-install-recommends prometheus); .ci/run does this in CI'));
      } else reject(err);
    });
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
    child.stdin.end(text);
  });
}
