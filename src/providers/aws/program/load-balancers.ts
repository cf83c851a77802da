import * as pulumi from '@pulumi/pulumi';
import { buildAlb } from './alb.js';
import type { ProgramContext } from './context.js';
import type { Ingress } from './ingress.js';
import type { Network } from './network.js';
import { buildNlb } from './nlb.js';

/**
 * Load balancing for public apps: http apps → one application load balancer (`alb.ts`), tcp
 * apps → one network load balancer with a TCP listener on each app's port (`nlb.ts`). Domains
 * of apps that are not public http apps are ignored with a warning.
 */
export function buildIngress(ctx: ProgramContext, network: Network): Ingress {
  const apps = Object.keys(ctx.model.apps).sort();
  const httpApps = apps.filter((a) => ctx.model.apps[a]!.public && ctx.model.apps[a]!.protocol === 'http');
  const tcpApps = apps.filter((a) => ctx.model.apps[a]!.public && ctx.model.apps[a]!.protocol === 'tcp');
  for (const a of apps) {
    const app = ctx.model.apps[a]!;
    if (Object.keys(app.domains).length > 0 && !(app.public && app.protocol === 'http')) {
      pulumi.log.warn(`app/${a} in ${ctx.names.key}: domains are only served for public http apps; they are ignored`);
    }
  }
  const ingress: Ingress = { targets: {} };
  if (httpApps.length > 0) buildAlb(ctx, network, httpApps, ingress);
  if (tcpApps.length > 0) buildNlb(ctx, network, tcpApps, ingress);
  return ingress;
}
