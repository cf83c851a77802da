/** What the engine printed (errors and warnings) and the policy findings of a run. */
import { resourceSubject, urnType } from './steps.js';
import type { Diagnostic, DiagnosticEventBody, PolicyEventBody, PolicyViolation } from './types.js';

/** Drops the engine's color markup (`<{%reset%}>`). */
function stripColors(s: string): string {
  return s.replace(/<\{%[^%]*%\}>/g, '');
}

/** The diagnostics and policy findings of a run, in the order the engine reported them. */
export class DiagnosticLog {
  /** Errors and warnings, each message once per severity; ephemeral ones and `info` are left out. */
  readonly diagnostics: Diagnostic[] = [];
  readonly policy: PolicyViolation[] = [];
  /** The engine warned that an earlier interrupted deployment left pending operations. */
  previousPendingOperations = false;
  private readonly seen = new Set<string>();

  /** Records a `diagnosticEvent`. */
  diagnostic(diag: DiagnosticEventBody): void {
    if ((diag.severity !== 'error' && diag.severity !== 'warning') || diag.ephemeral) return;
    const message = stripColors(diag.message ?? '').trim();
    if (/pending operations from previous deployment/i.test(message)) this.previousPendingOperations = true;
    const key = `${diag.severity}\u0000${message}`;
    if (!message || this.seen.has(key)) return;
    this.seen.add(key);
    const d: Diagnostic = { severity: diag.severity, message };
    if (diag.urn) d.subject = resourceSubject(urnType(diag.urn), diag.urn);
    this.diagnostics.push(d);
  }

  /** Records a `policyEvent`. */
  policyFinding(pol: PolicyEventBody): void {
    const v: PolicyViolation = {
      pack: pol.policyPackName ?? '',
      policy: pol.policyName ?? '',
      level: pol.enforcementLevel ?? 'advisory',
      message: stripColors(pol.message ?? '').trim(),
    };
    if (pol.resourceUrn) v.subject = resourceSubject(urnType(pol.resourceUrn), pol.resourceUrn);
    this.policy.push(v);
  }
}
