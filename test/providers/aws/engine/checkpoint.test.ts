import t from 'tap';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { canonicalJson } from '../../../../src/model/canonical.js';
import { service, stage } from '../../../helpers/models.js';
import { SetopsError } from '../../../../src/errors.js';
import { checkpointPaths, stackLocation } from '../../../../src/providers/aws/engine/backend.js';
import { modelFromOutputs, parseCheckpoint, parseExport, readCheckpointFile } from '../../../../src/providers/aws/engine/checkpoint.js';
import { createPulumiEngine } from '../../../../src/providers/aws/index.js';
import { testDeps } from '../../../helpers/deps.js';
import { tempDir } from '../../../helpers/temp.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/pulumi/pkg/resource/stack/testdata');
const fixture = (name: string): string => readFileSync(join(dir, name), 'utf8');

/** Plaintexts of the b64 "encrypted" secrets in checkpoint-secrets.json (ciphertext = base64(JSON(plaintext))). */
function secretPlaintexts(): string[] {
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o['4dabf18193072939515e22adb298388d'] === '1b47061264138c4ac30d75fd1eb44270' && typeof o.ciphertext === 'string') {
        const plain = JSON.parse(Buffer.from(o.ciphertext, 'base64').toString('utf8')) as unknown;
        out.add(typeof plain === 'string' ? plain : JSON.stringify(plain));
      } else Object.values(o).forEach(walk);
    }
  };
  walk(JSON.parse(fixture('checkpoint-secrets.json')));
  return [...out].filter((s) => s.length >= 8);
}

const model = stage({
  name: 'production',
  organization: { provider: 'aws', aws: { region: 'eu-central-1' } },
  protected: true,
  services: { db: service('postgresql', { deletionProtection: true }) },
});

t.test('v3 and v4 checkpoints are read; serial is stable and content-derived', async (t) => {
  const v3 = parseCheckpoint(fixture('checkpoint-v3.json'), 'v3');
  t.equal(v3.version, 3);
  t.equal(v3.resourceCount, 30);
  t.equal(v3.outputs, null, 'these 2017 checkpoints have no pulumi:pulumi:Stack root');
  t.match(v3.serial, /^sha256:[0-9a-f]{64}$/);
  t.equal(parseCheckpoint(fixture('checkpoint-v3.json'), 'again').serial, v3.serial);
  const v4 = parseCheckpoint(fixture('checkpoint-v4.json'), 'v4');
  t.equal(v4.version, 4);
  t.equal(v4.resourceCount, 30);
  t.not(v4.serial, null);
  const secrets = parseCheckpoint(fixture('checkpoint-secrets.json'), 'secrets');
  t.equal(secrets.resourceCount, 30);
  t.not(secrets.serial, v3.serial, 'different state, different serial');
});

t.test('v1, unknown versions and unsupported features are rejected with a clear message', async (t) => {
  t.throws(() => parseCheckpoint(fixture('checkpoint-v1.json'), 'state/v1.json'), {
    code: 'E_PULUMI_STATE',
    message: /^state\/v1\.json: Pulumi state version 1 is from a Pulumi release older than 1\.0.*pulumi stack export --file state\.json && pulumi stack import --file state\.json/,
  });
  t.throws(() => parseCheckpoint(fixture('checkpoint-v4-unsupported-feature.json'), 'x.json'), {
    code: 'E_PULUMI_STATE',
    message: /^x\.json: the Pulumi state uses features setopsd does not support \(unsupported-feature\)/,
  });
  t.throws(() => parseCheckpoint('{"version": 9, "checkpoint": {}}', 'x'), { message: /unknown Pulumi state version 9; upgrade setopsd/ });
  t.throws(() => parseCheckpoint('{"version": 3', 'broken.json'), { message: /^broken\.json: not valid JSON/ });
  t.throws(() => parseCheckpoint('{"version": 3}', 'nockpt.json'), { message: /no "checkpoint" object/ });
});

t.test('stack export output reads like the checkpoint (same deployment, same serial)', async (t) => {
  const ckpt = JSON.parse(fixture('checkpoint-v3.json')) as { version: number; checkpoint: { latest: unknown } };
  const exported = JSON.stringify({ version: 3, deployment: ckpt.checkpoint.latest });
  t.same(parseExport(exported, 'export'), parseCheckpoint(fixture('checkpoint-v3.json'), 'file'));
  t.same(parseExport('{"version":3,"deployment":{"manifest":{},"resources":[]}}', 'e'), {
    version: 3, resourceCount: 0, outputs: null, pendingOperations: [], finalSnapshots: {}, serial: null,
  });
});

t.test('pending operations are reported with URN, kind and id', async (t) => {
  const d = parseExport(
    JSON.stringify({
      version: 3,
      deployment: {
        resources: [],
        pending_operations: [
          { resource: { urn: 'urn:pulumi:dev::p::aws:s3/bucket:Bucket::b', id: 'b-123' }, type: 'creating' },
          { resource: { urn: 'urn:pulumi:dev::p::aws:rds/instance:Instance::db' }, type: 'updating' },
        ],
      },
    }),
    'e',
  );
  t.same(d.pendingOperations, [
    { urn: 'urn:pulumi:dev::p::aws:s3/bucket:Bucket::b', type: 'creating', id: 'b-123' },
    { urn: 'urn:pulumi:dev::p::aws:rds/instance:Instance::db', type: 'updating' },
  ]);
  t.not(d.serial, null, 'a stack with only pending operations is not empty');
});

t.test('model output: plain JSON string read, secret refused without decrypting', async (t) => {
  t.same(modelFromOutputs({ setopsdStageModel: canonicalJson(model) }, 's'), model);
  t.equal(modelFromOutputs({ other: 1 }, 's'), null);
  t.equal(modelFromOutputs(null, 's'), null);
  const secret = { '4dabf18193072939515e22adb298388d': '1b47061264138c4ac30d75fd1eb44270', ciphertext: Buffer.from(JSON.stringify(canonicalJson(model))).toString('base64') };
  t.throws(() => modelFromOutputs({ setopsdStageModel: secret }, 'stage x'), { message: /^stage x: the stack output setopsdStageModel is a secret; setopsd never decrypts state/ });
  t.throws(() => modelFromOutputs({ setopsdStageModel: '{' }, 's'), { message: /not valid JSON/ });
});

t.test('engine.read from a file backend without the Pulumi CLI', async (t) => {
  const stateDir = tempDir(t, 'setopsd-ckpt-');
  const deps = testDeps({ env: { PATH: '' }, cwd: stateDir });
  const engine = createPulumiEngine({ stateDir, deps, organization: model.organization });
  const ref = { organization: 'acme', project: 'shop', stage: 'production' };
  const loc = stackLocation(stateDir, model.organization, ref, stateDir);
  t.equal(loc.project, 'setops-acme-shop');
  t.equal(loc.workDir, join(stateDir, 'stages/acme/shop/production/pulumi/work'));
  t.equal(loc.backend.url, `file://${join(stateDir, 'stages/acme/shop/production/pulumi/backend')}`);

  t.same(await engine.read(ref), { model: null, serial: null }, 'no stack: nothing deployed');

  // A checkpoint with a stack root whose outputs hold the model and a secret from the fixture.
  const base = JSON.parse(fixture('checkpoint-secrets.json')) as { checkpoint: { latest: { resources: Record<string, unknown>[] } } };
  const someSecret = JSON.stringify(base).match(/\{"4dabf18193072939515e22adb298388d":"1b47061264138c4ac30d75fd1eb44270","ciphertext":"[^"]+"\}/)![0];
  base.checkpoint.latest.resources.unshift({
    urn: 'urn:pulumi:production::setops-acme-shop::pulumi:pulumi:Stack::setops-acme-shop-production',
    custom: false,
    type: 'pulumi:pulumi:Stack',
    outputs: { setopsdStageModel: canonicalJson(model), databasePassword: JSON.parse(someSecret) as unknown },
  });
  const [projectPath, , , legacyPath] = checkpointPaths(loc.backend.root!, loc.project, loc.stack);
  mkdirSync(dirname(projectPath!), { recursive: true });
  writeFileSync(projectPath!, JSON.stringify(base));
  const first = await engine.read(ref);
  t.same(first.model, model);
  t.match(first.serial, /^sha256:/);
  t.same(await engine.read(ref), first, 'serial stable while the stack does not change');
  const out = JSON.stringify(first) + JSON.stringify(await readCheckpointFile([projectPath!]));
  for (const plain of secretPlaintexts()) t.notOk(out.includes(plain), 'no secret plaintext in what read returns');
  t.ok(secretPlaintexts().length > 0, 'the fixture has secrets to look for');

  // gzip-compressed checkpoints (PULUMI_DIY_BACKEND_GZIP) read the same.
  await rm(projectPath!);
  writeFileSync(projectPath! + '.gz', gzipSync(JSON.stringify(base)));
  t.same(await engine.read(ref), first);
  await rm(projectPath! + '.gz');

  // Legacy (non-project) layout.
  mkdirSync(dirname(legacyPath!), { recursive: true });
  writeFileSync(legacyPath!, JSON.stringify(base));
  t.same(await engine.read(ref), first);

  // With meta.yaml version 1 (what Pulumi writes), a top-level legacy file is not ours.
  writeFileSync(join(loc.backend.root!, '.pulumi', 'meta.yaml'), 'version: 1\n');
  t.same(await engine.read(ref), { model: null, serial: null }, 'project layout: the legacy path is ignored');
  await rm(join(loc.backend.root!, '.pulumi', 'meta.yaml'));

  // Changed state → new serial.
  base.checkpoint.latest.resources.pop();
  writeFileSync(legacyPath!, JSON.stringify(base));
  t.not((await engine.read(ref)).serial, first.serial);

  // An empty (just created or destroyed) stack reads as nothing deployed.
  writeFileSync(legacyPath!, JSON.stringify({ version: 3, checkpoint: { stack: 'organization/setops-acme-shop/production', latest: { manifest: {}, resources: [] } } }));
  t.same(await engine.read(ref), { model: null, serial: null });
  writeFileSync(legacyPath!, JSON.stringify({ version: 3, checkpoint: { stack: 'organization/setops-acme-shop/production' } }));
  t.same(await engine.read(ref), { model: null, serial: null });

  // v1 in the backend: a clear error naming the file.
  writeFileSync(legacyPath!, fixture('checkpoint-v1.json'));
  const err = await engine.read(ref).catch((e: unknown) => e);
  t.ok(err instanceof SetopsError);
  t.match((err as Error).message, legacyPath!);
  t.match((err as Error).message, /Pulumi state version 1/);
});

t.test('operations that need the CLI fail clearly when it is missing', async (t) => {
  const stateDir = tempDir(t, 'setopsd-nocli-');
  const deps = testDeps({ env: { PATH: join(stateDir, 'empty-bin'), PULUMI_CONFIG_PASSPHRASE: 'x' }, cwd: stateDir });
  const engine = createPulumiEngine({ stateDir, deps, organization: model.organization }, { program: () => async () => ({}) });
  const err = await engine.preview!(model, { model: null, serial: null }).catch((e: unknown) => e);
  t.match(err, {
    code: 'E_PULUMI_CLI_MISSING',
    message:
      'the Pulumi CLI is required for preview of stage acme/shop/production; install it with `curl -fsSL https://get.pulumi.com | sh` or see https://www.pulumi.com/docs/install/ (or put it on PATH)',
  });
  const s3 = createPulumiEngine({ stateDir, deps, organization: { ...model.organization, backend: 's3://bucket/prefix' } });
  await t.rejects(s3.read({ organization: 'acme', project: 'shop', stage: 'production' }), {
    code: 'E_PULUMI_CLI_MISSING',
    message: /^the Pulumi CLI is required for reading stage acme\/shop\/production from s3:\/\/bucket\/prefix;/,
  });
});
