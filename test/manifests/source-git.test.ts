import t from 'tap';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gitRepo } from '../helpers/git.js';
import { gitTreeCache, readGitTree } from '../../src/manifests/source-git.js';
import { ManifestError } from '../../src/errors.js';

const A = 'apiVersion: setopsd/v1\nkind: Organization\nmetadata:\n  name: acme\n';
const B = 'apiVersion: setopsd/v1\nkind: Project\nmetadata:\n  name: shop\n';

t.test('reads the tree of a branch, sorted, only yaml/yml, skipping node_modules/.setopsd', async (t) => {
  const repo = gitRepo(t, {
    'config/b.yml': B,
    'config/a.yaml': A,
    'config/readme.md': '# no',
    'config/node_modules/x.yaml': 'nope',
    'config/.setopsd/state.yaml': 'nope',
    'config/sub/c.yaml': A,
    'other.yaml': B,
  });
  const src = await readGitTree({ repo: repo.dir, ref: 'main', dir: 'config' });
  t.same(src.files.map((f) => f.path), ['a.yaml', 'b.yml', 'sub/c.yaml']);
  t.equal(src.files[0]!.text, A);
  t.equal(src.commit, repo.revParse('HEAD'));
  t.equal(src.dir, 'config');
  t.equal(src.ref, 'main');
  const all = await readGitTree({ repo: repo.dir, ref: 'HEAD' });
  t.same(all.files.map((f) => f.path), ['config/a.yaml', 'config/b.yml', 'config/sub/c.yaml', 'other.yaml']);
});

t.test('branches, annotated and lightweight tags, full and short SHAs, after gc and in a bare clone', async (t) => {
  const repo = gitRepo(t);
  const c1 = repo.commit('one', { 'a.yaml': A });
  repo.tag('v1', { message: 'release one' });
  repo.tag('light1');
  repo.branch('old');
  const c2 = repo.commit('two', { 'a.yaml': B, 'b.yaml': B });
  for (const phase of ['loose', 'packed', 'bare'] as const) {
    if (phase === 'packed') repo.gc();
    const path = phase === 'bare' ? repo.bareClone() : repo.dir;
    const read = (ref: string) => readGitTree({ repo: path, ref });
    t.equal((await read('v1')).commit, c1, `${phase}: annotated tag peeled`);
    t.same((await read('v1')).files, [{ path: 'a.yaml', text: A, oid: repo.revParse('v1:a.yaml') }], `${phase}: tree of the tag, with the blob id`);
    t.equal((await read('light1')).commit, c1, `${phase}: lightweight tag`);
    t.equal((await read('refs/tags/v1')).commit, c1, `${phase}: full tag ref`);
    t.equal((await read('old')).commit, c1, `${phase}: branch`);
    t.equal((await read('main')).commit, c2, `${phase}: main`);
    t.equal((await read('HEAD')).files.length, 2, `${phase}: HEAD`);
    t.equal((await read(c1)).commit, c1, `${phase}: full SHA`);
    t.equal((await read(c1.slice(0, 7))).commit, c1, `${phase}: short SHA`);
    await t.rejects(read('nope'), { name: 'ManifestError', message: /ref "nope" does not exist/ }, `${phase}: unknown ref`);
  }
});

t.test('errors: missing repo, not a repo, missing dir, non-UTF-8 file', async (t) => {
  const repo = gitRepo(t, { 'a.yaml': A, 'bad/x.yaml': new Uint8Array([0x6b, 0x3a, 0x20, 0xff, 0xfe, 0x0a]) });
  await t.rejects(readGitTree({ repo: repo.dir + '-missing', ref: 'HEAD' }), ManifestError);
  await t.rejects(readGitTree({ repo: repo.dir, ref: 'HEAD', dir: 'nothing' }), { message: /directory "nothing" does not exist/ });
  const bad = await readGitTree({ repo: repo.dir, ref: 'HEAD', dir: 'bad' });
  t.same(bad.files, [{ path: 'x.yaml', text: '', oid: repo.revParse('HEAD:bad/x.yaml'), unreadable: { line: 1, col: 4, message: 'not valid UTF-8 (byte 0xff at offset 3); save the file as UTF-8' } }]);
});

t.test('a tree cache: unchanged trees and blobs are not read again, the same content under two paths is read once, only the newest commit is kept', async (t) => {
  const repo = gitRepo(t);
  repo.commit('one', { 'a.yaml': A, 'b.yaml': B, 'copy/b.yaml': B, 'bad.yaml': new Uint8Array([0x6b, 0xff, 0x0a]), 'deep/er/c.yaml': A });
  const cache = gitTreeCache();
  const first = await readGitTree({ repo: repo.dir, ref: 'HEAD', cache });
  t.same([...cache.blobs.keys()].sort(), [repo.revParse('HEAD:a.yaml'), repo.revParse('HEAD:b.yaml'), repo.revParse('HEAD:bad.yaml')].sort(), 'one entry per distinct blob');
  t.same([...cache.trees.keys()].sort(), ['HEAD^{tree}', 'HEAD:copy', 'HEAD:deep', 'HEAD:deep/er'].map((r) => repo.revParse(r)).sort(), 'one entry per tree');
  t.same(first.files.map((f) => f.path), ['a.yaml', 'b.yaml', 'bad.yaml', 'copy/b.yaml', 'deep/er/c.yaml']);
  t.match(first.files[2], { path: 'bad.yaml', text: '', unreadable: { line: 1, col: 2 } }, 'an unreadable blob keeps its problem');
  // A cached entry is what the next read returns, not the object database: mark some to see they are used.
  cache.blobs.set(repo.revParse('HEAD:a.yaml'), { text: 'from the cache' });
  cache.trees.set(repo.revParse('HEAD:deep'), [{ path: 'er/c.yaml', oid: repo.revParse('HEAD:a.yaml') }, { path: 'er/cached.yaml', oid: repo.revParse('HEAD:a.yaml') }]);
  const C = A.replace('acme', 'other');
  repo.commit('two', { 'b.yaml': C, 'copy/b.yaml': null, 'bad.yaml': null });
  const second = await readGitTree({ repo: repo.dir, ref: 'HEAD', cache });
  t.same(
    second.files.map((f) => [f.path, f.text]),
    [['a.yaml', 'from the cache'], ['b.yaml', C], ['deep/er/c.yaml', 'from the cache'], ['deep/er/cached.yaml', 'from the cache']],
    'unchanged tree and blob from the cache, changed ones read',
  );
  t.same([...cache.blobs.keys()].sort(), [repo.revParse('HEAD:a.yaml'), repo.revParse('HEAD:b.yaml')].sort(), 'blobs no longer in the commit are dropped');
  t.same([...cache.trees.keys()].sort(), ['HEAD^{tree}', 'HEAD:deep'].map((r) => repo.revParse(r)).sort(), 'trees no longer in the commit are dropped (the unchanged subtree below a cached one is not walked)');
  const plain = await readGitTree({ repo: repo.dir, ref: 'HEAD' });
  t.same(plain.files.map((f) => [f.path, f.text]), [['a.yaml', A], ['b.yaml', C], ['deep/er/c.yaml', A]], 'without a cache: the object database');
});

t.test('a path inside a working tree names its repository (like git); the rest becomes the dir', async (t) => {
  const repo = gitRepo(t, { 'config/app/a.yaml': A, 'config/b.yaml': B, 'top.yaml': A });
  const src = await readGitTree({ repo: `${repo.dir}/config`, ref: 'HEAD' });
  t.equal(src.root, repo.dir);
  t.equal(src.dir, 'config');
  t.same(src.files.map((f) => f.path), ['app/a.yaml', 'b.yaml']);
  const deeper = await readGitTree({ repo: `${repo.dir}/config`, ref: 'HEAD', dir: 'app' });
  t.equal(deeper.dir, 'config/app');
  t.same(deeper.files.map((f) => f.path), ['a.yaml']);
});

t.test('messages name the repository as the user gave it', async (t) => {
  const repo = gitRepo(t, { 'a.yaml': A });
  await t.rejects(readGitTree({ repo: repo.dir, ref: 'v9', display: 'my-config' }), { message: /^my-config: ref "v9" does not exist/ });
});

t.test('ancestry suffixes: ~N, ^, ^N, on branches, tags and SHAs', async (t) => {
  const repo = gitRepo(t);
  const c1 = repo.commit('one', { 'a.yaml': A });
  const c2 = repo.commit('two', { 'a.yaml': B });
  repo.tag('v2', { message: 'two' });
  const c3 = repo.commit('three', { 'b.yaml': A });
  repo.gc();
  const read = async (ref: string) => (await readGitTree({ repo: repo.dir, ref })).commit;
  for (const [ref, expected] of [
    ['HEAD~1', c2],
    ['main~2', c1],
    ['main^', c2],
    ['main^^', c1],
    ['main~1^', c1],
    ['v2^', c1],
    ['v2~0', c2],
    ['main^0', c3],
    [`${c3.slice(0, 8)}~2`, c1],
  ] as const) {
    t.equal(await read(ref), expected, ref);
    t.equal(await read(ref), repo.revParse(ref), `${ref} agrees with git rev-parse`);
  }
  await t.rejects(read('main~3'), { message: /ref "main~3" does not exist \(.* has no parent 1\)/ });
  await t.rejects(read('nope~1'), { message: /ref "nope" does not exist/ });
});

t.test('the git binary and isomorphic-git read the same files: loose, packed, bare; tags; symlinks and submodules skipped', async (t) => {
  const repo = gitRepo(t, { 'a.yaml': A, 'sub/b.yml': B, 'node_modules/x.yaml': 'nope', 'readme.md': '# no', 'bad.yaml': new Uint8Array([0x6b, 0x3a, 0x20, 0xff, 0x0a]) });
  symlinkSync('a.yaml', join(repo.dir, 'link.yaml'));
  repo.git('add', 'link.yaml');
  repo.tag('v1', { message: 'annotated' });
  // A submodule is a commit entry (mode 160000) in the tree: not a manifest, not read.
  repo.git('update-index', '--add', '--cacheinfo', `160000,${repo.revParse('HEAD')},vendored.yaml`);
  repo.git('commit', '--quiet', '-m', 'symlink and submodule');
  repo.tag('v2', { message: 'annotated' });
  const traced = join(repo.dir, '..', 'git-traced');
  const trace = join(repo.dir, '..', 'git-trace.log');
  writeFileSync(traced, `#!/bin/sh\necho "$@" >> '${trace}'\nexec git "$@"\n`, { mode: 0o755 });
  for (const phase of ['loose', 'packed', 'bare'] as const) {
    if (phase === 'packed') repo.gc();
    const path = phase === 'bare' ? repo.bareClone() : repo.dir;
    for (const ref of ['v1', 'v2', 'main']) {
      const viaIsomorphic = await readGitTree({ repo: path, ref, gitBinary: false });
      const viaGit = await readGitTree({ repo: path, ref, gitBinary: traced });
      t.same(viaGit, viaIsomorphic, `${phase} ${ref}: same result`);
      t.same(viaGit.files.map((f) => f.path), ['a.yaml', 'bad.yaml', 'sub/b.yml'], `${phase} ${ref}: manifests only`);
      t.ok(viaGit.files[1]!.unreadable, `${phase} ${ref}: not UTF-8 is reported either way`);
    }
  }
  t.match(readFileSync(trace, 'utf8'), /cat-file --batch/, 'the git binary did the reading');
  const missing = await readGitTree({ repo: repo.dir, ref: 'main', gitBinary: join(repo.dir, 'no-such-git') });
  t.same(missing, await readGitTree({ repo: repo.dir, ref: 'main', gitBinary: false }), 'no git binary: isomorphic-git reads the same');
});

t.test('a failing git binary falls back to isomorphic-git; an abort is not swallowed', async (t) => {
  const repo = gitRepo(t, { 'a.yaml': A });
  const failing = join(repo.dir, '..', 'git-failing');
  writeFileSync(failing, '#!/bin/sh\necho "fatal: detected dubious ownership" >&2\nexit 128\n', { mode: 0o755 });
  const fallback = (await readGitTree({ repo: repo.dir, ref: 'main', gitBinary: failing })).files;
  t.same(fallback.map((f) => ({ path: f.path, text: f.text })), [{ path: 'a.yaml', text: A }]);
  t.same(fallback, (await readGitTree({ repo: repo.dir, ref: 'main', gitBinary: false })).files, 'the same files, blob ids included, as isomorphic-git alone');
  // An abort while git runs stops it and rejects (no fallback read after a cancel).
  const started = join(repo.dir, '..', 'git-started');
  const hanging = join(repo.dir, '..', 'git-hanging');
  writeFileSync(hanging, `#!/bin/sh\ntouch '${started}'\nexec sleep 60\n`, { mode: 0o755 });
  const controller = new AbortController();
  const read = readGitTree({ repo: repo.dir, ref: 'main', gitBinary: hanging }, controller.signal);
  while (!existsSync(started)) await new Promise((r) => setTimeout(r, 10));
  controller.abort();
  await t.rejects(read, { name: 'CanceledError' });
});
