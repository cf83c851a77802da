import { UsageError, type Issue } from '../../../src/errors.js';
import type { DaemonEvent } from '../../../src/daemon/controller.js';
import type { DaemonView, StageView } from '../../../src/daemon/view.js';
import type { Deployment } from '../../../src/state/journal.js';
import { deployment, record } from './fixtures.js';

type Revision = ReturnType<DaemonView['revision']>;
type Readiness = Awaited<ReturnType<DaemonView['readiness']>>;

/**
 * A hand-made DaemonView: stages, revision and readiness are plain fields a test changes, every
 * mutation is recorded in `calls`, and `publish` sends an event to the current subscribers.
 * `fail` makes the named method throw what it is given.
 */
export class FakeView implements DaemonView {
  source = '/srv/config (branch main)';
  stageList: StageView[] = [stageView()];
  rev: Revision = { commit: '0123456789abcdef0123456789abcdef01234567', valid: true, issues: [] };
  ready: Readiness = { ready: true, checks: { synced: { ok: true } } };
  history: Deployment[] = [deployment({ number: 2 }), deployment({ number: 1 })];
  readonly calls = { approve: [] as [string, string | undefined][], retry: [] as string[], sync: 0, deployments: [] as [string, number][] };
  readonly fail: Partial<Record<'approve' | 'retry' | 'sync' | 'stages' | 'readiness', unknown>> = {};
  private readonly listeners = new Set<(event: DaemonEvent) => void>();

  /** Subscribers now. */
  get subscribers(): number {
    return this.listeners.size;
  }

  publish(event: DaemonEvent): void {
    for (const l of this.listeners) l(event);
  }

  async readiness(): Promise<Readiness> {
    this.maybeFail('readiness');
    return this.ready;
  }

  revision(): Revision {
    return this.rev;
  }

  async stages(): Promise<StageView[]> {
    this.maybeFail('stages');
    return this.stageList;
  }

  async stage(key: string): Promise<StageView | null> {
    return this.stageList.find((s) => s.key === key) ?? null;
  }

  async deployments(key: string, limit: number): Promise<Deployment[]> {
    this.calls.deployments.push([key, limit]);
    return this.history.filter((d) => d.stage === key).slice(0, limit);
  }

  async approve(key: string, planId?: string): Promise<string> {
    this.calls.approve.push([key, planId]);
    this.maybeFail('approve');
    const s = this.stageList.find((x) => x.key === key);
    const waiting = s?.pending?.planId;
    if (!waiting) throw new UsageError(`stage ${key} has no plan waiting for approval (it is ${s?.record?.state ?? 'unknown'})`);
    if (planId !== undefined && planId !== waiting) throw new UsageError(`stage ${key}: plan ${planId} is not the waiting plan (${waiting})`);
    return waiting;
  }

  async retry(key: string): Promise<void> {
    this.calls.retry.push(key);
    this.maybeFail('retry');
  }

  async sync(): Promise<void> {
    this.calls.sync++;
    this.maybeFail('sync');
  }

  subscribe(listener: (event: DaemonEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private maybeFail(method: keyof FakeView['fail']): void {
    if (method in this.fail) throw this.fail[method];
  }
}

/** A StageView with defaults: `acme/shop/staging`, ready. */
export function stageView(over: Partial<StageView> & { stage?: string } = {}): StageView {
  const organization = over.organization ?? 'acme';
  const project = over.project ?? 'shop';
  const stage = over.stage ?? 'staging';
  const key = `${organization}/${project}/${stage}`;
  return {
    key,
    organization,
    project,
    stage,
    after: null,
    approval: 'auto',
    record: record({ stage: key }),
    lastDeployment: { number: 2, status: 'succeeded', commit: '0123456789abcdef0123456789abcdef01234567', startedAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-01-01T00:00:05.000Z', kind: 'apply' },
    pending: null,
    ...over,
  };
}

/** A stage waiting for approval of plan `plan-1` with two changes. */
export function waitingStage(stage = 'production', after: string | null = 'staging'): StageView {
  const key = `acme/shop/${stage}`;
  return stageView({
    stage,
    after,
    approval: 'manual',
    record: record({ stage: key, state: 'waiting-approval', reason: 'manual-approval', message: 'the stage needs a person to approve its plan' }),
    pending: {
      planId: 'plan-1',
      approveCommand: `setopsd approve ${key} --plan plan-1`,
      changes: [
        { op: 'update', subject: 'app/web', path: 'scale', before: 1, after: 3, dataLoss: false, command: 'setops resource:set scale 3' },
        { op: 'delete', subject: 'service/cache', dataLoss: true, command: 'setops service:delete cache' },
      ],
    },
  });
}

/** Two located problems of an invalid commit. */
export const ISSUES: Issue[] = [
  { file: 'acme/shop/stage.yaml', line: 3, col: 7, pointer: '/spec/after', message: 'must be a stage of the same project' },
  { file: 'acme/shop/apps/web.yaml', line: 12, col: 5, pointer: '/spec/port', message: 'must be <= 65535' },
];
