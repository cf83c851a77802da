import * as pulumi from '@pulumi/pulumi';
import type { AppModel } from '../../../model/stage-model.js';
import { isSecretRef } from '../../../model/stage-model.js';
import type { ProgramContext } from './context.js';
import { clamp } from './domains.js';
import type { LinkGrant } from './links.js';
import { secretParameterNamesOf, secretParameters } from './secret-parameters.js';

/** Exec form as is; shell form (a string) runs under `/bin/sh -c`, like a Dockerfile's shell form. */
export function execForm(command: string | string[]): string[] {
  return typeof command === 'string' ? ['/bin/sh', '-c', command] : [...command];
}

/** The container health check: exec form → `CMD`, shell form → `CMD-SHELL`, within ECS limits. */
export function containerHealthCheck(app: AppModel): Record<string, unknown> | undefined {
  const hc = app.healthCheck;
  if (hc.command === undefined) return undefined;
  return {
    command: typeof hc.command === 'string' ? ['CMD-SHELL', hc.command] : ['CMD', ...hc.command],
    interval: clamp(hc.interval, 5, 300),
    timeout: clamp(hc.timeout, 2, 60),
    retries: clamp(hc.retries, 1, 10),
    startPeriod: clamp(hc.startPeriod, 0, 300),
  };
}

/**
 * The plain environment and the ECS secrets of an app's container, each sorted by name.
 * Plain values: the platform's `APP_ENV_ID`, `PORT`, `PROTOCOL`, the manifest's plain env and
 * the links' connection settings. `{secret: NAME}` values are never resolved here: ECS reads
 * them at task start from SSM Parameter Store `/<prefix>/<org>/<project>/<stage>/<NAME>`
 * (a SecureString the operator creates), and link passwords from Secrets Manager.
 */
export function containerVariables(
  ctx: ProgramContext,
  appName: string,
  app: AppModel,
  links: LinkGrant,
): { environment: pulumi.Output<{ name: string; value: string }[]>; secrets: pulumi.Output<{ name: string; valueFrom: string }[]> } {
  const env: Record<string, pulumi.Input<string>> = {
    APP_ENV_ID: `${ctx.names.key}/${appName}`,
    PORT: String(app.port),
    PROTOCOL: app.protocol,
    ...links.environment,
  };
  const secrets: Record<string, pulumi.Input<string>> = { ...links.secrets };
  for (const [key, value] of Object.entries(app.env)) {
    if (isSecretRef(value)) {
      secrets[key] = pulumi.interpolate`arn:aws:ssm:${ctx.region}:${ctx.accountId}:parameter${ctx.names.secretParameter(value.secret)}`;
    } else {
      env[key] = value;
    }
  }
  const sorted = <T>(rec: Record<string, T>): [string, T][] => Object.keys(rec).sort().map((k) => [k, rec[k]!]);
  return {
    environment: pulumi.all(sorted(env).map(([name, value]) => pulumi.output(value).apply((v) => ({ name, value: v })))),
    secrets: pulumi.all(sorted(secrets).map(([name, valueFrom]) => pulumi.output(valueFrom).apply((v) => ({ name, valueFrom: v })))),
  };
}

/** The SSM parameter names the app's `{secret}` values are read from (sorted, unique). */
export function secretParameterNames(ctx: ProgramContext): string[] {
  return secretParameterNamesOf(secretParameters(ctx.model, ctx.names));
}
