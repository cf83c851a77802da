import type { Deployment } from '../../../src/state/journal.js';
import type { StageStatusRecord } from '../../../src/state/status-record.js';

/** A journal entry with sensible defaults for the HTTP tests. */
export function deployment(over: Partial<Deployment> = {}): Deployment {
  const stage = over.stage ?? 'acme/shop/staging';
  const [organization = 'acme', project = 'shop', name = 'staging'] = stage.split('/');
  return {
    formatVersion: 1,
    number: 1,
    stage,
    kind: 'apply',
    commit: '0123456789abcdef0123456789abcdef01234567',
    ref: 'refs/heads/main',
    trigger: 'daemon',
    changeset: { ref: { organization, project, stage: name }, changes: [] },
    desiredHash: 'hash1',
    status: 'succeeded',
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: '2026-01-01T00:00:05.000Z',
    log: '/state/logs/deploy-000001.log',
    applied: [],
    summary: { create: 0, update: 0, replace: 0, delete: 0 },
    pid: 1,
    host: 'test',
    ...over,
  };
}

/** A status record with sensible defaults. */
export function record(over: Partial<StageStatusRecord> = {}): StageStatusRecord {
  return {
    formatVersion: 1,
    stage: 'acme/shop/staging',
    state: 'ready',
    lastAppliedRevision: '0123456789abcdef0123456789abcdef01234567',
    lastAttemptedRevision: '0123456789abcdef0123456789abcdef01234567',
    desiredHash: 'hash1',
    failures: 0,
    lastDeployment: 1,
    since: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:05.000Z',
    ...over,
  };
}
