import { picomatch } from '../manifests/glob.js';
import { compareCodeUnits } from '../model/canonical.js';
import type { PolicyRule, PolicyViolation } from '../model/policy.js';
import type { StageModel } from '../model/stage-model.js';
import { compileRule } from '../schema/policy-rules.js';

/**
 * Evaluates policy rules against one stage's desired model (PURE: values in, values out; rules
 * are JSON Schemas checked by ajv, compiled once per schema). A rule applies when the stage's
 * organization, project and stage names each match one of its scope's globs. A violation is
 * reported once per subject of the model that fails the rule (`app/web`, `service/db`, `stage`),
 * warnings first, then by policy, rule and subject.
 */
export function evaluatePolicies(rules: readonly PolicyRule[], model: StageModel): PolicyViolation[] {
  const out: PolicyViolation[] = [];
  for (const r of rulesInScope(rules, model)) {
    const compiled = compileRule(r.schema);
    // Loaded rules were compiled when the manifests were validated; one that is not usable here fails closed.
    const failures = compiled.ok ? compiled.check(model) : [{ instancePath: '', keyword: 'schema', message: 'the rule is not a usable JSON Schema' }];
    const bySubject = new Map<string, string[]>();
    for (const f of failures) {
      const subject = subjectOf(f.instancePath);
      const list = bySubject.get(subject) ?? [];
      const detail = `${f.instancePath || '/'}: ${f.message}`;
      if (!list.includes(detail)) list.push(detail);
      bySubject.set(subject, list);
    }
    for (const [subject, details] of bySubject) out.push({ policy: r.policy, rule: r.rule, severity: r.severity, message: r.message, subject, details });
  }
  return out.sort(
    (a, b) =>
      (a.severity === b.severity ? 0 : a.severity === 'warn' ? -1 : 1) ||
      compareCodeUnits(a.policy, b.policy) ||
      compareCodeUnits(a.rule, b.rule) ||
      compareCodeUnits(a.subject, b.subject),
  );
}

/** The rules whose scope takes in the stage of `model` (in the order given). PURE. */
export function rulesInScope(rules: readonly PolicyRule[], model: StageModel): PolicyRule[] {
  return rules.filter((r) => inScope(r, model));
}

/** The `deny` violations: what refuses an apply. */
export function denied(violations: readonly PolicyViolation[]): PolicyViolation[] {
  return violations.filter((v) => v.severity === 'deny');
}

function inScope(r: PolicyRule, model: StageModel): boolean {
  const matches = (globs: readonly string[], name: string) => globs.some((g) => picomatch().isMatch(name, g));
  return matches(r.scope.organizations, model.organization.name) && matches(r.scope.projects, model.project.name) && matches(r.scope.stages, model.stage.name);
}

/** `/apps/web/scale` → `app/web`; `/services/db/backup` → `service/db`; anything else is the stage's. */
function subjectOf(instancePath: string): string {
  const [, top, name] = instancePath.split('/');
  const unescaped = name?.replace(/~1/g, '/').replace(/~0/g, '~');
  if (top === 'apps' && unescaped) return `app/${unescaped}`;
  if (top === 'services' && unescaped) return `service/${unescaped}`;
  return 'stage';
}
