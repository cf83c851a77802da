/**
 * The inline Pulumi program of the AWS engine: one StageModel → the stage's AWS resources.
 *
 * Built from small parts, in dependency order: `network.ts` (VPC), `cluster.ts` (ECS cluster,
 * roles, log groups), `services/*` (one module per service type), `load-balancers.ts` (the
 * stage's `Ingress`, types in `ingress.ts`: `alb.ts` for http apps, + `certificates.ts` for ACM
 * and DNS, `nlb.ts` for tcp apps), `app.ts` (+ `container.ts`, `links.ts`: task definitions and
 * ECS services), `notifications.ts` (SNS and alarms). Names: `names.ts`; what cannot be built:
 * `validate.ts`. See README.md.
 *
 * Secrets: an env value `{secret: NAME}` is read by ECS at task start from the SSM Parameter
 * Store SecureString `/setops/<org>/<project>/<stage>/<NAME>` (the prefix is
 * `ProgramOptions.parameterPrefix`); operators create it, e.g.
 * `aws ssm put-parameter --type SecureString --name /setops/acme/shop/production/STRIPE_KEY --value …`.
 * The task execution role may read `<prefix>/<org>/<project>/<stage>/*` only. Parameters encrypted
 * with the default `aws/ssm` key need nothing more; a customer managed KMS key must allow that
 * role to decrypt. The program never reads a secret value; the names it expects are exported as
 * `secretParameters`, so the engine can check they exist before an update.
 */
import * as pulumi from '@pulumi/pulumi';
import { canonicalJson } from '../../../model/canonical.js';
import { MODEL_OUTPUT } from '../engine/checkpoint.js';
import type { StageModel } from '../../../model/stage-model.js';
import { buildIngress } from './load-balancers.js';
import { buildApp, type BuiltApp } from './app.js';
import { buildCluster, grantSecretReads } from './cluster.js';
import { secretParameterNames } from './container.js';
import { createContext, type ProgramOptions } from './context.js';
import { buildNetwork } from './network.js';
import { buildNotifications } from './notifications.js';
import { buildSchedules } from './schedules.js';
import { stageNames } from './names.js';
import { recordedModel } from './recorded-model.js';
import { buildService, type BuiltService } from './services/index.js';
import { buildSearchAccess } from './search-access.js';
import { assertBuildable } from './validate.js';

export type { ProgramOptions } from './context.js';
export { programProblems } from './validate.js';

/** The outputs of a stage's stack (resolved values), for the engine. Fields may be added, never removed. */
export interface StageProgramOutputs {
  /** Canonical JSON of the applied StageModel. */
  setopsdStageModel: string;
  /** `org/project/stage`. */
  stage: string;
  region: string;
  vpcId: string;
  publicSubnetIds: string[];
  privateSubnetIds: string[];
  /** ECS cluster name. */
  cluster: string;
  loadBalancer?: { dnsName: string; zoneId: string };
  networkLoadBalancer?: { dnsName: string };
  apps: Record<
    string,
    {
      /** ECS service name. */
      service: string;
      /** The task definition this update asked for. */
      taskDefinitionArn: string;
      /** The task definition the service runs after the update. */
      deployedTaskDefinitionArn: string;
      /** The ECS circuit breaker rolled the deployment back: report the deployment as failed. */
      rolledBack: boolean;
      logGroup: string;
      privateDns: string;
      scale: number;
      url?: string;
    }
  >;
  /** By service name: endpoints and the ARN of the secret holding generated credentials; never a password. */
  services: Record<string, Record<string, unknown>>;
  /** App → one-off task definition ARN of its `preDeploy` command. */
  preDeployTaskDefinitions: Record<string, string>;
  /** Network settings to run those tasks (`awsvpc`, Fargate). */
  taskNetwork: { subnets: string[]; securityGroups: Record<string, string[]>; assignPublicIp: false };
  /** SSM parameter names the stage's `{secret}` values are read from. */
  secretParameters: string[];
  notificationTopicArn?: string;
}

/**
 * The inline program for one stage. Throws an `EngineError` (`E_AWS_PROGRAM`, terminal) at
 * once when the model cannot be built on AWS (e.g. an app without an image), so nothing is
 * half-built. The program's outputs: `setopsdStageModel` (canonical JSON of `model`), network
 * and cluster ids, load balancer DNS names, per-app URLs and names (with `rolledBack`: true when
 * the ECS circuit breaker rolled the deployment back to the previous task definition, which
 * the engine must report as a failed deployment), per-service endpoints
 * (never passwords: only the ARNs of the secrets that hold them), `preDeployTaskDefinitions`
 * (app → task definition ARN) with `taskNetwork` to run them, `secretParameters`, and the
 * notification topic — see `StageProgramOutputs`.
 */
export function stageProgram(model: StageModel, opts: ProgramOptions = {}): () => Promise<Record<string, unknown>> {
  assertBuildable(model);
  return async () => {
    const names = stageNames(model, opts.parameterPrefix);
    const ctx = createContext(model, names, opts);
    const network = buildNetwork(ctx);
    const cluster = buildCluster(ctx, network);

    const services: Record<string, BuiltService> = {};
    for (const name of Object.keys(model.services).sort()) {
      services[name] = buildService(ctx, network, name, model.services[name]!);
    }
    const credentialSecrets = Object.values(services).flatMap((s) => ('passwordSecretArn' in s.connection ? [s.connection.passwordSecretArn] : []));
    grantSecretReads(ctx, cluster, credentialSecrets);

    const ingress = buildIngress(ctx, network);
    const apps: BuiltApp[] = Object.keys(model.apps)
      .sort()
      .map((name) => buildApp(ctx, network, cluster, name, model.apps[name]!, services, ingress.targets[name]));
    buildSearchAccess(ctx, services, apps);
    const topicArn = buildNotifications(ctx, cluster, apps, Object.values(services), ingress);
    buildSchedules(ctx, network, cluster, apps);

    const appOutputs: Record<string, unknown> = {};
    const rolledBack: pulumi.Output<[string, boolean]>[] = [];
    const preDeploy: Record<string, pulumi.Output<string>> = {};
    const taskSecurityGroups: Record<string, pulumi.Output<string>[]> = {};
    for (const app of apps) {
      // The ECS circuit breaker rolls a failed deployment back and the service then reports a
      // steady state, so the update "succeeds": the service still runs the previous revision.
      const appRolledBack = pulumi
        .all([app.service.taskDefinition, ctx.pinnedTaskDefinitions[app.name] ?? app.taskDefinition.arn])
        .apply(([deployed, wanted]) => deployed !== undefined && deployed !== wanted);
      rolledBack.push(appRolledBack.apply((b): [string, boolean] => [app.name, b]));
      appOutputs[app.name] = {
        service: app.service.name,
        taskDefinitionArn: app.taskDefinition.arn,
        deployedTaskDefinitionArn: app.service.taskDefinition,
        rolledBack: appRolledBack,
        logGroup: app.logGroup.name,
        privateDns: `${app.name}.${names.privateZone}`,
        scale: app.model.scale,
        ...(app.target?.url ? { url: app.target.url } : {}),
      };
      if (app.preDeployTaskDefinition) preDeploy[app.name] = app.preDeployTaskDefinition.arn;
      taskSecurityGroups[app.name] = [app.securityGroup.id, cluster.memberSecurityGroup.id];
    }
    const serviceOutputs: Record<string, unknown> = {};
    for (const name of Object.keys(services)) serviceOutputs[name] = services[name]!.outputs;

    // Apps that did not move to their new version (pinned, or rolled back) are recorded as they
    // were, so `read` stays truthful and the next plan shows their change again. A preview
    // records the model as is (the rollback flags are unknown before an update).
    const pinned = [...Object.keys(ctx.pinnedTaskDefinitions), ...ctx.heldApps];
    const modelOutput: pulumi.Input<string> = pulumi.runtime.isDryRun()
      ? canonicalJson(model)
      : pulumi.all(rolledBack).apply((flags) =>
          canonicalJson(recordedModel(model, opts.previousModel ?? null, [...pinned, ...flags.filter(([, b]) => b).map(([name]) => name)])),
        );

    return {
      // The applied StageModel (canonical JSON) that the engine's `read` returns.
      [MODEL_OUTPUT]: modelOutput,
      stage: names.key,
      region: ctx.region,
      vpcId: network.vpcId,
      publicSubnetIds: network.publicSubnetIds,
      privateSubnetIds: network.privateSubnetIds,
      cluster: cluster.cluster.name,
      ...(ingress.alb ? { loadBalancer: { dnsName: ingress.alb.dnsName, zoneId: ingress.alb.zoneId } } : {}),
      ...(ingress.nlb ? { networkLoadBalancer: { dnsName: ingress.nlb.dnsName } } : {}),
      apps: appOutputs,
      services: serviceOutputs,
      preDeployTaskDefinitions: preDeploy,
      taskNetwork: { subnets: network.privateSubnetIds, securityGroups: taskSecurityGroups, assignPublicIp: false },
      secretParameters: secretParameterNames(ctx),
      ...(topicArn ? { notificationTopicArn: topicArn } : {}),
    };
  };
}
