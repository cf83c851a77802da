/**
 * Policies as data: `kind: Policy` documents hold rules, each a JSON Schema over a StageModel
 * (evaluated with ajv, so no code from the manifests runs), with a severity, a message and the
 * stages it applies to. `deny` violations refuse `apply` and the daemon; `warn` ones are shown.
 */

/** How a violated rule is treated: `deny` refuses applying the stage, `warn` is only shown. */
export type PolicySeverity = 'deny' | 'warn';

/** Which stages a rule applies to: picomatch globs per part of the stage key (absent: every one). */
export interface PolicyScope {
  organizations: string[];
  projects: string[];
  stages: string[];
}

/** One rule of one Policy document, as loaded from the manifests. */
export interface PolicyRule {
  /** The Policy document's `metadata.name`. */
  policy: string;
  /** The rule's `name`. */
  rule: string;
  severity: PolicySeverity;
  /** What the reader is told (and should do) when the rule is violated. */
  message: string;
  scope: PolicyScope;
  /** The JSON Schema a StageModel in scope must satisfy. */
  schema: object | boolean;
  /** Where the rule is declared, `file:line:col`. */
  at: string;
}

/** A stage that does not satisfy a rule, once per subject (`app/web`, `service/db`, `stage`). */
export interface PolicyViolation {
  policy: string;
  rule: string;
  severity: PolicySeverity;
  message: string;
  /** The part of the stage that fails the rule: `app/NAME`, `service/NAME` or `stage`. */
  subject: string;
  /** JSON pointers into the StageModel of what failed and why (ajv's messages, never a value). */
  details: string[];
}
