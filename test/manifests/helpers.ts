import type { SourceFiles } from '../../src/manifests/api.js';
import { loadDesired } from '../../src/manifests/load.js';
import { formatIssue } from '../../src/errors.js';

/** A valid base: organization acme, project shop, stages staging and production, service database. */
export const BASE = `apiVersion: setopsd/v1
kind: Organization
metadata:
  name: acme
---
apiVersion: setopsd/v1
kind: Project
metadata:
  name: shop
---
apiVersion: setopsd/v1
kind: Stage
metadata:
  name: staging
  project: shop
---
apiVersion: setopsd/v1
kind: Stage
metadata:
  name: production
  project: shop
spec:
  after: staging
  protected: true
---
apiVersion: setopsd/v1
kind: Service
metadata:
  name: database
  project: shop
spec:
  type: postgresql
`;

/** SourceFiles from `path → text`. */
export function source(files: Record<string, string>): SourceFiles {
  return { root: '/config', dir: '', files: Object.entries(files).map(([path, text]) => ({ path, text })) };
}

/** An App document in project shop. */
export function app(name: string, spec: string, metadata = ''): string {
  return `apiVersion: setopsd/v1\nkind: App\nmetadata:\n  name: ${name}\n  project: shop\n${metadata}spec:\n${indent(spec)}`;
}

/** A Service document in project shop. */
export function service(name: string, spec: string, metadata = ''): string {
  return `apiVersion: setopsd/v1\nkind: Service\nmetadata:\n  name: ${name}\n  project: shop\n${metadata}spec:\n${indent(spec)}`;
}

function indent(s: string): string {
  return s
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => `  ${l}\n`)
    .join('');
}

/** Issues of base.yaml + case.yaml as formatted lines ([] when valid). */
export function issuesOf(caseText: string, base = BASE): string[] {
  const r = loadDesired(source({ 'base.yaml': base, 'case.yaml': caseText }));
  return r.ok ? [] : r.issues.map(formatIssue);
}

/** Loads base.yaml + case.yaml and returns the state, failing loudly with the issues when invalid. */
export function load(caseText: string, base = BASE) {
  const r = loadDesired(source({ 'base.yaml': base, 'case.yaml': caseText }));
  if (!r.ok) throw new Error('unexpected issues:\n' + r.issues.map(formatIssue).join('\n'));
  return r.value;
}
