/**
 * Policies as data, the pure half: the shipped example policies (examples/policies.yaml) loaded
 * with the bundled examples and evaluated against their stage models, with one manifest edit per
 * rule that breaks it. Scope globs, ordering (warnings first), subjects, and that evaluating a
 * rule never changes the model it reads.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from '../../src/model/canonical.js';
import type { PolicyRule } from '../../src/model/policy.js';
import { refOf, stageKey, type StageModel } from '../../src/model/stage-model.js';
import { loadDesired } from '../../src/manifests/load.js';
import { evaluatePolicies } from '../../src/reconciler/policies.js';
import { compileRule } from '../../src/schema/policy-rules.js';
import { repoRoot } from '../e2e/helpers.js';
import { app, service, stage } from '../helpers/models.js';

const read = (p: string) => readFileSync(join(repoRoot, 'examples', p), 'utf8');
const LOCAL = read('setops.yaml');
const AWS = read('aws/setops.yaml');
const POLICIES = read('policies.yaml');

function load(local = LOCAL, aws = AWS) {
  const r = loadDesired({ root: '/x', dir: '', files: [{ path: 'aws/setops.yaml', text: aws }, { path: 'policies.yaml', text: POLICIES }, { path: 'setops.yaml', text: local }] });
  if (!r.ok) throw new Error(r.issues.map((i) => `${i.file}:${i.line}: ${i.message}`).join('\n'));
  return r.value;
}

/** `stage → [severity policy/rule subject]` for every stage with violations. */
function violations(desired: ReturnType<typeof load>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of desired.stages) {
    const v = evaluatePolicies(desired.policies ?? [], m);
    if (v.length > 0) out[stageKey(refOf(m))] = v.map((x) => `${x.severity} ${x.policy}/${x.rule} ${x.subject}`);
  }
  return out;
}

function edit(text: string, from: string, to: string): string {
  t.ok(text.includes(from), `the example holds ${JSON.stringify(from)}`);
  return text.replace(from, to);
}

t.test('the example policies load as four rules and the bundled examples satisfy them', async (t) => {
  const desired = load();
  t.strictSame(
    desired.policies?.map((r) => `${r.policy}/${r.rule} ${r.severity} ${r.at}`),
    [
      'baseline/no-latest-image deny policies.yaml:50:13',
      'baseline/postgresql-retention deny policies.yaml:36:13',
      'baseline/production-scale deny policies.yaml:13:13',
      'baseline/public-health-check warn policies.yaml:24:13',
    ],
  );
  t.strictSame(violations(desired), {}, 'every example stage is within the policies');
});

t.test('production stages need scale ≥ 2 (deny, production only)', async (t) => {
  const local = edit(LOCAL, '  stages:\n    production:\n      scale: 2', '  stages:\n    production:\n      scale: 1');
  t.strictSame(violations(load(local)), { 'acme/shop/production': ['deny baseline/production-scale app/worker'] });
  const [v] = evaluatePolicies(load(local).policies!, load(local).stages.find((s) => s.stage.name === 'production' && s.organization.name === 'acme')!);
  t.strictSame(v?.details, ['/apps/worker/scale: must be >= 2'], 'the detail names the field and the bound, never a value of the manifests beyond it');
  t.match(v?.message, /set scale ≥ 2/);
});

t.test('a public app without a health check path of its own is a warning', async (t) => {
  const local = edit(LOCAL, '  public: true\n  healthCheck:\n    path: /healthz\n', '  public: true\n');
  t.strictSame(violations(load(local)), {
    'acme/shop/production': ['warn baseline/public-health-check app/web'],
    'acme/shop/staging': ['warn baseline/public-health-check app/web'],
  }, 'the private worker with the default path is not affected');
});

t.test('postgresql on protected stages needs retentionDays ≥ 7 (deny; unprotected stages may keep less)', async (t) => {
  const aws = edit(AWS, '      backup:\n        retentionDays: 14', '      backup:\n        retentionDays: 3');
  t.strictSame(violations(load(LOCAL, aws)), { 'globex/storefront/production': ['deny baseline/postgresql-retention service/database'] });
  const staging = edit(AWS, '  type: postgresql\n  version: "16"\n', '  type: postgresql\n  version: "16"\n  backup: { retentionDays: 1 }\n');
  const v = violations(load(LOCAL, staging));
  t.strictSame(v, {}, 'staging (not protected) may keep 1 day; production overrides to 14');
});

t.test('no image tag latest, nor an image without a tag (deny)', async (t) => {
  const latest = edit(AWS, 'ghcr.io/globex/storefront-worker:1.4.2', 'ghcr.io/globex/storefront-worker:latest');
  t.strictSame(violations(load(LOCAL, latest)), {
    'globex/storefront/production': ['deny baseline/no-latest-image app/worker'],
    'globex/storefront/staging': ['deny baseline/no-latest-image app/worker'],
  });
  const untagged = edit(AWS, 'ghcr.io/globex/storefront-web:1.4.2', 'ghcr.io/globex/storefront-web');
  t.strictSame(violations(load(LOCAL, untagged)), {
    'globex/storefront/production': ['deny baseline/no-latest-image app/web'],
    'globex/storefront/staging': ['deny baseline/no-latest-image app/web'],
  });
  const digest = edit(AWS, 'ghcr.io/globex/storefront-web:1.4.2', `ghcr.io/globex/storefront-web@sha256:${'a'.repeat(64)}`);
  t.strictSame(violations(load(LOCAL, digest)), {}, 'a digest pins the image');
  const registryPort = edit(AWS, 'ghcr.io/globex/storefront-web:1.4.2', 'registry.local:5000/storefront-web');
  t.strictSame(Object.keys(violations(load(LOCAL, registryPort))).length, 2, 'a registry port is not a tag');
});

const rule = (over: Partial<PolicyRule>): PolicyRule => ({
  policy: 'p',
  rule: 'r',
  severity: 'deny',
  message: 'm',
  scope: { organizations: ['*'], projects: ['*'], stages: ['*'] },
  schema: { properties: { apps: { additionalProperties: { properties: { scale: { minimum: 2 } } } } } },
  at: 'policies.yaml:1:1',
  ...over,
});

t.test('scope: globs per organization, project and stage', async (t) => {
  const model = (name: string, org = 'acme') => stage({ name, organization: { name: org }, apps: { web: app() } });
  const r = rule({ scope: { organizations: ['acme', 'glob*'], projects: ['{shop,store}'], stages: ['prod-*', 'production'] } });
  t.equal(evaluatePolicies([r], model('prod-eu')).length, 1);
  t.equal(evaluatePolicies([r], model('production', 'globex')).length, 1);
  t.equal(evaluatePolicies([r], model('staging')).length, 0, 'stage outside the scope');
  t.equal(evaluatePolicies([r], model('production', 'initech')).length, 0, 'organization outside the scope');
  t.equal(evaluatePolicies([rule({ scope: { organizations: ['*'], projects: ['other'], stages: ['*'] } })], model('production')).length, 0, 'project outside the scope');
});

t.test('one violation per rule and subject, warnings first, then policy, rule, subject', async (t) => {
  const model: StageModel = stage({ apps: { web: app(), api: app({ scale: 0 }) }, services: { db: service('postgresql') } });
  const rules = [
    rule({ policy: 'b', rule: 'scale', schema: { properties: { apps: { additionalProperties: { properties: { scale: { minimum: 2 }, port: { maximum: 10 } } } } } } }),
    rule({ policy: 'a', rule: 'no-db', severity: 'warn', schema: { properties: { services: { maxProperties: 0 } } } }),
    rule({ policy: 'a', rule: 'stage-protected', schema: { properties: { stage: { properties: { protected: { const: true } } } } } }),
  ];
  t.strictSame(
    evaluatePolicies(rules, model).map((v) => `${v.severity} ${v.policy}/${v.rule} ${v.subject} ${v.details.join(', ')}`),
    [
      'warn a/no-db stage /services: must NOT have more than 0 properties',
      'deny a/stage-protected stage /stage/protected: must be equal to constant',
      'deny b/scale app/api /apps/api/scale: must be >= 2, /apps/api/port: must be <= 10',
      'deny b/scale app/web /apps/web/scale: must be >= 2, /apps/web/port: must be <= 10',
    ],
  );
});

t.test('evaluating never changes the model (no defaults from rules) and a compiled rule is reused', async (t) => {
  const model = stage({ apps: { web: app() } });
  const before = canonicalJson(model);
  const r = rule({ schema: { properties: { apps: { additionalProperties: { properties: { extra: { default: 1 } } } } } } });
  t.strictSame(evaluatePolicies([r], model), []);
  t.equal(canonicalJson(model), before);
  t.strictSame(evaluatePolicies([r, { ...r, rule: 'same-schema' }], model), [], 'the same schema under another rule');
});

t.test('compiled rules are cached by schema hash, and the cache is bounded', async (t) => {
  const first = compileRule({ properties: { stage: { properties: { name: { const: 'cache-0' } } } } });
  t.equal(compileRule({ properties: { stage: { properties: { name: { const: 'cache-0' } } } } }), first, 'an equal schema (another object) is not compiled again');
  for (let i = 1; i <= 1000; i++) compileRule({ properties: { stage: { properties: { name: { const: `cache-${i}` } } } } });
  const again = compileRule({ properties: { stage: { properties: { name: { const: 'cache-0' } } } } });
  t.not(again, first, 'the oldest entry was dropped after 1000 others');
  t.ok(again.ok && again.check(stage({ name: 'cache-0' })).length === 0, 'and compiles again the same');
});
