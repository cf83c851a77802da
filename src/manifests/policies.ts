import { picomatch } from './glob.js';
import type { Issue } from '../errors.js';
import type { PolicyRule, PolicyScope } from '../model/policy.js';
import { compileRule } from '../schema/policy-rules.js';
import { issueAt, type AnyDeclared, type DeclaredPolicy } from './documents.js';
import { locate } from './yaml-docs.js';

/**
 * The rules of the `kind: Policy` documents of a source, checked as `validate` checks manifests:
 * names unique, every scope glob a valid picomatch pattern, every rule a usable JSON Schema
 * (compiled with ajv in strict mode, so a misspelt keyword is an error rather than a rule that
 * always passes). PURE. Problems go to `issues`, located at the rule; rules with problems are left out.
 */
export function collectPolicies(declared: readonly AnyDeclared[], issues: Issue[]): PolicyRule[] {
  const rules: PolicyRule[] = [];
  const byName = new Map<string, DeclaredPolicy>();
  for (const d of declared.filter((x): x is DeclaredPolicy => x.kind === 'Policy')) {
    const first = byName.get(d.name);
    if (first) {
      const p = locate(first.parsed, '/metadata/name');
      issues.push(issueAt(d.parsed, '/metadata/name', `policy "${d.name}" is declared twice (first at ${first.parsed.file}:${p.line}:${p.col}); rename or remove one`));
      continue;
    }
    byName.set(d.name, d);
    if (!d.specOk) continue; // its schema problems are reported already
    const names = new Set<string>();
    d.value.spec.rules.forEach((r, i) => {
      const at = `/spec/rules/${i}`;
      let ok = true;
      if (names.has(r.name)) {
        issues.push(issueAt(d.parsed, `${at}/name`, `rule "${r.name}" is declared twice in policy ${d.name}; rename one`));
        ok = false;
      }
      names.add(r.name);
      const scope = r.scope as PolicyScope;
      for (const part of ['organizations', 'projects', 'stages'] as const) {
        scope[part].forEach((glob, j) => {
          const problem = globProblem(glob);
          if (problem === null) return;
          issues.push(issueAt(d.parsed, `${at}/scope/${part}/${j}`, `${JSON.stringify(glob)} is not a valid glob: ${problem}`));
          ok = false;
        });
      }
      const compiled = compileRule(r.rule as object | boolean);
      if (!compiled.ok) {
        for (const p of compiled.problems) issues.push(issueAt(d.parsed, `${at}/rule${p.pointer}`, `${p.message}; the rule must be a JSON Schema (draft-07) over the stage model`, p.at));
        ok = false;
      }
      if (!ok) return;
      const where = locate(d.parsed, `${at}/name`);
      rules.push({
        policy: d.name,
        rule: r.name,
        severity: r.severity,
        message: r.message,
        scope: { organizations: [...scope.organizations], projects: [...scope.projects], stages: [...scope.stages] },
        schema: r.rule as object | boolean,
        at: `${d.parsed.file}:${where.line}:${where.col}`,
      });
    });
  }
  return rules.sort((a, b) => (a.policy < b.policy ? -1 : a.policy > b.policy ? 1 : a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0));
}

/** Why picomatch cannot use a glob (an unclosed bracket, brace or paren), or null. */
function globProblem(glob: string): string | null {
  if (glob.includes('/')) return 'a scope glob matches one name (organization, project or stage) and cannot contain "/"';
  try {
    picomatch().makeRe(glob, { strictBrackets: true });
    return null;
  } catch (err) {
    return (err as Error).message.replace(/\s+-\s+use .*$/, '');
  }
}
