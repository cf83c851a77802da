/**
 * The bundled AWS price table of setopsd's cost estimate: on-demand list prices in USD for what
 * the AWS program (`../program/`) creates, in a few regions.
 *
 * DATE: compiled 2026-12-02, from the list prices as they stood in 2025–2026 (no access to the
 * AWS pages or the Price List API from where it was written). The us-east-1 Fargate rates
 * ($0.04048 per vCPU-hour, $0.004445 per GB-hour) were cross-checked against March 2026
 * third-party guides that quote the Price List API; the other figures were not checked.
 * SOURCE: the public AWS pricing pages — https://aws.amazon.com/fargate/pricing/,
 * https://aws.amazon.com/elasticloadbalancing/pricing/, https://aws.amazon.com/vpc/pricing/
 * (NAT gateway, public IPv4 address), https://aws.amazon.com/rds/postgresql/pricing/,
 * https://aws.amazon.com/elasticache/pricing/, https://aws.amazon.com/documentdb/pricing/,
 * https://aws.amazon.com/opensearch-service/pricing/, https://aws.amazon.com/efs/pricing/,
 * https://aws.amazon.com/s3/pricing/ — on-demand, Linux/x86 (the task definitions are X86_64),
 * single-AZ instance prices (multi-AZ is priced as two instances, as AWS bills it). The figures
 * were written down by hand, not fetched from the AWS Price List API, and AWS changes prices:
 * treat the estimate as an order of magnitude for review, not a bill. To refresh, compare each
 * figure with the Price List API (`aws pricing get-products --service-code AmazonECS …`) and
 * update `PRICE_TABLE_DATE`.
 */

/** When the table was compiled (shown with every estimate). */
export const PRICE_TABLE_DATE = '2026-12-02';

/** Where the figures come from (shown with every estimate). */
export const PRICE_TABLE_SOURCE = 'AWS public on-demand pricing pages (Fargate, ELB, VPC, RDS for PostgreSQL, ElastiCache, DocumentDB, OpenSearch, EFS, S3), Linux/x86, transcribed by hand; not the Price List API';

/** Hours in the month of every estimate (AWS's own calculator uses 730). */
export const HOURS_PER_MONTH = 730;

/**
 * Usage the program does not decide, assumed by the estimate (stated with every estimate). Data
 * transfer, NAT data processing, CloudWatch, Route 53, SNS, SSM and backups beyond the free
 * retention are not estimated.
 */
export const ASSUMPTIONS = {
  /** Average load balancer capacity units per hour (ALB LCU, NLB NLCU). */
  lcuPerHour: 1,
  /** GB stored per S3 bucket. */
  s3Gb: 10,
  /** GB stored per EFS file system (standard storage class). */
  efsGb: 10,
  /** GB stored per DocumentDB cluster (its I/O is not estimated). */
  documentdbGb: 10,
  /** Public IPv4 addresses per internet-facing load balancer (one per zone; the program uses two zones). */
  ipv4PerLoadBalancer: 2,
} as const;

/** The assumptions in words, for the plan. */
export const ASSUMPTION_TEXT: readonly string[] = [
  `${HOURS_PER_MONTH} hours a month, every resource running all month`,
  `${ASSUMPTIONS.lcuPerHour} LCU per load balancer per hour`,
  `${ASSUMPTIONS.s3Gb} GB per S3 bucket, ${ASSUMPTIONS.efsGb} GB per EFS volume, ${ASSUMPTIONS.documentdbGb} GB per DocumentDB cluster`,
  'RDS storage is the allocated minStorage (gp3); OpenSearch storage is options.storage per node',
  'not estimated: data transfer, NAT data processing, CloudWatch, Route 53, SNS, SSM, snapshots',
];

/** Prices of one region, USD. Instance classes are per instance-hour. */
export interface RegionPrices {
  fargateVcpuHour: number;
  fargateGbHour: number;
  albHour: number;
  albLcuHour: number;
  nlbHour: number;
  nlbLcuHour: number;
  natHour: number;
  publicIpv4Hour: number;
  /** RDS for PostgreSQL, single-AZ instance-hour by class. */
  rdsPostgresHour: Record<string, number>;
  /** RDS gp3 storage per GB-month (single-AZ). */
  rdsGp3GbMonth: number;
  /** ElastiCache for Redis, per node-hour by node type. */
  elasticacheHour: Record<string, number>;
  /** DocumentDB instance-hour by class. */
  documentdbHour: Record<string, number>;
  documentdbGbMonth: number;
  /** OpenSearch Service instance-hour by type. */
  opensearchHour: Record<string, number>;
  opensearchGp3GbMonth: number;
  efsStandardGbMonth: number;
  s3StandardGbMonth: number;
}

/** The regions in the table. A stage in another region gets no estimate (the plan says why). */
export const REGION_PRICES: Readonly<Record<string, RegionPrices>> = {
  'us-east-1': {
    fargateVcpuHour: 0.04048,
    fargateGbHour: 0.004445,
    albHour: 0.0225,
    albLcuHour: 0.008,
    nlbHour: 0.0225,
    nlbLcuHour: 0.006,
    natHour: 0.045,
    publicIpv4Hour: 0.005,
    rdsPostgresHour: { 'db.t4g.micro': 0.016, 'db.t4g.small': 0.032, 'db.t4g.medium': 0.065, 'db.t3.micro': 0.018, 'db.t3.small': 0.036, 'db.t3.medium': 0.072, 'db.m6g.large': 0.159, 'db.m6g.xlarge': 0.318, 'db.r6g.large': 0.225 },
    rdsGp3GbMonth: 0.115,
    elasticacheHour: { 'cache.t4g.micro': 0.016, 'cache.t4g.small': 0.032, 'cache.t4g.medium': 0.065, 'cache.t3.micro': 0.017, 'cache.m6g.large': 0.149, 'cache.r6g.large': 0.206 },
    documentdbHour: { 'db.t3.medium': 0.078, 'db.t4g.medium': 0.073, 'db.r6g.large': 0.249 },
    documentdbGbMonth: 0.1,
    opensearchHour: { 't3.small.search': 0.036, 't3.medium.search': 0.073, 'm6g.large.search': 0.128 },
    opensearchGp3GbMonth: 0.122,
    efsStandardGbMonth: 0.3,
    s3StandardGbMonth: 0.023,
  },
  'eu-west-1': {
    fargateVcpuHour: 0.04048,
    fargateGbHour: 0.004445,
    albHour: 0.0252,
    albLcuHour: 0.008,
    nlbHour: 0.0252,
    nlbLcuHour: 0.006,
    natHour: 0.048,
    publicIpv4Hour: 0.005,
    rdsPostgresHour: { 'db.t4g.micro': 0.017, 'db.t4g.small': 0.034, 'db.t4g.medium': 0.068, 'db.t3.micro': 0.019, 'db.t3.small': 0.038, 'db.t3.medium': 0.076, 'db.m6g.large': 0.168, 'db.m6g.xlarge': 0.336, 'db.r6g.large': 0.24 },
    rdsGp3GbMonth: 0.127,
    elasticacheHour: { 'cache.t4g.micro': 0.017, 'cache.t4g.small': 0.034, 'cache.t4g.medium': 0.068, 'cache.t3.micro': 0.018, 'cache.m6g.large': 0.158, 'cache.r6g.large': 0.222 },
    documentdbHour: { 'db.t3.medium': 0.082, 'db.t4g.medium': 0.077, 'db.r6g.large': 0.263 },
    documentdbGbMonth: 0.11,
    opensearchHour: { 't3.small.search': 0.038, 't3.medium.search': 0.077, 'm6g.large.search': 0.135 },
    opensearchGp3GbMonth: 0.134,
    efsStandardGbMonth: 0.33,
    s3StandardGbMonth: 0.023,
  },
  'eu-central-1': {
    fargateVcpuHour: 0.04656,
    fargateGbHour: 0.00511,
    albHour: 0.027,
    albLcuHour: 0.008,
    nlbHour: 0.027,
    nlbLcuHour: 0.006,
    natHour: 0.052,
    publicIpv4Hour: 0.005,
    rdsPostgresHour: { 'db.t4g.micro': 0.019, 'db.t4g.small': 0.037, 'db.t4g.medium': 0.074, 'db.t3.micro': 0.02, 'db.t3.small': 0.04, 'db.t3.medium': 0.08, 'db.m6g.large': 0.185, 'db.m6g.xlarge': 0.37, 'db.r6g.large': 0.259 },
    rdsGp3GbMonth: 0.137,
    elasticacheHour: { 'cache.t4g.micro': 0.018, 'cache.t4g.small': 0.036, 'cache.t4g.medium': 0.073, 'cache.t3.micro': 0.019, 'cache.m6g.large': 0.168, 'cache.r6g.large': 0.234 },
    documentdbHour: { 'db.t3.medium': 0.084, 'db.t4g.medium': 0.079, 'db.r6g.large': 0.277 },
    documentdbGbMonth: 0.11,
    opensearchHour: { 't3.small.search': 0.041, 't3.medium.search': 0.083, 'm6g.large.search': 0.146 },
    opensearchGp3GbMonth: 0.146,
    efsStandardGbMonth: 0.36,
    s3StandardGbMonth: 0.0245,
  },
};
