import { PolicyError } from '../errors.js';
import type { PolicyViolation } from '../model/policy.js';
import { denied } from '../reconciler/policies.js';

/**
 * The gate of `apply` and the daemon: a stage whose desired model violates a `deny` rule is not
 * applied. Throws PolicyError (E_POLICY_DENIED, terminal: the same commit fails the same way)
 * naming every deny violation of every given stage, so nothing at all is applied.
 */
export function refuseDeniedPolicies(stages: readonly { key: string; violations: readonly PolicyViolation[] }[]): void {
  const refusal = policyRefusal(stages);
  if (refusal !== null) throw refusal;
}

/** The PolicyError `refuseDeniedPolicies` throws, or null when no stage has a deny violation. */
export function policyRefusal(stages: readonly { key: string; violations: readonly PolicyViolation[] }[]): PolicyError | null {
  const refused = stages.flatMap((s) => denied(s.violations).map((v) => ({ stage: s.key, v })));
  if (refused.length === 0) return null;
  const lines = refused.map(({ stage, v }) => `  ${stage}: ${v.policy}/${v.rule} ${v.subject}: ${v.message} (${v.details.join('; ')})`);
  const stageCount = new Set(refused.map((r) => r.stage)).size;
  return new PolicyError(
    `${stageCount === 1 ? `stage ${refused[0]!.stage}` : `${stageCount} stages`} violate${stageCount === 1 ? 's' : ''} ${refused.length} deny polic${refused.length === 1 ? 'y rule' : 'y rules'}; nothing was applied. Change the manifests so the rules hold (or change the Policy documents), then plan again:\n${lines.join('\n')}`,
    refused.map(({ stage, v }) => ({ stage, policy: v.policy, rule: v.rule, subject: v.subject, message: v.message })),
  );
}
