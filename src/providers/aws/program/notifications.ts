import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { Ingress } from './ingress.js';
import type { BuiltApp } from './app.js';
import type { Cluster } from './cluster.js';
import type { ProgramContext } from './context.js';
import type { BuiltService } from './services/index.js';

/** An alarm's metric and condition. */
interface AlarmSpec {
  name: string;
  description: string;
  namespace: string;
  metricName: string;
  dimensions: Record<string, pulumi.Input<string>>;
  statistic: 'Average' | 'Maximum' | 'Minimum' | 'Sum';
  comparisonOperator: 'GreaterThanThreshold' | 'LessThanThreshold';
  threshold: number;
  period?: number;
  evaluationPeriods?: number;
  treatMissingData?: 'breaching' | 'notBreaching' | 'missing';
}

/**
 * Stage notifications → an SNS topic with one subscription per notification (email → `email`,
 * webhook → `https`/`http`; both must be confirmed by their owner, as SNS requires), and
 * CloudWatch alarms that publish to it (alarm and recovery):
 * - every app: running tasks below its scale for 3 minutes (ECS service health),
 *   CPU or memory above 90% for 5 minutes;
 * - running public http apps: target 5xx responses (more than 10 in 5 minutes) and unhealthy
 *   targets; the load balancer's own 5xx; every app's certificate expiring within 30 days;
 * - postgresql: free storage below 2 GiB.
 * Without notifications no topic and no alarm are created. Returns the topic's ARN.
 */
export function buildNotifications(
  ctx: ProgramContext,
  cluster: Cluster,
  apps: BuiltApp[],
  services: BuiltService[],
  ingress: Ingress,
): pulumi.Output<string> | undefined {
  const notifications = ctx.model.stage.notifications;
  const names = Object.keys(notifications).sort();
  if (names.length === 0) return undefined;
  const topic = new aws.sns.Topic('notifications', { displayName: `setopsd ${ctx.names.key}` }, ctx.res());
  for (const name of names) {
    const n = notifications[name]!;
    new aws.sns.TopicSubscription(
      `notification-${name}`,
      {
        topic: topic.arn,
        protocol: n.type === 'email' ? 'email' : n.target.startsWith('http://') ? 'http' : 'https',
        endpoint: n.target,
      },
      ctx.res(),
    );
  }

  const alarms: AlarmSpec[] = [];
  for (const app of apps) {
    if (app.model.scale === 0) continue;
    const subject = `app/${app.name} in ${ctx.names.key}`;
    const ecs = { ClusterName: cluster.cluster.name, ServiceName: app.service.name };
    alarms.push(
      {
        name: `app-${app.name}-alarm-running`,
        description: `${subject}: fewer running tasks than its scale (${app.model.scale}); check the service events and logs`,
        namespace: 'ECS/ContainerInsights',
        metricName: 'RunningTaskCount',
        dimensions: ecs,
        statistic: 'Minimum',
        comparisonOperator: 'LessThanThreshold',
        threshold: app.model.scale,
        evaluationPeriods: 3,
        treatMissingData: 'breaching',
      },
      {
        name: `app-${app.name}-alarm-cpu`,
        description: `${subject}: CPU above 90%; raise resources.cpu or scale`,
        namespace: 'AWS/ECS',
        metricName: 'CPUUtilization',
        dimensions: ecs,
        statistic: 'Average',
        comparisonOperator: 'GreaterThanThreshold',
        threshold: 90,
        evaluationPeriods: 5,
      },
      {
        name: `app-${app.name}-alarm-memory`,
        description: `${subject}: memory above 90%; raise resources.memory`,
        namespace: 'AWS/ECS',
        metricName: 'MemoryUtilization',
        dimensions: ecs,
        statistic: 'Average',
        comparisonOperator: 'GreaterThanThreshold',
        threshold: 90,
        evaluationPeriods: 5,
      },
    );
    if (app.target && ingress.alb && app.model.protocol === 'http') {
      const lb = { LoadBalancer: ingress.alb.arnSuffix, TargetGroup: app.target.targetGroup.arnSuffix };
      alarms.push(
        {
          name: `app-${app.name}-alarm-5xx`,
          description: `${subject}: more than 10 responses with status 5xx in 5 minutes`,
          namespace: 'AWS/ApplicationELB',
          metricName: 'HTTPCode_Target_5XX_Count',
          dimensions: lb,
          statistic: 'Sum',
          comparisonOperator: 'GreaterThanThreshold',
          threshold: 10,
          period: 300,
          evaluationPeriods: 1,
          treatMissingData: 'notBreaching',
        },
        {
          name: `app-${app.name}-alarm-unhealthy`,
          description: `${subject}: targets fail the load balancer health check (${app.model.healthCheck.path})`,
          namespace: 'AWS/ApplicationELB',
          metricName: 'UnHealthyHostCount',
          dimensions: lb,
          statistic: 'Maximum',
          comparisonOperator: 'GreaterThanThreshold',
          threshold: 0,
          evaluationPeriods: 3,
        },
      );
    }
  }
  for (const app of apps) {
    const subject = `app/${app.name} in ${ctx.names.key}`;
    if (app.target?.certificateArn) {
      alarms.push({
        name: `app-${app.name}-alarm-certificate`,
        description: `${subject}: certificate expires within 30 days; check its DNS validation records`,
        namespace: 'AWS/CertificateManager',
        metricName: 'DaysToExpiry',
        dimensions: { CertificateArn: app.target.certificateArn },
        statistic: 'Minimum',
        comparisonOperator: 'LessThanThreshold',
        threshold: 30,
        period: 86400,
        evaluationPeriods: 1,
      });
    }
  }
  if (ingress.alb) {
    alarms.push({
      name: 'alb-alarm-5xx',
      description: `load balancer of ${ctx.names.key}: more than 10 of its own 5xx responses in 5 minutes`,
      namespace: 'AWS/ApplicationELB',
      metricName: 'HTTPCode_ELB_5XX_Count',
      dimensions: { LoadBalancer: ingress.alb.arnSuffix },
      statistic: 'Sum',
      comparisonOperator: 'GreaterThanThreshold',
      threshold: 10,
      period: 300,
      evaluationPeriods: 1,
      treatMissingData: 'notBreaching',
    });
  }
  for (const svc of services) {
    if (!svc.dbInstanceIdentifier) continue;
    alarms.push({
      name: `svc-${svc.name}-alarm-storage`,
      description: `service/${svc.name} in ${ctx.names.key}: less than 2 GiB free storage; raise options.maxStorage`,
      namespace: 'AWS/RDS',
      metricName: 'FreeStorageSpace',
      dimensions: { DBInstanceIdentifier: svc.dbInstanceIdentifier },
      statistic: 'Minimum',
      comparisonOperator: 'LessThanThreshold',
      threshold: 2 * 1024 ** 3,
      evaluationPeriods: 3,
    });
  }
  for (const a of alarms) {
    new aws.cloudwatch.MetricAlarm(
      a.name,
      {
        alarmDescription: a.description,
        namespace: a.namespace,
        metricName: a.metricName,
        dimensions: a.dimensions,
        statistic: a.statistic,
        comparisonOperator: a.comparisonOperator,
        threshold: a.threshold,
        period: a.period ?? 60,
        evaluationPeriods: a.evaluationPeriods ?? 1,
        treatMissingData: a.treatMissingData ?? 'missing',
        alarmActions: [topic.arn],
        okActions: [topic.arn],
      },
      ctx.res(),
    );
  }
  return topic.arn;
}
