import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Journal } from '../../src/state/journal.js';
import { tempDir } from '../helpers/temp.js';

t.test('temp files torn by a killed writer are removed by the next run; a live writer\'s stay', async (t) => {
  const stateDir = tempDir(t, 'setopsd-torn-');
  const ref = { organization: 'acme', project: 'shop', stage: 'dev' };
  const journal = new Journal(stateDir, ref, () => 0);
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const live = process.ppid;
  await mkdir(journal.dir, { recursive: true });
  await mkdir(journal.modelsDir, { recursive: true });
  const torn = [join(journal.dir, `.000001.json.${dead}.k3j2.tmp`), join(journal.modelsDir, `.abc.json.${dead}.x1.tmp`), join(journal.dir, '..', `.state.json.${dead}.q9.tmp`)];
  for (const f of torn) await writeFile(f, '{"half":');
  await writeFile(join(journal.dir, `.000002.json.${live}.z8.tmp`), '{');
  await journal.closeInterrupted();
  t.same(await readdir(journal.dir), [`.000002.json.${live}.z8.tmp`], 'only the live writer\'s temp stays in journal/');
  t.same(await readdir(journal.modelsDir), []);
  t.notOk((await readdir(join(journal.dir, '..'))).some((n) => n.endsWith('.tmp')), 'no torn state.json temp');
});
