import t from 'tap';
import fc from 'fast-check';
import { plan } from '../../src/reconciler/plan.js';
import { rankOf } from '../../src/reconciler/order.js';
import { PlanError } from '../../src/errors.js';
import { canonicalJson } from '../../src/model/canonical.js';
import type { Change } from '../../src/model/changeset.js';
import type { StageModel } from '../../src/model/stage-model.js';
import { stageModel } from './arbitraries.js';
import { clone } from '../helpers/models.js';

/** plan(), or null when the pair is a refused major-version downgrade. */
function tryPlan(desired: StageModel | null, actual: StageModel | null) {
  try {
    return plan(desired, actual);
  } catch (err) {
    if (err instanceof PlanError && err.code === 'E_VERSION_DOWNGRADE') return null;
    throw err;
  }
}

function unmask(v: unknown): unknown {
  const m = typeof v === 'string' ? /^\(secret ([^()]*)\)$/.exec(v) : null;
  return m ? { secret: m[1] } : v;
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let at = obj;
  for (const p of parts.slice(0, -1)) {
    if (typeof at[p] !== 'object' || at[p] === null) at[p] = {};
    at = at[p] as Record<string, unknown>;
  }
  const last = parts[parts.length - 1]!;
  if (value === undefined) delete at[last];
  else at[last] = clone(value);
}

/**
 * A minimal "engine": applies each change to the actual model using only what the change says
 * (and, for whole-subject creates, the desired model as the engine would). Models what apply does.
 */
function simulateApply(changes: Change[], desired: StageModel | null, actual: StageModel | null): StageModel | null {
  let model = actual === null ? null : clone(actual);
  for (const c of changes) {
    const [kind, a, b] = c.subject.split('/');
    if (kind === 'stage') {
      if (c.op === 'delete') model = null;
      else if (c.op === 'create' || c.op === 'replace') model = { ...clone(desired!), apps: {}, services: {}, stage: { ...clone(desired!.stage), notifications: {} } };
      else if (c.path!.startsWith('organization.') || c.path!.startsWith('project.')) setPath(model as never, c.path!, c.after);
      else setPath(model!.stage as never, c.path!, c.after);
      continue;
    }
    const m = model!;
    const d = desired;
    if (kind === 'notification') {
      if (c.op === 'delete') delete m.stage.notifications[a!];
      else if (c.op === 'create') m.stage.notifications[a!] = clone(d!.stage.notifications[a!]!);
      else setPath(m.stage.notifications[a!] as never, c.path!, c.after);
    } else if (kind === 'service') {
      if (c.op === 'delete') delete m.services[a!];
      else if (c.op === 'create' || c.op === 'replace') m.services[a!] = clone(d!.services[a!]!);
      else setPath(m.services[a!] as never, c.path!, c.after);
    } else if (kind === 'app') {
      if (c.op === 'delete') delete m.apps[a!];
      else if (c.op === 'create') m.apps[a!] = { ...clone(d!.apps[a!]!), links: {}, domains: {} };
      else if (c.op === 'replace') m.apps[a!] = { ...clone(d!.apps[a!]!), links: m.apps[a!]!.links, domains: m.apps[a!]!.domains };
      else if (c.path!.startsWith('env.')) setPath(m.apps[a!]!.env as never, c.path!.slice(4), unmask(c.after));
      else setPath(m.apps[a!] as never, c.path!, c.after);
    } else if (kind === 'link' || kind === 'domain') {
      const map = (kind === 'link' ? m.apps[a!]!.links : m.apps[a!]!.domains) as Record<string, unknown>;
      const name = kind === 'domain' ? c.subject.slice(`domain/${a}/`.length) : b!;
      const want = (kind === 'link' ? d!.apps[a!]!.links : d!.apps[a!]!.domains) as Record<string, unknown>;
      if (c.op === 'delete') delete map[name];
      else if (c.op === 'create') map[name] = clone(want[name]);
      else setPath(map[name] as never, c.path!, c.after);
    }
  }
  return model;
}

t.test('plan(x, x) is empty for every valid model', async (t) => {
  fc.assert(
    fc.property(stageModel, (x) => {
      t.same(plan(x, x).changes, []);
      t.same(plan(x, clone(x)).changes, []);
    }),
    { numRuns: 300 },
  );
});

t.test('applying a plan then planning again is empty', async (t) => {
  fc.assert(
    fc.property(fc.option(stageModel, { nil: null }), fc.option(stageModel, { nil: null }), (desired, actual) => {
      fc.pre(desired !== null || actual !== null);
      const cs = tryPlan(desired, actual);
      fc.pre(cs !== null);
      const after = simulateApply(cs.changes, desired, actual);
      if (desired === null) return after === null;
      return after !== null && canonicalJson(after) === canonicalJson(desired) && plan(desired, after).changes.length === 0;
    }),
    { numRuns: 500 },
  );
  t.pass('property held');
});

t.test('order: ranks never decrease; services before links to them; unlink before service delete', async (t) => {
  fc.assert(
    fc.property(fc.option(stageModel, { nil: null }), fc.option(stageModel, { nil: null }), (desired, actual) => {
      fc.pre(desired !== null || actual !== null);
      const cs = tryPlan(desired, actual);
      fc.pre(cs !== null);
      const ranks = cs.changes.map(rankOf);
      for (let i = 1; i < ranks.length; i++) if (ranks[i]! < ranks[i - 1]!) return false;
      const index = (op: string, subject: string) => cs.changes.findIndex((c) => c.op === op && c.subject === subject);
      for (const [i, c] of cs.changes.entries()) {
        const [kind, app, svc] = c.subject.split('/');
        if (kind === 'link' && c.op === 'create') {
          const s = index('create', `service/${svc}`);
          const a = index('create', `app/${app}`);
          if (s > i || a > i) return false;
        }
        if (kind === 'link' && c.op === 'delete') {
          const s = index('delete', `service/${svc}`);
          if (s !== -1 && s < i) return false;
        }
        if (kind === 'app' && c.op === 'delete' && cs.changes.slice(0, i).some((x) => x.op === 'delete' && x.subject.startsWith('service/'))) return false;
      }
      // Deterministic: same inputs, same output, whatever the key order of the inputs.
      return canonicalJson(plan(desired && JSON.parse(canonicalJson(desired)), actual)) === canonicalJson(cs);
    }),
    { numRuns: 500 },
  );
  t.pass('property held');
});

t.test('secrets never appear as objects in a changeset', async (t) => {
  fc.assert(
    fc.property(fc.option(stageModel, { nil: null }), fc.option(stageModel, { nil: null }), (desired, actual) => {
      fc.pre(desired !== null || actual !== null);
      const cs = tryPlan(desired, actual);
      fc.pre(cs !== null);
      return !/"secret":/.test(JSON.stringify(cs));
    }),
    { numRuns: 300 },
  );
  t.pass('property held');
});
