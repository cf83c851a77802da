import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { AppModel } from '../../../model/stage-model.js';
import { accessLogBucket } from './access-logs.js';
import type { ProgramContext } from './context.js';
import { certificate, zoneId, type ZoneLookups } from './certificates.js';
import { chunks, clamp, orderedDomains, rulePriorities, WILDCARD_BLOCKS } from './domains.js';
import type { Ingress, PublicTarget } from './ingress.js';
import type { Network } from './network.js';

const TLS_POLICY = 'ELBSecurityPolicy-TLS13-1-2-2021-06';
const NOT_FOUND = { type: 'fixed-response', fixedResponse: { contentType: 'text/plain', statusCode: '404', messageBody: 'no app for this host' } };
const TO_HTTPS = { type: 'redirect', redirect: { protocol: 'HTTPS', port: '443', statusCode: 'HTTP_301' } };

/**
 * Public http apps → one application load balancer in the public subnets: a target group per app
 * (type ip, the app's health check path and healthy status; interval 5–300 s, timeout below the
 * interval, unhealthy threshold = retries within 2–10), an HTTPS listener (TLS 1.2+) whose
 * host-based rules forward the primary domain to the app and redirect the other domains to the
 * primary, and an HTTP listener that redirects to HTTPS (its default action too, unless an app
 * without domains answers there). On protected stages the load balancer has deletion protection
 * and writes access logs to an encrypted bucket kept `ACCESS_LOG_DAYS` (access-logs.ts). Every app with domains gets one ACM
 * certificate (primary domain + the others as alternative names) validated by DNS in Route 53
 * and alias A records to the load balancer (hosted zone lookup: `domains.ts`). Public apps
 * without domains cannot get a certificate: they answer over HTTP on host names `<app>.*`
 * pointed at the load balancer, and the first of them (by name) is also the HTTP listener's
 * default action, reached at the load balancer's own DNS name.
 *
 * Sets `ingress.alb` and a target per app in `ingress.targets`.
 */
export function buildAlb(ctx: ProgramContext, network: Network, httpApps: string[], ingress: Ingress): void {
  const sg = new aws.ec2.SecurityGroup(
    'alb-sg',
    {
      vpcId: network.vpcId,
      description: `Load balancer of ${ctx.names.key}: HTTP and HTTPS from anywhere`,
      ingress: [80, 443].map((port) => ({ protocol: 'tcp', fromPort: port, toPort: port, cidrBlocks: ['0.0.0.0/0'], ipv6CidrBlocks: ['::/0'] })),
      egress: [{ protocol: 'tcp', fromPort: 0, toPort: 65535, cidrBlocks: [network.cidrBlock] }],
    },
    ctx.res(),
  );
  const logs = ctx.protectedStage ? accessLogBucket(ctx) : undefined;
  const alb = new aws.lb.LoadBalancer(
    'alb',
    {
      name: ctx.names.alb,
      loadBalancerType: 'application',
      internal: false,
      securityGroups: [sg.id],
      subnets: network.publicSubnetIds,
      dropInvalidHeaderFields: true,
      idleTimeout: 60,
      enableDeletionProtection: ctx.protectedStage,
      ...(logs ? { accessLogs: { bucket: logs.bucket, enabled: true } } : {}),
    },
    ctx.res(logs ? { dependsOn: logs.ready } : {}),
  );
  ingress.alb = alb;

  const groups: Record<string, aws.lb.TargetGroup> = {};
  for (const a of httpApps) groups[a] = httpTargetGroup(ctx, network, a, ctx.model.apps[a]!);

  const withDomains = httpApps.filter((a) => orderedDomains(ctx.model.apps[a]!).length > 0);
  const withoutDomains = httpApps.filter((a) => !withDomains.includes(a));
  // Wildcard host rules (`<app>.*`) come after every exact domain rule: `shop.*` must not catch
  // plain-HTTP requests for another app's `shop.example.com`.
  const priorities = { ...rulePriorities(withDomains), ...rulePriorities(withoutDomains, WILDCARD_BLOCKS) };
  const defaultApp = withoutDomains[0];
  for (const a of withoutDomains.slice(1)) {
    pulumi.log.warn(
      `app/${a} in ${ctx.names.key}: public without domains; only app/${defaultApp} answers at the load balancer's DNS name, ` +
        `app/${a} only at host names ${a}.* pointed at it (HTTP); add domains for HTTPS`,
    );
  }

  const http = new aws.lb.Listener(
    'alb-http',
    {
      loadBalancerArn: alb.arn,
      port: 80,
      protocol: 'HTTP',
      // HTTP answers only for an app without domains (no certificate); everything else goes to HTTPS.
      defaultActions: [defaultApp ? { type: 'forward', targetGroupArn: groups[defaultApp]!.arn } : withDomains.length > 0 ? TO_HTTPS : NOT_FOUND],
    },
    ctx.res(),
  );

  const zones: ZoneLookups = new Map();
  const certificates = withDomains.map((a) => ({ app: a, arn: certificate(ctx, zones, a, ctx.model.apps[a]!) }));
  let https: aws.lb.Listener | undefined;
  if (certificates.length > 0) {
    https = new aws.lb.Listener(
      'alb-https',
      {
        loadBalancerArn: alb.arn,
        port: 443,
        protocol: 'HTTPS',
        sslPolicy: TLS_POLICY,
        certificateArn: certificates[0]!.arn,
        defaultActions: [NOT_FOUND],
      },
      ctx.res(),
    );
    for (const { app, arn } of certificates.slice(1)) {
      new aws.lb.ListenerCertificate(`app-${app}-listener-cert`, { listenerArn: https.arn, certificateArn: arn }, ctx.res());
    }
  }

  for (const a of httpApps) {
    const target: PublicTarget = { targetGroup: groups[a]!, sourceSecurityGroup: sg, dependsOn: [http] };
    ingress.targets[a] = target;
    if (a === defaultApp) target.url = pulumi.interpolate`http://${alb.dnsName}`;
  }
  // Apps without domains: plain HTTP on any host name `<app>.*` (a CNAME to the load balancer).
  // This rule is also what attaches their target group to the load balancer, which ECS requires.
  withoutDomains.forEach((a) => {
    const rule = new aws.lb.ListenerRule(
      `app-${a}-http-host`,
      {
        listenerArn: http.arn,
        priority: priorities[a]!,
        conditions: [{ hostHeader: { values: [`${a}.*`] } }],
        actions: [{ type: 'forward', targetGroupArn: groups[a]!.arn }],
      },
      ctx.res(),
    );
    ingress.targets[a]!.dependsOn.push(rule);
  });
  withDomains.forEach((a) => {
    const domains = orderedDomains(ctx.model.apps[a]!);
    const [primary, ...others] = domains as [string, ...string[]];
    const target = ingress.targets[a]!;
    const cert = certificates.find((c) => c.app === a)!;
    target.certificateArn = cert.arn;
    target.url = pulumi.output(`https://${primary}`);
    let priority = priorities[a]!;
    const forward = new aws.lb.ListenerRule(
      `app-${a}-https-forward`,
      {
        listenerArn: https!.arn,
        priority: priority++,
        conditions: [{ hostHeader: { values: [primary] } }],
        actions: [{ type: 'forward', targetGroupArn: target.targetGroup.arn }],
      },
      ctx.res(),
    );
    target.dependsOn.push(https!, forward);
    chunks(others, 5).forEach((hosts, k) => {
      new aws.lb.ListenerRule(
        `app-${a}-https-redirect-${k + 1}`,
        {
          listenerArn: https!.arn,
          priority: priority++,
          conditions: [{ hostHeader: { values: hosts } }],
          actions: [{ type: 'redirect', redirect: { host: primary, protocol: 'HTTPS', port: '443', statusCode: 'HTTP_301' } }],
        },
        ctx.res(),
      );
    });
    // Plain HTTP on any of the app's names moves to HTTPS on the primary name.
    chunks(domains, 5).forEach((hosts, k) => {
      new aws.lb.ListenerRule(
        `app-${a}-http-redirect-${k + 1}`,
        {
          listenerArn: http.arn,
          priority: priorities[a]! + k,
          conditions: [{ hostHeader: { values: hosts } }],
          actions: [{ type: 'redirect', redirect: { host: primary, protocol: 'HTTPS', port: '443', statusCode: 'HTTP_301' } }],
        },
        ctx.res(),
      );
    });
    for (const domain of domains) {
      // Named by domain only: moving a domain to another app keeps the same record (same ALB).
      new aws.route53.Record(
        `domain-${domain}-alias`,
        {
          zoneId: zoneId(ctx, zones, domain),
          name: domain,
          type: 'A',
          aliases: [{ name: alb.dnsName, zoneId: alb.zoneId, evaluateTargetHealth: true }],
        },
        ctx.res(),
      );
    }
  });
}

function httpTargetGroup(ctx: ProgramContext, network: Network, name: string, app: AppModel): aws.lb.TargetGroup {
  const hc = app.healthCheck;
  const interval = clamp(hc.interval, 5, 300);
  return new aws.lb.TargetGroup(
    `app-${name}-tg`,
    {
      name: ctx.names.targetGroup(name, ['HTTP', String(app.port), ctx.model.organization.aws?.vpcId ?? 'vpc']),
      port: app.port,
      protocol: 'HTTP',
      targetType: 'ip',
      vpcId: network.vpcId,
      deregistrationDelay: 30,
      healthCheck: {
        enabled: true,
        path: hc.path,
        matcher: hc.status,
        protocol: 'HTTP',
        interval,
        timeout: clamp(Math.min(hc.timeout, interval - 1), 2, 120),
        healthyThreshold: 2,
        unhealthyThreshold: clamp(hc.retries, 2, 10),
      },
    },
    ctx.res(),
  );
}
