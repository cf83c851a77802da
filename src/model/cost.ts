/** The estimated monthly cost of an AWS stage, before and after a plan (see `src/providers/aws/cost/`). */

/** One priced item of a stage: what the AWS program creates for a subject, and its monthly cost. */
export interface CostLine {
  /** `stage`, `app/NAME`, `service/NAME`. */
  subject: string;
  /** What is priced, e.g. `Fargate vCPU`, `RDS db.t4g.micro (multi-AZ)`, `NAT gateway`. */
  item: string;
  /** Quantity per hour (hourly items) or per month (storage), in `unit`. */
  quantity: number;
  /** `vCPU-hour`, `GB-hour`, `hour`, `LCU-hour`, `GB-month`. */
  unit: string;
  /** USD per unit. */
  unitPrice: number;
  /** USD per month (730 hours), rounded to cents. */
  monthly: number;
}

/** The estimate of one stage model: its lines and total, or why it could not be priced. */
export interface CostEstimateSide {
  /** USD per month, rounded to cents; null when the region or a resource is not in the price table. */
  monthly: number | null;
  lines: CostLine[];
  /** What the table has no price for (`service/search: OpenSearch m7g.large.search`, `region ap-south-1`). */
  unpriced: string[];
}

/** The cost of an AWS stage before (deployed) → after (desired), and the difference. */
export interface StageCost {
  currency: 'USD';
  region: string;
  /** Null: nothing deployed (or not on AWS before). */
  before: CostEstimateSide | null;
  /** Null: the stage is deleted (or leaves AWS). */
  after: CostEstimateSide | null;
  /** after − before in USD per month (a missing side counts 0); null when a side could not be priced. */
  delta: number | null;
  /** The price table used: its date and source, and the assumptions behind the estimate. */
  prices: { date: string; source: string; assumptions: string[] };
}
