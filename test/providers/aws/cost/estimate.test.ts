/**
 * The cost estimate against figures computed by hand for the AWS example (examples/aws,
 * eu-central-1), from the bundled price table: what the AWS program creates per stage, app and
 * service, the delta of a change, and the cases without an estimate (local stages, a region or
 * an instance class the table does not have).
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDesired } from '../../../../src/manifests/load.js';
import type { StageModel } from '../../../../src/model/stage-model.js';
import { estimateModelCost, stageCost } from '../../../../src/providers/aws/cost/estimate.js';
import { PRICE_TABLE_DATE, REGION_PRICES } from '../../../../src/providers/aws/cost/prices.js';
import { repoRoot } from '../../../e2e/helpers.js';
import { app, service, stage } from '../../../helpers/models.js';

const aws = readFileSync(join(repoRoot, 'examples/aws/setops.yaml'), 'utf8');
function models(text = aws): Record<string, StageModel> {
  const r = loadDesired({ root: '/x', dir: '', files: [{ path: 'setops.yaml', text }] });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return Object.fromEntries(r.value.stages.map((s) => [s.stage.name, s]));
}
const { staging, production } = models();

t.test('the price table states its date and has the example region', async (t) => {
  t.match(PRICE_TABLE_DATE, /^\d{4}-\d{2}-\d{2}$/);
  t.ok(REGION_PRICES['eu-central-1'] && REGION_PRICES['us-east-1'] && REGION_PRICES['eu-west-1']);
});

t.test('staging (eu-central-1, not protected), by hand', async (t) => {
  const e = estimateModelCost(staging!)!;
  // 730 h/month. NAT 1 × 0.052 = 37.96; its IPv4 1 × 0.005 = 3.65
  // ALB 0.027 = 19.71; 1 LCU × 0.008 = 5.84; 2 IPv4 × 0.005 = 7.30
  // web: 1 × 256/1024 vCPU × 0.04656 = 8.4972; 1 × 512/1024 GB × 0.00511 = 1.86515; worker the same
  // database: db.t4g.micro 0.019 = 13.87; gp3 20 GB × 0.137 = 2.74
  // cache: cache.t4g.micro 1 node × 0.018 = 13.14
  // uploads: 10 GB × 0.0245 = 0.245; shared (EFS): 10 GB × 0.36 = 3.60
  // total 128.7797 → 128.78
  t.equal(e.monthly, 128.78);
  t.strictSame(
    e.lines.map((l) => `${l.subject} ${l.item} ${l.monthly}`),
    [
      'stage NAT gateway 37.96',
      'stage public IPv4 address (NAT) 3.65',
      'stage Application Load Balancer 19.71',
      'stage ALB capacity units (assumed 1/hour) 5.84',
      'stage public IPv4 address (ALB) 7.3',
      'app/web Fargate vCPU 8.5',
      'app/web Fargate memory 1.87',
      'app/worker Fargate vCPU 8.5',
      'app/worker Fargate memory 1.87',
      'service/cache ElastiCache cache.t4g.micro 13.14',
      'service/database RDS PostgreSQL db.t4g.micro 13.87',
      'service/database RDS gp3 storage 2.74',
      'service/shared EFS standard (assumed 10 GB) 3.6',
      'service/uploads S3 standard (assumed 10 GB) 0.25',
    ],
  );
});

t.test('production (protected: NAT per zone, multi-AZ, replica), by hand', async (t) => {
  const e = estimateModelCost(production!)!;
  // NAT 2 × 0.052 = 75.92; IPv4 2 × 0.005 = 7.30; ALB 19.71 + 5.84 + 7.30
  // web: 3 × 0.5 vCPU × 0.04656 = 50.9832; 3 × 1 GB × 0.00511 = 11.1909
  // worker: 2 × 0.25 vCPU = 16.9944; 2 × 0.5 GB = 3.7303
  // database: db.m6g.large multi-AZ 2 × 0.185 = 270.10; gp3 2 × 20 GB × 0.137 = 5.48
  // cache: cache.m6g.large 2 nodes × 0.168 = 245.28; uploads 0.245; shared 3.60
  // total 723.6738 → 723.67
  t.equal(e.monthly, 723.67);
  t.match(e.lines.find((l) => l.subject === 'service/database' && l.unit === 'hour'), { item: 'RDS PostgreSQL multi-AZ db.m6g.large ×2', quantity: 2, unitPrice: 0.185, monthly: 270.1 });
  t.match(e.lines.find((l) => l.item === 'NAT gateway'), { quantity: 2, monthly: 75.92 });
});

t.test('the delta: nothing deployed → staging; a scale change in production', async (t) => {
  const first = stageCost(null, staging!)!;
  t.match(first, { currency: 'USD', region: 'eu-central-1', before: null, after: { monthly: 128.78 }, delta: 128.78, prices: { date: PRICE_TABLE_DATE } });
  t.ok(first.prices.assumptions.some((a) => /10 GB per S3 bucket/.test(a)), 'the assumptions are stated');
  const scaled = models(aws.replace('    production:\n      scale: 3\n', '    production:\n      scale: 5\n')).production!;
  // 2 more web tasks: 2 × 0.5 × 0.04656 × 730 = 33.9888; 2 × 1 × 0.00511 × 730 = 7.4606 → 41.45
  t.equal(stageCost(production!, scaled)!.delta, 41.45);
  t.match(stageCost(production!, null), { after: null, delta: -723.67 }, 'a stage delete saves all of it');
});

t.test('no estimate for local stages; a region or class the table lacks is named, not guessed', async (t) => {
  t.equal(stageCost(stage({ apps: { web: app() } }), stage({ apps: { web: app({ scale: 3 }) } })), null, 'local stages show none');
  const far = stage({ organization: { provider: 'aws', aws: { region: 'ap-south-1' } }, apps: { web: app() } });
  t.match(stageCost(null, far), { after: { monthly: null, unpriced: [/^region ap-south-1/] }, delta: null });
  const odd = stage({ organization: { provider: 'aws', aws: { region: 'us-east-1' } }, services: { db: service('postgresql', { plan: 'db.x2g.16xlarge' }) } });
  t.match(estimateModelCost(odd), { monthly: null, unpriced: ['service/db: RDS PostgreSQL db.x2g.16xlarge'] });
  const existingVpc = stage({ organization: { provider: 'aws', aws: { region: 'us-east-1', vpcId: 'vpc-0abc' } } });
  t.strictSame(estimateModelCost(existingVpc), { monthly: 0, lines: [], unpriced: [] }, 'an existing VPC brings its own NAT');
});
