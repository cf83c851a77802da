import t from 'tap';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readDirectory } from '../../src/manifests/source-dir.js';
import { ManifestError } from '../../src/errors.js';
import { tempDir, type Teardown } from '../helpers/temp.js';

function tree(t: Teardown, files: Record<string, string | Uint8Array>): string {
  const dir = tempDir(t);
  for (const [path, content] of Object.entries(files)) {
    const abs = join(dir, ...path.split('/'));
    mkdirSync(join(abs, '..'), { recursive: true });
    writeFileSync(abs, content);
  }
  return dir;
}

t.test('reads *.yaml and *.yml recursively, sorted, relative posix paths; skips node_modules, .git, .setopsd', async (t) => {
  const dir = tree(t, {
    'z.yaml': 'z',
    'a/b.yml': 'b',
    'a/c.yaml': 'c',
    'A.yaml': 'upper',
    'notes.txt': 'no',
    'yaml': 'no',
    'node_modules/p/x.yaml': 'no',
    '.git/config.yaml': 'no',
    '.setopsd/state.yaml': 'no',
    'deep/er/still.yaml': 'yes',
  });
  const src = await readDirectory(dir);
  t.equal(src.root, dir);
  t.equal(src.dir, '');
  t.same(
    src.files.map((f) => f.path),
    ['A.yaml', 'a/b.yml', 'a/c.yaml', 'deep/er/still.yaml', 'z.yaml'],
  );
  t.equal(src.files.find((f) => f.path === 'a/c.yaml')?.text, 'c');
});

t.test('a leading byte order mark is dropped', async (t) => {
  const dir = tree(t, { 'a.yaml': '\ufeffkind: App\n' });
  t.equal((await readDirectory(dir)).files[0]!.text, 'kind: App\n');
});

t.test('symlinked files are read, symlinked directories are not followed', async (t) => {
  const dir = tree(t, { 'real/a.yaml': 'a', 'outside.yaml': 'o' });
  symlinkSync(join(dir, 'real'), join(dir, 'loop'));
  symlinkSync(join(dir, 'outside.yaml'), join(dir, 'real', 'link.yaml'));
  t.same((await readDirectory(dir)).files.map((f) => f.path), ['outside.yaml', 'real/a.yaml', 'real/link.yaml']);
});

t.test('a single file may be given', async (t) => {
  const dir = tree(t, { 'one.yaml': 'x: 1\n' });
  const src = await readDirectory(join(dir, 'one.yaml'));
  t.equal(src.root, dir);
  t.same(src.files, [{ path: 'one.yaml', text: 'x: 1\n' }]);
});

t.test('a missing directory is a ManifestError; a non-UTF-8 file is read as unreadable at its bad byte', async (t) => {
  const dir = tree(t, { 'ok.yaml': 'a', 'sub/bad.yaml': new Uint8Array([0x61, 0x3a, 0x20, 0x31, 0x0a, 0x62, 0x3a, 0x20, 0xc3, 0x28, 0x0a]) });
  await t.rejects(readDirectory(join(dir, 'nope')), { name: 'ManifestError', message: /nope: no such directory/ });
  const src = await readDirectory(dir);
  t.same(src.files, [
    { path: 'ok.yaml', text: 'a' },
    { path: 'sub/bad.yaml', text: '', unreadable: { line: 2, col: 4, message: 'not valid UTF-8 (byte 0xc3 at offset 8); save the file as UTF-8' } },
  ]);
});

t.test('an aborted signal stops the read', async (t) => {
  const dir = tree(t, { 'a.yaml': 'a' });
  const c = new AbortController();
  c.abort();
  await t.rejects(readDirectory(dir, c.signal), { name: 'CanceledError' });
});
