import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { AppModel } from '../../../model/stage-model.js';
import type { ProgramContext } from './context.js';
import { hostedZoneFor, orderedDomains } from './domains.js';

/**
 * The ACM certificate of an app's domains (primary + the others as alternative names), validated
 * by DNS records in Route 53; resolves to its ARN once validated.
 */
export function certificate(ctx: ProgramContext, zones: ZoneLookups, name: string, app: AppModel): pulumi.Output<string> {
  const [primary, ...others] = orderedDomains(app) as [string, ...string[]];
  const cert = new aws.acm.Certificate(
    `app-${name}-cert`,
    { domainName: primary, subjectAlternativeNames: others, validationMethod: 'DNS', keyAlgorithm: 'RSA_2048' },
    ctx.res(),
  );
  const records = [primary, ...others].map((domain) => {
    const option = cert.domainValidationOptions.apply((all) => {
      const found = all.find((o) => o.domainName === domain);
      if (!found) throw new Error(`app/${name} in ${ctx.names.key}: ACM returned no DNS validation record for ${domain}`);
      return found;
    });
    return new aws.route53.Record(
      `app-${name}-cert-validation-${domain}`,
      {
        zoneId: zoneId(ctx, zones, domain),
        name: option.apply((o) => o.resourceRecordName ?? ''),
        type: option.apply((o) => o.resourceRecordType ?? 'CNAME'),
        records: [option.apply((o) => o.resourceRecordValue ?? '')],
        ttl: 60,
        allowOverwrite: true,
      },
      ctx.res(),
    );
  });
  const validation = new aws.acm.CertificateValidation(
    `app-${name}-cert-validation`,
    { certificateArn: cert.arn, validationRecordFqdns: records.map((r) => r.fqdn) },
    ctx.res(),
  );
  return validation.certificateArn;
}

/** Hosted zone ids by zone name, looked up once per zone however many domains it holds. */
export type ZoneLookups = Map<string, pulumi.Output<string>>;

/** The hosted zone id of a domain's records (`domains.ts` decides which zone). */
export function zoneId(ctx: ProgramContext, lookups: ZoneLookups, domain: string): pulumi.Input<string> {
  const zone = hostedZoneFor(domain, ctx.hostedZoneIds);
  if ('id' in zone) return zone.id;
  let id = lookups.get(zone.name);
  if (!id) {
    id = aws.route53.getZoneOutput({ name: zone.name, privateZone: false }, ctx.invoke).zoneId;
    lookups.set(zone.name, id);
  }
  return id;
}
