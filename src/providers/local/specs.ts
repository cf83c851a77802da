import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { EngineError, SetopsError } from '../../errors.js';
import { isSecretRef, refOf, stageKey, type AppModel, type ServiceType, type StageModel } from '../../model/stage-model.js';
import type { SecretResolver } from '../engine.js';
import { appHosts, processArgv, toArgv } from './command.js';
import { linkProblems } from './links.js';
import type { AppSpec } from './protocol.js';
import { LOCAL_SERVICE_TYPES } from './services.js';
import { installedPostgres, missingPostgres, requestedMajor, type PostgresBuild } from './postgres-versions.js';

/**
 * Everything the local engine checks before it changes anything: services it can run, links it
 * can satisfy, apps it can start, and every `{secret: NAME}` resolvable. Returns the resolved
 * app specs; throws one EngineError listing every problem (never a secret value).
 */
export async function buildAppSpecs(desired: StageModel, secrets: SecretResolver, configRoot: string): Promise<Record<string, AppSpec>> {
  const ref = refOf(desired);
  const label = stageKey(ref);
  const problems: string[] = [];
  const types: Record<string, ServiceType> = {};
  for (const name of Object.keys(desired.services).sort()) {
    const type = desired.services[name]!.type;
    types[name] = type;
    if (!LOCAL_SERVICE_TYPES.includes(type)) problems.push(`service/${name} in ${label}: the local engine cannot run ${type} services; remove it from this stage or use provider aws`);
  }
  problems.push(...postgresProblems(desired, label, await installedPostgres()));
  const specs: Record<string, AppSpec> = {};
  for (const name of Object.keys(desired.apps).sort()) {
    const app = desired.apps[name]!;
    const subject = `app/${name} in ${label}`;
    for (const p of linkProblems(app.links, types)) problems.push(`${subject}: ${p}`);
    const argv = processArgv(app);
    if (argv === null && app.scale > 0) {
      problems.push(`${subject}: no command to run; the local engine starts processes, not images: set spec.command (e.g. [node, server.js])`);
    }
    const env: Record<string, string> = {};
    for (const key of Object.keys(app.env).sort()) {
      const v = app.env[key]!;
      if (isSecretRef(v)) {
        try {
          env[key] = await secrets.get(v.secret);
        } catch (err) {
          const why = err instanceof SetopsError ? err.message : `secret ${v.secret} cannot be read`;
          problems.push(`${subject}: env ${key}: ${why}`);
        }
      } else {
        env[key] = v;
      }
    }
    const cwd = resolve(configRoot, app.workdir ?? '.');
    if (app.scale > 0 && !(await isDirectory(cwd))) {
      problems.push(`${subject}: workdir ${app.workdir ?? '.'} is not a directory (${cwd}); workdir is relative to the config directory ${configRoot}`);
    }
    specs[name] = toSpec(name, app, argv ?? [], env, cwd, appHosts(ref, name, app));
  }
  if (problems.length > 0) {
    throw new EngineError(problems.length === 1 ? problems[0]! : `stage ${label} cannot be applied on the local engine:\n  ${problems.join('\n  ')}`, {
      code: 'E_LOCAL_INVALID',
      data: { problems },
    });
  }
  return specs;
}

/** PostgreSQL versions that cannot run: a major not installed, or two majors in one stage (one server per stage). */
function postgresProblems(desired: StageModel, label: string, builds: readonly PostgresBuild[]): string[] {
  const problems: string[] = [];
  const majors = new Map<number, string[]>();
  for (const name of Object.keys(desired.services).sort()) {
    const svc = desired.services[name]!;
    if (svc.type !== 'postgresql') continue;
    const missing = missingPostgres(`service/${name} in ${label}`, svc.version, builds);
    if (missing !== null) problems.push(missing);
    const major = requestedMajor(svc.version, builds);
    majors.set(major, [...(majors.get(major) ?? []), name]);
  }
  if (majors.size > 1) {
    const wants = [...majors].map(([m, names]) => `${names.map((n) => `service/${n}`).join(', ')} ${m}`).join('; ');
    problems.push(`stage ${label}: the local engine runs one PostgreSQL server per stage, but its services ask for different majors (${wants}); use one version`);
  }
  return problems;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

function toSpec(name: string, app: AppModel, argv: string[], env: Record<string, string>, cwd: string, hosts: string[]): AppSpec {
  const spec: AppSpec = {
    name,
    argv,
    cwd,
    env,
    links: app.links,
    protocol: app.protocol,
    public: app.public,
    scale: app.scale,
    hosts,
    healthCheck: app.healthCheck,
  };
  if (app.preDeploy !== undefined) spec.preDeploy = toArgv(app.preDeploy.command);
  return spec;
}
