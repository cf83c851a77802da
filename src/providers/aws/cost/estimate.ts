import type { CostEstimateSide, CostLine, StageCost } from '../../../model/cost.js';
import type { ServiceModel, StageModel } from '../../../model/stage-model.js';
import { ASSUMPTIONS, ASSUMPTION_TEXT, HOURS_PER_MONTH, PRICE_TABLE_DATE, PRICE_TABLE_SOURCE, REGION_PRICES, type RegionPrices } from './prices.js';

/**
 * The estimated monthly cost of an AWS stage from its model (PURE), resource by resource as the
 * AWS program creates them (`../program/README.md` "What a stage gets"): NAT gateways (one, or
 * one per zone on protected stages, only in a VPC setopsd creates) with their public IPv4
 * addresses; one ALB for public http apps and one NLB for public tcp apps (hour + the assumed
 * LCUs + their addresses); Fargate vCPU and memory per task (scale × resources); RDS instances
 * (`.ha` or protected → multi-AZ, two instances) and their gp3 storage; ElastiCache nodes
 * (`.ha` or protected → a replica); DocumentDB instances (`options.scale`) and storage;
 * OpenSearch nodes (`.ha` → two) and their storage; S3 and EFS by the stated assumption.
 */
export function estimateModelCost(model: StageModel): CostEstimateSide | null {
  if (model.organization.provider !== 'aws' || !model.organization.aws) return null;
  const region = model.organization.aws.region;
  const prices = REGION_PRICES[region];
  if (!prices) return { monthly: null, lines: [], unpriced: [`region ${region} (the price table has ${Object.keys(REGION_PRICES).join(', ')})`] };
  const lines: CostLine[] = [];
  const unpriced: string[] = [];
  const hourly = (subject: string, item: string, quantity: number, unit: string, unitPrice: number) =>
    lines.push({ subject, item, quantity, unit, unitPrice, monthly: quantity * unitPrice * HOURS_PER_MONTH });
  const monthly = (subject: string, item: string, gb: number, unitPrice: number) => lines.push({ subject, item, quantity: gb, unit: 'GB-month', unitPrice, monthly: gb * unitPrice });
  const protectedStage = model.stage.protected;

  if (model.organization.aws.vpcId === undefined) {
    const nats = protectedStage ? 2 : 1;
    hourly('stage', 'NAT gateway', nats, 'hour', prices.natHour);
    hourly('stage', 'public IPv4 address (NAT)', nats, 'hour', prices.publicIpv4Hour);
  }
  const apps = Object.values(model.apps);
  for (const [kind, protocol, hour, lcu] of [['ALB', 'http', prices.albHour, prices.albLcuHour], ['NLB', 'tcp', prices.nlbHour, prices.nlbLcuHour]] as const) {
    if (!apps.some((a) => a.public && a.protocol === protocol)) continue;
    hourly('stage', kind === 'ALB' ? 'Application Load Balancer' : 'Network Load Balancer', 1, 'hour', hour);
    hourly('stage', `${kind} capacity units (assumed ${ASSUMPTIONS.lcuPerHour}/hour)`, ASSUMPTIONS.lcuPerHour, 'LCU-hour', lcu);
    hourly('stage', `public IPv4 address (${kind})`, ASSUMPTIONS.ipv4PerLoadBalancer, 'hour', prices.publicIpv4Hour);
  }
  for (const name of Object.keys(model.apps).sort()) {
    const a = model.apps[name]!;
    if (a.scale === 0) continue;
    hourly(`app/${name}`, 'Fargate vCPU', (a.scale * a.resources.cpu) / 1024, 'vCPU-hour', prices.fargateVcpuHour);
    hourly(`app/${name}`, 'Fargate memory', (a.scale * a.resources.memory) / 1024, 'GB-hour', prices.fargateGbHour);
  }
  for (const name of Object.keys(model.services).sort()) {
    serviceLines(`service/${name}`, model.services[name]!, prices, protectedStage, hourly, monthly, unpriced);
  }
  const total = lines.reduce((sum, l) => sum + l.monthly, 0);
  return { monthly: unpriced.length > 0 ? null : cents(total), lines: lines.map((l) => ({ ...l, monthly: cents(l.monthly) })), unpriced };
}

type Hourly = (subject: string, item: string, quantity: number, unit: string, unitPrice: number) => void;
type Monthly = (subject: string, item: string, gb: number, unitPrice: number) => void;

function serviceLines(subject: string, s: ServiceModel, prices: RegionPrices, protectedStage: boolean, hourly: Hourly, monthly: Monthly, unpriced: string[]): void {
  const plan = s.plan ?? '';
  const ha = plan.endsWith('.ha');
  const instanceClass = ha ? plan.slice(0, -3) : plan;
  const instances = (what: string, table: Record<string, number>, count: number, unit = 'hour') => {
    const price = table[instanceClass];
    if (price === undefined) unpriced.push(`${subject}: ${what} ${instanceClass || '(no plan)'}`);
    else hourly(subject, `${what} ${instanceClass}${count > 1 ? ` ×${count}` : ''}`, count, unit, price);
  };
  const option = (key: string, fallback: number) => (typeof s.options[key] === 'number' ? (s.options[key] as number) : fallback);
  switch (s.type) {
    case 'postgresql': {
      const n = ha || protectedStage ? 2 : 1; // multi-AZ: a standby instance and its storage
      instances(n > 1 ? 'RDS PostgreSQL multi-AZ' : 'RDS PostgreSQL', prices.rdsPostgresHour, n);
      monthly(subject, `RDS gp3 storage${n > 1 ? ' (multi-AZ)' : ''}`, option('minStorage', 20) * n, prices.rdsGp3GbMonth);
      return;
    }
    case 'redis':
      instances('ElastiCache', prices.elasticacheHour, ha || protectedStage ? 2 : 1);
      return;
    case 'documentdb':
      instances('DocumentDB', prices.documentdbHour, Math.max(1, Math.min(16, option('scale', 1))));
      monthly(subject, `DocumentDB storage (assumed ${ASSUMPTIONS.documentdbGb} GB)`, ASSUMPTIONS.documentdbGb, prices.documentdbGbMonth);
      return;
    case 'elasticsearch': {
      const n = ha ? 2 : 1;
      instances('OpenSearch', prices.opensearchHour, n);
      monthly(subject, 'OpenSearch gp3 storage', option('storage', 10) * n, prices.opensearchGp3GbMonth);
      return;
    }
    case 's3':
      monthly(subject, `S3 standard (assumed ${ASSUMPTIONS.s3Gb} GB)`, ASSUMPTIONS.s3Gb, prices.s3StandardGbMonth);
      return;
    case 'volume':
      monthly(subject, `EFS standard (assumed ${ASSUMPTIONS.efsGb} GB)`, ASSUMPTIONS.efsGb, prices.efsStandardGbMonth);
      return;
  }
}

/**
 * The cost delta of a stage plan: the deployed model's estimate → the desired model's. Null when
 * neither side runs on AWS (local stages show no cost).
 */
export function stageCost(before: StageModel | null, after: StageModel | null): StageCost | null {
  const b = before === null ? null : estimateModelCost(before);
  const a = after === null ? null : estimateModelCost(after);
  if (a === null && b === null) return null;
  const region = (a !== null ? after : before)!.organization.aws?.region ?? '';
  const unpricedSide = (a !== null && a.monthly === null) || (b !== null && b.monthly === null);
  return {
    currency: 'USD',
    region,
    before: b,
    after: a,
    delta: unpricedSide ? null : cents((a?.monthly ?? 0) - (b?.monthly ?? 0)),
    prices: { date: PRICE_TABLE_DATE, source: PRICE_TABLE_SOURCE, assumptions: [...ASSUMPTION_TEXT] },
  };
}

function cents(usd: number): number {
  return Math.round(usd * 100) / 100;
}
