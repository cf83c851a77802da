import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { combinedSchema } from '../../src/schema/combined.js';
import { KIND_SCHEMAS } from '../../src/schema/kinds.js';
import { compileValidators } from '../../src/schema/validate.js';

/**
 * The schemas as an editor sees them: a plain draft-07 validator (no setopsd code) accepts the
 * bundled example and rejects what setopsd rejects at the schema level.
 */
function editorValidator() {
  const AjvClass = ((Ajv as unknown as { default?: typeof Ajv }).default ?? Ajv) as unknown as typeof Ajv.default;
  const formats = ((addFormats as unknown as { default?: typeof addFormats }).default ?? addFormats) as unknown as typeof addFormats.default;
  const ajv = new AjvClass({ strict: false, allErrors: true });
  formats(ajv);
  return ajv.compile(combinedSchema());
}

t.test('every document of the examples is valid under the combined schema', async (t) => {
  const validate = editorValidator();
  const files = ['examples/setops.yaml', ...(existsSync(new URL('../../examples/aws/setops.yaml', import.meta.url)) ? ['examples/aws/setops.yaml'] : [])];
  for (const file of files) {
    const text = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
    for (const doc of parseAllDocuments(text) as unknown as { toJS(): unknown }[]) {
      const value = doc.toJS() as { kind: string; metadata: { name: string } };
      t.ok(validate(value), `${file} ${value.kind}/${value.metadata.name}: ${JSON.stringify(validate.errors)}`);
    }
  }
});

t.test('the combined schema rejects a document of any kind with a schema error', async (t) => {
  const validate = editorValidator();
  const bad = [
    { apiVersion: 'setopsd/v1', kind: 'App', metadata: { name: 'web', project: 'shop' }, spec: { port: 70000 } },
    { apiVersion: 'setopsd/v1', kind: 'Service', metadata: { name: 'db', project: 'shop' }, spec: { type: 'postgresql' } },
    { apiVersion: 'setopsd/v1', kind: 'Service', metadata: { name: 'cache', project: 'shop' }, spec: { type: 'redis', version: '9' } },
    { apiVersion: 'setopsd/v1', kind: 'Stage', metadata: { name: 'staging', project: 'shop' }, spec: { approval: 'never' } },
    { apiVersion: 'setopsd/v1', kind: 'Organization', metadata: { name: 'acme' }, spec: { provider: 'aws' } },
    { apiVersion: 'setopsd/v1', kind: 'Project', metadata: { name: 'shop', extra: 1 } },
    { apiVersion: 'setopsd/v1', kind: 'Pod', metadata: { name: 'x' } },
  ];
  for (const doc of bad) t.notOk(validate(doc), `${doc.kind}: ${JSON.stringify(doc.spec ?? doc.metadata)}`);
});

t.test('the schemas compile in ajv strict mode (no unknown keywords or ignored defaults)', async (t) => {
  t.doesNotThrow(() => compileValidators());
  t.strictSame(Object.keys(KIND_SCHEMAS), ['Organization', 'Project', 'Stage', 'App', 'Service', 'Policy']);
});

t.test('every property of every schema is described or self-evident', async (t) => {
  // Walks the schemas and lists properties without a description whose name is not in an
  // explicit allow list: keeps the editor hover text useful as the schemas grow.
  const selfEvident = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'name', 'email', 'webhook', 'region', 'accountId', 'vpcId', 'prefix', 'primary', 'command', 'minStorage', 'maxStorage', 'extensions', 'blockPublicAccess', 'scale', 'storage', 'retentionDays', 'description']);
  const missing: string[] = [];
  const walk = (s: unknown, path: string) => {
    if (Array.isArray(s)) return s.forEach((x, i) => walk(x, `${path}/${i}`));
    if (s === null || typeof s !== 'object') return;
    const o = s as Record<string, unknown>;
    if (o.properties && typeof o.properties === 'object') {
      for (const [k, v] of Object.entries(o.properties as Record<string, Record<string, unknown>>)) {
        if (!v.description && !selfEvident.has(k)) missing.push(`${path}/${k}`);
      }
    }
    // if/then only narrow properties described elsewhere.
    for (const [k, v] of Object.entries(o)) if (k !== 'if' && k !== 'then') walk(v, `${path}/${k}`);
  };
  walk(KIND_SCHEMAS, '');
  t.strictSame(missing, []);
});
