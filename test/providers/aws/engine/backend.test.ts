import t from 'tap';
import { checkpointPaths, lockDirs, parseBackend, parseMetaVersion, stackLocation } from '../../../../src/providers/aws/engine/backend.js';
import { passphraseEnv } from '../../../../src/providers/aws/engine/passphrase.js';

t.test('backend URLs', async (t) => {
  t.same(parseBackend('file:///var/lib/pulumi', '/cwd', '/home/u'), { url: 'file:///var/lib/pulumi', kind: 'file', root: '/var/lib/pulumi', isDefault: false });
  t.same(parseBackend('file://~', '/cwd', '/home/u'), { url: 'file:///home/u', kind: 'file', root: '/home/u', isDefault: false });
  t.same(parseBackend('file://~/state', '/cwd', '/home/u').root, '/home/u/state');
  t.same(parseBackend('file://state', '/cwd', '/home/u').root, '/cwd/state');
  t.equal(parseBackend('s3://bucket/prefix?region=eu-central-1', '/cwd').kind, 's3');
  t.equal(parseBackend('s3://bucket/prefix?region=eu-central-1', '/cwd').url, 's3://bucket/prefix?region=eu-central-1', 'passed through unchanged');
  t.equal(parseBackend('https://api.pulumi.com', '/cwd').kind, 'cloud');
  t.equal(parseBackend('gs://bucket', '/cwd').kind, 'diy');
});

t.test('stack location: names, work dir, per-stage default backend', async (t) => {
  const ref = { organization: 'acme', project: 'shop', stage: 'production' };
  const loc = stackLocation('/state', { name: 'acme', provider: 'aws' }, ref, '/cwd');
  t.same(loc, {
    ref,
    project: 'setops-acme-shop',
    stack: 'production',
    qualifiedStack: 'organization/setops-acme-shop/production',
    workDir: '/state/stages/acme/shop/production/pulumi/work',
    backend: { url: 'file:///state/stages/acme/shop/production/pulumi/backend', kind: 'file', root: '/state/stages/acme/shop/production/pulumi/backend', isDefault: true },
  });
  const cloud = stackLocation('/state', { name: 'acme', provider: 'aws', backend: 'https://api.pulumi.com' }, ref, '/cwd');
  t.equal(cloud.qualifiedStack, 'production', 'Pulumi Cloud stacks live in the default organization');
  t.same(checkpointPaths('/b', 'p', 's'), [
    '/b/.pulumi/stacks/p/s.json', '/b/.pulumi/stacks/p/s.json.gz', '/b/.pulumi/stacks/p/s.json.zst',
    '/b/.pulumi/stacks/s.json', '/b/.pulumi/stacks/s.json.gz', '/b/.pulumi/stacks/s.json.zst',
  ]);
  t.same(checkpointPaths('/b', 'p', 's', 1), ['/b/.pulumi/stacks/p/s.json', '/b/.pulumi/stacks/p/s.json.gz', '/b/.pulumi/stacks/p/s.json.zst'], 'project layout only when meta.yaml says so');
  t.equal(parseMetaVersion('version: 1\n'), 1);
  t.equal(parseMetaVersion('# comment\nversion: 0\n'), 0);
  t.equal(parseMetaVersion(''), undefined);
  t.same(lockDirs('/b', 'p', 's'), ['/b/.pulumi/locks/organization/p/s', '/b/.pulumi/locks/s']);
});

t.test('passphrase: env var, file, none (clear error), not needed for Pulumi Cloud', async (t) => {
  const file = parseBackend('file:///b', '/');
  t.same(await passphraseEnv({ PULUMI_CONFIG_PASSPHRASE: '' }, file, 's'), { PULUMI_CONFIG_PASSPHRASE: '' }, 'an empty passphrase set on purpose is a passphrase');
  t.same(await passphraseEnv({ PULUMI_CONFIG_PASSPHRASE_FILE: '/dev/null' }, file, 's'), { PULUMI_CONFIG_PASSPHRASE_FILE: '/dev/null' });
  await t.rejects(passphraseEnv({}, parseBackend('s3://b', '/'), 'stage a/b/c'), {
    code: 'E_PULUMI_PASSPHRASE_MISSING',
    message: /^stage a\/b\/c: the Pulumi stack's secrets are encrypted with a passphrase/,
  });
  t.same(await passphraseEnv({}, parseBackend('https://api.pulumi.com', '/'), 's'), {});
});
