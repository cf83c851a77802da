import t from 'tap';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { combinedSchema } from '../../src/schema/combined.js';
import { app, issuesOf, service } from '../manifests/helpers.js';

// `version: 16` is a number in YAML. setopsd accepts it (as "16"); the schema editors use must
// say the same about every version, written as a number or as a string.
function editorValidator() {
  const AjvClass = ((Ajv as unknown as { default?: typeof Ajv }).default ?? Ajv) as unknown as typeof Ajv.default;
  const formats = ((addFormats as unknown as { default?: typeof addFormats }).default ?? addFormats) as unknown as typeof addFormats.default;
  const ajv = new AjvClass({ strict: false, allErrors: true });
  formats(ajv);
  return ajv.compile(combinedSchema());
}

t.test('the editor schema and setopsd validate agree on service versions, numbers and strings', async (t) => {
  const editor = editorValidator();
  const cases: [string, string, boolean][] = [
    ['postgresql', '16', true],
    ['postgresql', '"16"', true],
    ['postgresql', '16.2', true],
    ['postgresql', '13', true],
    ['postgresql', '12', false],
    ['postgresql', '"12"', false],
    ['postgresql', '18', false],
    ['redis', '7', true],
    ['redis', '7.2', true],
    ['redis', '8', false],
    ['documentdb', '4', true],
    ['s3', '1', false],
  ];
  for (const [type, version, ok] of cases) {
    const cli = issuesOf(service('things', `type: ${type}\nversion: ${version}`)).length === 0;
    const doc = { apiVersion: 'setopsd/v1', kind: 'Service', metadata: { name: 'things', project: 'shop' }, spec: { type, version: JSON.parse(version) as unknown } };
    t.equal(cli, ok, `setopsd validate: ${type} version ${version}`);
    t.equal(editor(doc), ok, `editor schema: ${type} version ${version}`);
  }
  t.ok(issuesOf(app('web', 'command: x')).length === 0, 'the helpers load a valid base');
});
