import { createHash } from 'node:crypto';
import type { StageModel } from '../../../model/stage-model.js';
import { loadBalancerReadable } from './aws-names.js';

/**
 * Deterministic AWS names for a stage's resources.
 *
 * Pulumi logical names (the second argument of every resource) are short and unique within the
 * stage's stack (`app-web-service`, `svc-database-db`); one stack holds exactly one stage.
 * Physical names are left to Pulumi's auto-naming (logical name + random suffix, stable once
 * created) except where AWS limits or replacement semantics need care:
 * - OpenSearch domains (at most 28 characters, more than Pulumi's auto-names leave room for):
 *   `<service>-<hash8>`;
 * - load balancers and target groups: at most 32 characters, `<readable>-<hash8>`; a target
 *   group's hash covers every field that forces its replacement (port, protocol, VPC), so a
 *   replacement gets a new name and create-before-delete works;
 * - names people and the engine look up: the ECS cluster `<org>-<project>-<stage>`, ECS services
 *   named like their app, log groups `/setops/<org>/<project>/<stage>/<app>`, task definition
 *   families `<org>-<project>-<stage>-<app>` (`…-predeploy` for the one-off pre-deploy task;
 *   families are account-wide, hence the prefix), the Cloud Map namespace
 *   `<stage>.<project>.internal`, and SSM parameters `/setops/<org>/<project>/<stage>/<NAME>`;
 * - the Step Functions state machine of a schedule with a timeout (at most 80 characters) and the
 *   role EventBridge Scheduler starts it with (IAM role names: at most 64, account-wide):
 *   `<readable>-<hash8>` over the stage key, app and schedule, because app (16) and schedule (40)
 *   names together leave Pulumi's auto-names no room;
 * - EventBridge Scheduler schedules (at most 64 characters) and the role and inline policy of an
 *   app's schedules without timeout (IAM: 64 and 128), only where Pulumi's auto-name would exceed
 *   the limit (`nameWhereAutoNameTooLong`): `<readable>-<hash8>` over the stage key, app (and
 *   schedule). Schedule and role names are account-wide, hence the stage key in the hash. Resources
 *   whose auto-name fits keep it, so no schedule created before is replaced. Such a name never
 *   equals an auto-name: it ends in 8 hex digits after the last `-`, an auto-name in 7.
 */

/** First `n` hex characters of the sha256 of the parts joined with `/`. */
export function shortHash(parts: readonly string[], n = 8): string {
  return createHash('sha256').update(parts.join('/')).digest('hex').slice(0, n);
}

/** `text` cut to `max` characters without a trailing hyphen. */
export function truncate(text: string, max: number): string {
  return text.slice(0, max).replace(/-+$/, '');
}

/** `<readable>-<hash8>` within `max` characters (the readable part is truncated). */
export function hashedName(readable: string, hashParts: readonly string[], max: number): string {
  const hash = shortHash(hashParts);
  return `${truncate(readable, max - hash.length - 1)}-${hash}`;
}

/** The names every part of the program derives from one stage. */
export interface StageNames {
  org: string;
  project: string;
  stage: string;
  /** `org/project/stage`: the input of every hash. */
  key: string;
  /** `org-project-stage`: prefix of families, cluster and other long-limit names. */
  prefix: string;
  /** The ECS cluster name. */
  cluster: string;
  /** The application load balancer's name (≤ 32). */
  alb: string;
  /** The network load balancer's name (≤ 32), for public tcp apps. */
  nlb: string;
  /** The private DNS namespace apps reach each other in: `<stage>.<project>.internal`. */
  privateZone: string;
  /** Log group of an app. */
  logGroup(app: string): string;
  /** Task definition family of an app (`preDeploy` true: its one-off pre-deploy task). */
  family(app: string, preDeploy?: boolean): string;
  /** Target group name of an app (≤ 32), changing with every field that forces replacement. */
  targetGroup(app: string, replaceKey: readonly string[]): string;
  /** SSM Parameter Store name of a `{secret: NAME}` value. */
  secretParameter(name: string): string;
  /** OpenSearch domain name of a service: 3–28 characters, lowercase, starting with a letter. */
  searchDomain(service: string): string;
  /** Step Functions state machine of a schedule with a timeout (≤ 80). */
  scheduleStateMachine(app: string, schedule: string): string;
  /** IAM role EventBridge Scheduler starts that state machine with (≤ 64). */
  scheduleStarterRole(app: string, schedule: string): string;
  /** EventBridge Scheduler schedule of an app's schedule (≤ 64), where its auto-name does not fit. */
  schedule(app: string, schedule: string): string;
  /** IAM role EventBridge Scheduler runs an app's schedules without timeout with (≤ 64), where its auto-name does not fit. */
  schedulerRole(app: string): string;
  /** Inline policy of that role (≤ 128), where its auto-name does not fit. */
  schedulerPolicy(app: string): string;
}

/** Builds the stage's names; `parameterPrefix` defaults to `/setops`. */
export function stageNames(model: StageModel, parameterPrefix = '/setops'): StageNames {
  const org = model.organization.name;
  const project = model.project.name;
  const stage = model.stage.name;
  const key = `${org}/${project}/${stage}`;
  const prefix = `${org}-${project}-${stage}`;
  const base = `${project}-${stage}`;
  const paramRoot = parameterPrefix.replace(/\/+$/, '');
  return {
    org,
    project,
    stage,
    key,
    prefix,
    cluster: prefix,
    alb: hashedName(loadBalancerReadable(base), [key, 'alb'], 32),
    nlb: hashedName(loadBalancerReadable(`${base}-n`), [key, 'nlb'], 32),
    privateZone: `${stage}.${project}.internal`,
    logGroup: (app) => `/setops/${org}/${project}/${stage}/${app}`,
    family: (app, preDeploy = false) => `${prefix}-${app}${preDeploy ? '-predeploy' : ''}`,
    targetGroup: (app, replaceKey) => hashedName(app, [key, app, ...replaceKey], 32),
    secretParameter: (name) => `${paramRoot}/${org}/${project}/${stage}/${name}`,
    searchDomain: (service) => hashedName(service, [key, service, 'search'], 28),
    scheduleStateMachine: (app, schedule) => hashedName(`${prefix}-${app}-${schedule}`, [key, app, schedule, 'state-machine'], 80),
    scheduleStarterRole: (app, schedule) => hashedName(`${app}-${schedule}-scheduler`, [key, app, schedule, 'scheduler-role'], 64),
    schedule: (app, schedule) => hashedName(`${app}-${schedule}`, [key, app, schedule, 'schedule'], 64),
    schedulerRole: (app) => hashedName(`${app}-scheduler`, [key, app, 'scheduler-role'], 64),
    schedulerPolicy: (app) => hashedName(`${app}-scheduler`, [key, app, 'scheduler-policy'], 128),
  };
}
