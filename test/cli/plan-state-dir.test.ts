import t from 'tap';
import { join } from 'node:path';
import { resolveStateDir } from '../../src/cli/state-dir.js';
import { testDeps } from '../helpers/deps.js';

const ctx = (values: Record<string, string>, env: Record<string, string> = {}) => ({
  args: { values, positionals: [] },
  deps: testDeps({ env, cwd: '/home/u/work' }),
});

t.test('--state-dir wins and is relative to the working directory', async (t) => {
  t.equal(resolveStateDir(ctx({ 'state-dir': 'st' }, { SETOPSD_STATE_DIR: '/x' }), { root: '/cfg' }), '/home/u/work/st');
});

t.test('directory source: <config dir>/.setopsd', async (t) => {
  t.equal(resolveStateDir(ctx({}, { SETOPSD_STATE_DIR: '/x' }), { root: '/cfg' }), join('/cfg', '.setopsd'));
});

t.test('git source or plan file: SETOPSD_STATE_DIR, XDG_DATA_HOME, ~/.local/share', async (t) => {
  const git = { root: '/repo', commit: 'c'.repeat(40), ref: 'main' };
  t.equal(resolveStateDir(ctx({}, { SETOPSD_STATE_DIR: 'rel', XDG_DATA_HOME: '/xdg', HOME: '/h' }), git), '/home/u/work/rel');
  t.equal(resolveStateDir(ctx({}, { XDG_DATA_HOME: '/xdg', HOME: '/h' }), git), '/xdg/setopsd');
  t.equal(resolveStateDir(ctx({}, { XDG_DATA_HOME: 'not-absolute', HOME: '/h' }), git), '/h/.local/share/setopsd', 'a relative XDG_DATA_HOME is ignored per the XDG spec');
  t.equal(resolveStateDir(ctx({}, { HOME: '/h' }), null), '/h/.local/share/setopsd');
});
