import type { PolicyViolation } from '../model/policy.js';
import type { StagePlan } from '../reconciler/stage-plan.js';

/**
 * The policy section of a stage in the text and markdown plans: one line per violation,
 * warnings first (the order `evaluatePolicies` returns), each naming the policy and rule, the
 * subject, the rule's message and what failed.
 */

/** `warn policy/rule app/web: message (/apps/web/scale: must be >= 2)`. */
export function violationText(v: PolicyViolation): string {
  return `${v.severity === 'deny' ? 'deny' : 'warn'} ${v.policy}/${v.rule} ${v.subject}: ${v.message} (${v.details.join('; ')})`;
}

/** The policy lines of one stage (empty without violations). */
export function policyLines(p: StagePlan): string[] {
  if (p.violations.length === 0) return [];
  const deny = p.violations.filter((v) => v.severity === 'deny').length;
  const head = `policy: ${p.violations.length} violation${p.violations.length === 1 ? '' : 's'}${deny > 0 ? `, ${deny} denied: apply refuses this stage` : ''}`;
  return [head, ...p.violations.map((v) => `  ${violationText(v)}`)];
}

/** "K policy violations (D deny)" over all stages, or null without any. */
export function policyTotal(plans: readonly StagePlan[]): string | null {
  const all = plans.flatMap((p) => p.violations);
  if (all.length === 0) return null;
  const deny = all.filter((v) => v.severity === 'deny').length;
  return `${all.length} policy violation${all.length === 1 ? '' : 's'} (${deny} deny, ${all.length - deny} warn)`;
}

/**
 * The markdown section of the policy violations (a PR comment): one list per stage with
 * violations, warnings first; empty without any. Escaping is the caller's `escape`.
 */
export function policyMarkdown(plans: readonly StagePlan[], escape: (s: string) => string): string[] {
  const withViolations = plans.filter((p) => p.violations.length > 0);
  if (withViolations.length === 0) return [];
  const denied = withViolations.some((p) => p.violations.some((v) => v.severity === 'deny'));
  const out = [denied ? '> [!WARNING]' : '> [!NOTE]', `> **Policies: ${escape(policyTotal(plans) ?? '')}**${denied ? '; apply refuses the stages with deny violations' : ''}`, ''];
  for (const p of withViolations) {
    out.push(`**\`${escape(p.key)}\`**`, '');
    for (const v of p.violations) {
      out.push(`- ${v.severity === 'deny' ? '**deny**' : 'warn'} \`${escape(`${v.policy}/${v.rule}`)}\` \`${escape(v.subject)}\`: ${escape(v.message)} (${v.details.map((d) => `\`${escape(d)}\``).join('; ')})`);
    }
    out.push('');
  }
  return out;
}
