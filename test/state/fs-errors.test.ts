import t from 'tap';
import { fileSystemError } from '../../src/state/fs-errors.js';

function errno(code: string, syscall: string, path?: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${syscall}${path ? ` '${path}'` : ''}`), { code, syscall, ...(path ? { path } : {}) });
}

t.test('file-system errors say what happened, with the path, and what to do', async (t) => {
  const cases: [string, RegExp][] = [
    ['EROFS', /cannot open \/s\/journal\/000001\.json: \/s\/journal\/000001\.json is on a read-only file system; remount it read-write or use another state directory/],
    ['ENOSPC', /the disk holding \/s\/journal\/000001\.json is full; free space/],
    ['EACCES', /permission denied for \/s\/journal\/000001\.json; run setopsd as the user who owns the state directory or fix its permissions/],
    ['EPERM', /not permitted on \/s\/journal\/000001\.json \(is it or its directory immutable or append-only\? `lsattr -d` shows it, `chattr -i` removes it\)/],
  ];
  for (const [code, message] of cases) {
    const e = fileSystemError(errno(code, 'open', '/s/journal/000001.json'), 'stage acme/shop/dev');
    t.equal(e?.code, 'E_FILE_SYSTEM', code);
    t.match(e?.message, /^stage acme\/shop\/dev: /);
    t.match(e?.message, message);
    t.same(e?.data, { errno: code, path: '/s/journal/000001.json', syscall: 'open' });
  }
  t.equal(fileSystemError(new Error('plain'), 'x'), null, 'not a file-system error: left to the caller');
  t.equal(fileSystemError(errno('ENOENT', 'open', '/nope'), 'x'), null, 'a missing file is not a file-system fault');
});
