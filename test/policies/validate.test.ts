/**
 * `validate` checks the policies themselves: the envelope and fields (schema of kind Policy),
 * every rule a usable JSON Schema (ajv strict: a misspelt keyword is an error), every scope glob
 * valid, names unique. Every problem is reported, located file:line:col + pointer, and the CLI
 * prints them without a stack and exits 1.
 */
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatIssue } from '../../src/errors.js';
import { loadDesired } from '../../src/manifests/load.js';
import { runCli } from '../helpers/deps.js';
import { tempDir } from '../helpers/temp.js';

const BASE = 'apiVersion: setopsd/v1\nkind: Organization\nmetadata: { name: acme }\nspec: {}\n---\napiVersion: setopsd/v1\nkind: Project\nmetadata: { name: shop }\n---\napiVersion: setopsd/v1\nkind: Stage\nmetadata: { name: staging, project: shop }\n';

const BAD = `apiVersion: setopsd/v1
kind: Policy
metadata:
  name: checks
spec:
  rules:
    - name: typo
      severity: deny
      message: keyword misspelt
      rule:
        properties:
          apps:
            additionalProperties:
              properties:
                scale: { minimun: 2 }
    - name: bad-type
      severity: warn
      message: not a JSON Schema type
      rule: { type: objec }
    - name: bad-glob
      severity: deny
      message: unclosed bracket
      scope: { stages: ["prod-[eu", "ok-*"], projects: [a/b] }
      rule: true
    - name: typo
      severity: warn
      message: the name again
      rule: {}
---
apiVersion: setopsd/v1
kind: Policy
metadata:
  name: fields
spec:
  rules:
    - name: sev
      severity: block
      rule: {}
---
apiVersion: setopsd/v1
kind: Policy
metadata:
  name: checks
spec:
  rules: []
`;

t.test('every problem of the policies, located, sorted', async (t) => {
  const r = loadDesired({ root: '/x', dir: '', files: [{ path: 'setops.yaml', text: BASE }, { path: 'policies.yaml', text: BAD }] });
  t.equal(r.ok, false);
  if (r.ok) return;
  t.strictSame(r.issues.map(formatIssue), [
    'policies.yaml:15:26: /spec/rules/0/rule/properties/apps/additionalProperties/properties/scale/minimun: not a usable JSON Schema: strict mode: unknown keyword: "minimun"; the rule must be a JSON Schema (draft-07) over the stage model',
    'policies.yaml:19:21: /spec/rules/1/rule/type: not a valid JSON Schema: must be equal to one of the allowed values ("array", "boolean", "integer", "null", "number", "object", "string"); the rule must be a JSON Schema (draft-07) over the stage model',
    'policies.yaml:23:25: /spec/rules/2/scope/stages/0: "prod-[eu" is not a valid glob: Missing closing: "]"',
    'policies.yaml:23:57: /spec/rules/2/scope/projects/0: "a/b" is not a valid glob: a scope glob matches one name (organization, project or stage) and cannot contain "/"',
    'policies.yaml:25:13: /spec/rules/3/name: rule "typo" is declared twice in policy checks; rename one',
    'policies.yaml:36:7: /spec/rules/0: missing required field "message"',
    'policies.yaml:37:17: /spec/rules/0/severity: severity must be one of "deny", "warn", got "block"',
    'policies.yaml:43:9: /metadata/name: policy "checks" is declared twice (first at policies.yaml:4:9); rename or remove one',
    'policies.yaml:45:10: /spec/rules: rules must not be empty',
  ]);
});

t.test('setopsd validate prints them and exits 1; a valid policy passes', async (t) => {
  const dir = tempDir(t, 'setopsd-policy-validate-');
  await writeFile(join(dir, 'setops.yaml'), BASE);
  await writeFile(join(dir, 'policies.yaml'), BAD);
  const bad = await runCli(['validate', dir]);
  t.equal(bad.code, 1);
  t.match(bad.stdout + bad.stderr, /policies\.yaml:15:26: \/spec\/rules\/0\/rule\/properties\/apps\/additionalProperties\/properties\/scale\/minimun: not a usable JSON Schema: strict mode: unknown keyword: "minimun"/);
  t.notMatch(bad.stdout + bad.stderr, /    at /, 'no stack trace');
  const json = await runCli(['validate', dir, '--format', 'json']);
  t.equal(json.code, 1);
  t.equal((JSON.parse(json.stdout) as { issues: unknown[] }).issues.length, 9, 'every problem in the JSON too');

  await writeFile(join(dir, 'policies.yaml'), 'apiVersion: setopsd/v1\nkind: Policy\nmetadata: { name: ok }\nspec:\n  rules:\n    - { name: any, severity: warn, message: m, rule: { type: object } }\n');
  const good = await runCli(['validate', dir]);
  t.equal(good.code, 0, good.stdout + good.stderr);
});
