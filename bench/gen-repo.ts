import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import type { DesiredState } from '../src/manifests/api.js';
import { refOf, stageKey, type StageModel } from '../src/model/stage-model.js';

/**
 * Generates a large, valid config repository for benchmarks (validate, plan). Deterministic:
 * the same options give the same files. Defaults: 20 projects × 10 stages = 200 stages, and
 * 10,000 app manifests (10 project-wide apps per project, each in all 10 stages and overridden
 * on production, plus 49 apps pinned to each stage), 5 services per project, links between
 * them, env, domains and notifications — the shapes real manifests have.
 */
export interface GenOptions {
  organization: string;
  projects: number;
  stagesPerProject: number;
  /** Apps without metadata.stage: in every stage of their project. */
  sharedAppsPerProject: number;
  /** Apps pinned to one stage (metadata.stage). */
  pinnedAppsPerStage: number;
  servicesPerProject: number;
}

export const DEFAULT_GEN: GenOptions = {
  organization: 'acme',
  projects: 20,
  stagesPerProject: 10,
  sharedAppsPerProject: 10,
  pinnedAppsPerStage: 49,
  servicesPerProject: 5,
};

/** One generated repository: files (path → text) and what it declares. */
export interface GeneratedRepo {
  files: { path: string; text: string }[];
  counts: { organizations: 1; projects: number; stages: number; apps: number; services: number; appInstances: number };
}

const SERVICE_TYPES = ['postgresql', 'redis', 's3', 'volume', 'postgresql'] as const;

function stageName(i: number, n: number): string {
  if (i === n - 1) return 'production';
  if (i === n - 2) return 'staging';
  return `dev-${String(i).padStart(3, '0')}`;
}

function app(name: string, project: string, stage: string | undefined, i: number, services: string[], overrideStage?: string): string {
  const links = services
    .slice(0, 1 + (i % 3))
    .map((s, k) => (s.startsWith('files') ? `    - service: ${s}\n      path: /data/${k}\n` : `    - service: ${s}\n`))
    .join('');
  return `apiVersion: setopsd/v1
kind: App
metadata:
  name: ${name}
  project: ${project}
${stage ? `  stage: ${stage}\n` : ''}spec:
  image: registry.example/${project}/${name}:1.${i}.0
  command: [node, server.js, --worker=${i % 4}]
  port: ${3000 + (i % 1000)}
  public: ${i % 5 === 0}
  scale: ${1 + (i % 3)}
  resources:
    cpu: ${128 * (1 + (i % 4))}
    memory: ${256 * (1 + (i % 4))}
  healthCheck:
    path: /healthz
    interval: 15
  env:
    LOG_LEVEL: info
    FEATURE_${i % 7}: "on"
    API_TOKEN: { secret: ${project}-token }
${i % 5 === 0 ? `  domains:\n    - ${name}.${stage ?? 'all'}.${project}.example.com\n` : ''}  links:
${links}${overrideStage ? `  stages:\n    ${overrideStage}:\n      scale: 3\n      resources:\n        memory: 2048\n` : ''}`;
}

/** The files of a generated repository (sorted by path). */
export function generateRepo(opts: Partial<GenOptions> = {}): GeneratedRepo {
  const o = { ...DEFAULT_GEN, ...opts };
  const files: { path: string; text: string }[] = [];
  files.push({
    path: 'organization.yaml',
    text: `apiVersion: setopsd/v1\nkind: Organization\nmetadata:\n  name: ${o.organization}\nspec:\n  provider: local\n`,
  });
  let apps = 0;
  let appInstances = 0;
  for (let p = 0; p < o.projects; p++) {
    const project = `proj-${String(p).padStart(3, '0')}`;
    const stages = Array.from({ length: o.stagesPerProject }, (_, i) => stageName(i, o.stagesPerProject));
    const services = Array.from({ length: o.servicesPerProject }, (_, i) => {
      const type = SERVICE_TYPES[i % SERVICE_TYPES.length]!;
      return { name: type === 'volume' ? `files-${i}` : `svc-${type.slice(0, 5)}-${i}`, type };
    });
    const docs: string[] = [`apiVersion: setopsd/v1\nkind: Project\nmetadata:\n  name: ${project}\nspec:\n  description: Generated project ${p}\n`];
    stages.forEach((s, i) => {
      const after = s === 'production' ? '  after: staging\n  approval: manual\n  protected: true\n' : '';
      docs.push(
        `apiVersion: setopsd/v1\nkind: Stage\nmetadata:\n  name: ${s}\n  project: ${project}\nspec:\n${after}  notifications:\n    - email: ops+${i}@acme.example\n    - webhook: https://hooks.acme.example/${project}/${s}\n`,
      );
    });
    for (const svc of services) {
      docs.push(
        `apiVersion: setopsd/v1\nkind: Service\nmetadata:\n  name: ${svc.name}\n  project: ${project}\nspec:\n  type: ${svc.type}\n${svc.type === 'postgresql' ? '  version: "16"\n  stages:\n    production:\n      plan: db.r6g.large.ha\n' : ''}`,
      );
    }
    const names = services.map((s) => s.name);
    for (let a = 0; a < o.sharedAppsPerProject; a++) {
      docs.push(app(`shared-${String(a).padStart(3, '0')}`, project, undefined, a, names, stages.includes('production') ? 'production' : undefined));
      apps++;
      appInstances += stages.length;
    }
    files.push({ path: `projects/${project}/project.yaml`, text: docs.join('---\n') });
    stages.forEach((s) => {
      const pinned: string[] = [];
      for (let a = 0; a < o.pinnedAppsPerStage; a++) {
        pinned.push(app(`app-${String(a).padStart(4, '0')}`, project, s, a + p, names));
        apps++;
        appInstances++;
      }
      if (pinned.length) files.push({ path: `projects/${project}/stages/${s}.yaml`, text: pinned.join('---\n') });
    });
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    files,
    counts: {
      organizations: 1,
      projects: o.projects,
      stages: o.projects * o.stagesPerProject,
      apps,
      services: o.projects * o.servicesPerProject,
      appInstances,
    },
  };
}

/** Writes a generated repository under `dir` (for benches that read from disk or git). */
export function writeRepo(dir: string, repo: GeneratedRepo): void {
  for (const f of repo.files) {
    const abs = join(dir, ...f.path.split('/'));
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, f.text);
  }
}

/**
 * The repository a benchmark runs on, from its command line (`--runs`, `--projects`, `--stages`
 * per project, `--pinned` apps per stage, `--shared` project-wide apps): the validate and plan
 * benchmarks measure the same repository.
 */
export function benchRepoFromArgs(args: string[] = process.argv.slice(2)): { runs: number; repo: GeneratedRepo } {
  const { values } = parseArgs({
    args,
    options: {
      runs: { type: 'string', default: '5' },
      projects: { type: 'string', default: '20' },
      stages: { type: 'string', default: '10' },
      pinned: { type: 'string', default: '49' },
      shared: { type: 'string', default: '10' },
    },
  });
  const repo = generateRepo({
    projects: Number(values.projects),
    stagesPerProject: Number(values.stages),
    pinnedAppsPerStage: Number(values.pinned),
    sharedAppsPerProject: Number(values.shared),
  });
  return { runs: Number(values.runs), repo };
}

/**
 * Actual models for the plan benchmarks: the desired ones with every 100th app instance changed
 * (scale, image, or an env value), by stage key.
 */
export function driftedActual(desired: DesiredState): { models: Map<string, StageModel>; changed: number; instances: number } {
  const models = new Map<string, StageModel>();
  let n = 0;
  let changed = 0;
  for (const stage of desired.stages) {
    const copy = JSON.parse(JSON.stringify(stage)) as StageModel;
    for (const name of Object.keys(copy.apps).sort()) {
      if (n++ % 100 !== 0) continue;
      const app = copy.apps[name]!;
      if (changed % 3 === 0) app.scale = app.scale === 16 ? 15 : app.scale + 1;
      else if (changed % 3 === 1) app.image = `${app.image ?? 'img'}-old`;
      else app.env = { ...app.env, LOG_LEVEL: 'debug' };
      changed++;
    }
    models.set(stageKey(refOf(copy)), copy);
  }
  return { models, changed, instances: n };
}
