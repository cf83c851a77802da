import { relative, resolve, sep } from 'node:path';
import { watch as chokidarWatch } from 'chokidar';
import type { SourceFiles } from '../../manifests/api.js';
import { SKIPPED_DIRS, isManifestName } from '../../manifests/decode.js';
import { readDirectory } from '../../manifests/source-dir.js';
import type { ConfigSource } from './source.js';

/**
 * A plain directory of manifests (development mode, like `skaffold dev`): every saved change of a
 * `*.yaml`/`*.yml` file is a new revision. Directories setopsd itself writes to (`.setopsd`),
 * `.git` and `node_modules` are not watched.
 */
export function directorySource(opts: { dir: string; display?: string }): ConfigSource {
  const root = resolve(opts.dir);
  const display = opts.display ?? opts.dir;
  return {
    description: `${display} (directory)`,
    read: (signal): Promise<SourceFiles> => readDirectory(root, signal, display),
    watch: async (changed) => {
      const skipped = (path: string) => relative(root, path).split(sep).some((part) => SKIPPED_DIRS.has(part));
      const watcher = chokidarWatch(root, { ignoreInitial: true, ignored: (path, stats) => skipped(path) || (stats?.isFile() === true && !isManifestName(path)) });
      watcher.on('all', (event, path) => changed(`${event} ${relative(root, path) || '.'}`));
      await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
      return () => watcher.close();
    },
  };
}
