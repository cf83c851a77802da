import t from 'tap';
import { spawn } from 'node:child_process';
import { isRecordedProcess, startTimeOf } from '../../../src/providers/local/proc.js';
import { appHosts, processArgv, statusInRange } from '../../../src/providers/local/command.js';
import { linkEnv, linkProblems, type Connection } from '../../../src/providers/local/links.js';
import { parseSecretsFile } from '../../../src/providers/local/secrets.js';
import { HTTP_APP, REF } from './helpers.js';
import { app } from '../../helpers/models.js';

t.test('process argv follows Docker rules for command and entrypoint', async (t) => {
  const cases: [Parameters<typeof processArgv>[0], string[] | null][] = [
    [{ command: ['node', 'server.js'] }, ['node', 'server.js']],
    [{ command: 'node server.js --x "a b"' }, ['/bin/sh', '-c', 'node server.js --x "a b"']],
    [{ entrypoint: ['tini', '--'], command: ['node', 's.js'] }, ['tini', '--', 'node', 's.js']],
    [{ entrypoint: ['tini', '--'], command: 'node s.js' }, ['tini', '--', '/bin/sh', '-c', 'node s.js']],
    [{ entrypoint: 'run.sh', command: ['ignored'] }, ['/bin/sh', '-c', 'run.sh']],
    [{ entrypoint: ['serve'] }, ['serve']],
    [{}, null],
    [{ command: [] }, null],
  ];
  for (const [app, want] of cases) t.same(processArgv(app), want, JSON.stringify(app));
});

t.test('health status ranges', async (t) => {
  const cases: [number, string, boolean][] = [
    [200, '200-499', true], [499, '200-499', true], [500, '200-499', false], [199, '200-499', false],
    [200, '200', true], [201, '200', false], [301, '200-299,301', true], [302, '200-299, 301', false],
    [404, 'garbage', true], [500, 'garbage', false],
  ];
  for (const [status, range, want] of cases) t.equal(statusInRange(status, range), want, `${status} in ${range}`);
});

t.test('router host names: default first, then domains sorted, lower case; none for private apps', async (t) => {
  t.same(appHosts(REF, 'web', app({ ...HTTP_APP, domains: { 'Z.example.com': { primary: false }, 'a.example.com': { primary: true } } })), ['web.dev.shop.localhost', 'a.example.com', 'z.example.com']);
  t.same(appHosts(REF, 'web', app({ ...HTTP_APP, public: false, domains: { 'a.example.com': { primary: true } } })), []);
});

t.test('link variables per service type and envKey', async (t) => {
  const conns: Record<string, Connection> = {
    db: { type: 'postgresql', host: '127.0.0.1', port: 5433, user: 'db', password: 'p@ss', database: 'db' },
    other: { type: 'postgresql', host: '127.0.0.1', port: 5433, user: 'other', password: 'x', database: 'other' },
    cache: { type: 'redis', host: '127.0.0.1', port: 6380, password: 'r' },
    files: { type: 's3', bucket: 'files', path: '/d/files' },
    disk: { type: 'volume', path: '/d/disk' },
  };
  t.same(linkEnv({ db: {}, other: { envKey: 'OTHER_URL' }, cache: {}, files: { envKey: 'UPLOADS' }, disk: { path: '/mnt' } }, conns), {
    DATABASE_URL: 'postgresql://db:p%40ss@127.0.0.1:5433/db',
    PGHOST: '127.0.0.1', PGPORT: '5433', PGUSER: 'db', PGPASSWORD: 'p@ss', PGDATABASE: 'db',
    OTHER_URL: 'postgresql://other:x@127.0.0.1:5433/other',
    REDIS_URL: 'redis://:r@127.0.0.1:6380',
    UPLOADS: 'files', UPLOADS_PATH: '/d/files',
    VOLUME_PATH: '/d/disk',
  });
  t.same(linkEnv({ db: { envKey: 'DATABASE_URL' } }, conns).PGUSER, 'db', 'the default key counts as no envKey');
  t.same(linkEnv({ gone: {} }, conns), {}, 'a link without a running service sets nothing');
});

t.test('link problems: unknown services, unsupported types, clashing defaults', async (t) => {
  t.same(linkProblems({ a: {}, b: {} }, { a: 'postgresql', b: 'postgresql' }), ['links a, b are all postgresql and would all set DATABASE_URL; set envKey on all but one of them']);
  t.same(linkProblems({ a: {}, b: { envKey: 'B_URL' } }, { a: 'postgresql', b: 'postgresql' }), []);
  t.same(linkProblems({ a: { envKey: 'DATABASE_URL' }, b: {} }, { a: 'postgresql', b: 'postgresql' }).length, 1);
  t.same(linkProblems({ x: {} }, {}), ['link to service x, which does not exist in this stage']);
  t.same(linkProblems({ s: {} }, { s: 'elasticsearch' }), ['link to service s of type elasticsearch, which the local engine cannot run']);
});

t.test('secrets files: dotenv and YAML forms', async (t) => {
  t.same([...parseSecretsFile('A=1\n# c\nexport B = two words \nC="q\\"x"\nD=\'lit\\n\'\n', 'f')], [['A', '1'], ['B', 'two words'], ['C', 'q"x'], ['D', 'lit\\n']]);
  t.same([...parseSecretsFile('A: 1\nB: two\n', 'f')], [['A', '1'], ['B', 'two']]);
  t.same([...parseSecretsFile('', 'f')], []);
  t.throws(() => parseSecretsFile('A:\n  nested: x\n', 'f'), { message: 'secrets file f: secret A must be a string' });
  t.throws(() => parseSecretsFile('- a\n- b\n', 'f'), { message: 'secrets file f: expected a mapping of secret names to values' });
});

t.test('a recorded process is recognised by its marker or by its start time, never by its pid alone', async (t) => {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { env: { ...process.env, MARK: 'stage-a' }, stdio: 'ignore' });
  t.teardown(() => void child.kill('SIGKILL'));
  const pid = child.pid!;
  const start = await startTimeOf(pid);
  t.type(start, 'number');
  t.ok(await isRecordedProcess({ pid }, 'MARK', 'stage-a'), 'marker');
  t.notOk(await isRecordedProcess({ pid }, 'MARK', 'stage-b'), 'another stage\'s marker');
  t.ok(await isRecordedProcess({ pid, start: start! }, 'MARK', 'stage-b'), 'same start time: the recorded process');
  t.notOk(await isRecordedProcess({ pid, start: start! + 1 }, 'MARK', 'stage-b'), 'another start time: a reused pid');
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  t.notOk(await isRecordedProcess({ pid, start: start! }, 'MARK', 'stage-a'), 'gone');
});
