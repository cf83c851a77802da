/**
 * The `stack export` documents the tests feed to the engine are real Pulumi deployments: they
 * validate against Pulumi's own JSON Schema (sdk/go/common/apitype, see the fixtures' PROVENANCE.md).
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { canonicalJson } from '../../../../src/model/canonical.js';
import { parseExport } from '../../../../src/providers/aws/engine/checkpoint.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/pulumi/sdk/go/common/apitype');
const schema = (name: string): object => JSON.parse(readFileSync(join(dir, name), 'utf8').replaceAll('"#property_value"', '"#"')) as object;

const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addSchema(schema('property-values.json'));
ajv.addSchema(schema('resources.json'));
const validate = ajv.compile(schema('deployments.json'));

const stackUrn = 'urn:pulumi:production::setops-acme-shop::pulumi:pulumi:Stack::setops-acme-shop-production';

t.test('an export with the model output and a pending create is a valid v3 deployment and reads back', async (t) => {
  const doc = {
    version: 3,
    deployment: {
      manifest: { time: '2026-01-01T00:00:00Z', magic: 'abc', version: 'v3.200.0' },
      secrets_providers: { type: 'passphrase', state: { salt: 'v1:c2FsdA==:v1:aXY=:Y2lwaGVy' } },
      resources: [
        { urn: stackUrn, custom: false, type: 'pulumi:pulumi:Stack', outputs: { setopsdStageModel: canonicalJson({ stage: 'x' }) } },
      ],
      pending_operations: [
        {
          resource: { urn: 'urn:pulumi:production::setops-acme-shop::aws:s3/bucket:Bucket::data', custom: true, type: 'aws:s3/bucket:Bucket' },
          type: 'creating',
        },
      ],
    },
  };
  t.ok(validate(doc), JSON.stringify(validate.errors?.slice(0, 3)));
  const info = parseExport(JSON.stringify(doc), 'export');
  t.same(info.outputs, { setopsdStageModel: '{"stage":"x"}' });
  t.same(info.pendingOperations, [{ urn: 'urn:pulumi:production::setops-acme-shop::aws:s3/bucket:Bucket::data', type: 'creating' }]);
});

t.test('malformed resources fail Pulumi\'s schema; a v1 export is refused by setopsd', async (t) => {
  const bad = { version: 3, deployment: { manifest: { time: 'x', magic: '', version: '' }, resources: [{ urn: 'not-a-urn', custom: 'yes', type: 1 }] } };
  t.notOk(validate(bad), 'malformed resources fail the schema');
  t.throws(() => parseExport(JSON.stringify({ version: 1, deployment: {} }), 'e'), { code: 'E_PULUMI_STATE' });
});
