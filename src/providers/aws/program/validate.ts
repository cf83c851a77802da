import { EngineError } from '../../../errors.js';
import { eventBridgeCron } from './eventbridge-cron.js';
import type { StageModel } from '../../../model/stage-model.js';
import { MAX_DOMAINS_PER_APP } from './domains.js';
import { isPrimaryPostgresLink, linkKeys, PLATFORM_KEYS } from './link-keys.js';

/** Fargate task sizes: cpu units → allowed memory (MiB), smallest first. */
const FARGATE_SIZES: readonly { cpu: number; memory: number[] }[] = [
  { cpu: 256, memory: [512, 1024, 2048] },
  { cpu: 512, memory: range(1024, 4096, 1024) },
  { cpu: 1024, memory: range(2048, 8192, 1024) },
  { cpu: 2048, memory: range(4096, 16384, 1024) },
  { cpu: 4096, memory: range(8192, 30720, 1024) },
  { cpu: 8192, memory: range(16384, 61440, 4096) },
  { cpu: 16384, memory: range(32768, 122880, 8192) },
];

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

/**
 * The smallest Fargate task size that holds an app's `resources` (SetOps allows any multiple of
 * 128 cpu units; Fargate only fixed pairs). The container keeps the exact values as its limits.
 * `null` when nothing is large enough.
 */
export function fargateTaskSize(cpu: number, memory: number): { cpu: number; memory: number } | null {
  for (const size of FARGATE_SIZES) {
    if (size.cpu < cpu) continue;
    const mem = size.memory.find((m) => m >= memory);
    if (mem !== undefined) return { cpu: size.cpu, memory: mem };
  }
  return null;
}

/**
 * Everything in a StageModel the AWS program cannot build, as messages that start with their
 * subject and say what to do. Pure; checked before any resource is declared, so a bad model
 * never leaves a half-built stage.
 */
export function programProblems(model: StageModel): string[] {
  const where = `${model.organization.name}/${model.project.name}/${model.stage.name}`;
  const problems: string[] = [];
  if (model.organization.provider !== 'aws' || !model.organization.aws?.region) {
    problems.push(`organization/${model.organization.name}: the AWS program needs provider: aws and aws.region; set spec.aws.region`);
  }
  const tcpPorts = new Map<number, string>();
  for (const appName of Object.keys(model.apps).sort()) {
    const app = model.apps[appName]!;
    if (!app.public || app.protocol !== 'tcp') continue;
    const other = tcpPorts.get(app.port);
    if (other !== undefined) {
      problems.push(`app/${appName} in ${where}: public tcp port ${app.port} is already used by app/${other} on the stage's network load balancer; choose another port`);
    } else tcpPorts.set(app.port, appName);
  }
  for (const appName of Object.keys(model.apps).sort()) {
    const app = model.apps[appName]!;
    const subject = `app/${appName} in ${where}`;
    if (!app.image) problems.push(`${subject}: image is required on AWS (ECS runs container images); set spec.image`);
    for (const [name, sch] of Object.entries(app.schedules ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (eventBridgeCron(sch.cron) === null) {
        problems.push(`${subject}: schedule ${name} "${sch.cron}" sets both day-of-month and day-of-week, which EventBridge Scheduler cannot express; use * in one of them`);
      }
    }
    const domainCount = Object.keys(app.domains).length;
    if (domainCount > MAX_DOMAINS_PER_APP) {
      problems.push(`${subject}: ${domainCount} domains; at most ${MAX_DOMAINS_PER_APP} fit one app's certificate and listener rules; split them across apps`);
    }
    if (!fargateTaskSize(app.resources.cpu, app.resources.memory)) {
      problems.push(`${subject}: resources cpu ${app.resources.cpu} / memory ${app.resources.memory} exceed the largest Fargate task (16384 / 122880); lower them`);
    }
    const owners = new Map<string, string>();
    const claim = (key: string, owner: string): void => {
      const before = owners.get(key);
      if (before === undefined) {
        owners.set(key, owner);
      } else if (before === 'the platform') {
        problems.push(`${subject}: env var ${key} is set by the platform and by ${owner}; ${owner === 'spec.env' ? 'remove it from spec.env' : 'give the link another envKey'}`);
      } else if (before === 'spec.env') {
        problems.push(`${subject}: env var ${key} is set by both spec.env and ${owner}; rename it in spec.env or give the link another envKey`);
      } else {
        problems.push(`${subject}: env var ${key} is set by both ${before} and ${owner}; give one of the links another envKey`);
      }
    };
    for (const key of PLATFORM_KEYS) claim(key, 'the platform');
    for (const key of Object.keys(app.env).sort()) claim(key, 'spec.env');
    for (const service of Object.keys(app.links).sort()) {
      const svc = model.services[service];
      if (!svc) {
        problems.push(`${subject}: links service ${service}, which does not exist in this stage; remove the link or add the service`);
        continue;
      }
      const keys = linkKeys(svc.type, app.links[service]!, isPrimaryPostgresLink(model, app, service));
      for (const key of [...keys.env, ...keys.secrets]) claim(key, `link/${appName}/${service}`);
    }
  }
  return problems;
}

/** Throws one terminal EngineError listing every problem, if there are any. */
export function assertBuildable(model: StageModel): void {
  const problems = programProblems(model);
  if (problems.length === 0) return;
  throw new EngineError(
    problems.length === 1 ? problems[0]! : `the AWS program cannot build this stage:\n  ${problems.join('\n  ')}`,
    { code: 'E_AWS_PROGRAM', data: { problems } },
  );
}
