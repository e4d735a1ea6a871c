import pricing from '../pricing.json';

/**
 * From what the bench measured on DynamoDB Local to what a million renewals cost and take on AWS.
 * Every line's formula is here, with its inputs named; the prices come from `scripts/pricing.json`
 * (dated, with its sources), the latencies are stated assumptions (`AWS_LATENCY_MS`), the rest is
 * measured or read from the stack's defaults.
 */

/** Renewals the cost and the projection are stated for. */
export const RENEWALS = 1_000_000;

/**
 * Assumed in-region latency of one request on AWS, ms (DynamoDB's single-digit milliseconds for
 * items under 1 KB; a transaction prepares and commits, so about twice a write; PutEvents is slower).
 */
export const AWS_LATENCY_MS = { read: 5, write: 8, transaction: 15, putEvents: 20 } as const;

/** Lambda's CPU share: a full vCPU at 1,769 MB, in proportion below it. */
const FULL_VCPU_MB = 1769;

/**
 * Lambda log lines the platform writes per invocation (START, END and REPORT, with X-Ray's trace
 * id): about 400 bytes, on top of what the function logs (measured).
 */
export const PLATFORM_LOG_BYTES_PER_INVOCATION = 400;

/** Lambda active tracing's default sampling: the first request each second, then 5% of the rest. */
const XRAY_SAMPLED_SHARE = 0.05;

/**
 * How long DynamoDB keeps a customer-managed table key's data key before asking KMS again, per
 * caller (DynamoDB's documented caching of table keys): 5 minutes.
 */
const KMS_CACHE_MINUTES = 5;

/** What the model needs from the bench's measurements, per invoice unless named otherwise. */
export interface Measured {
  /** Base-table and index units of the job (dispatcher and workers), per invoice. */
  job: { tableWru: number; indexWru: number; rru: number };
  /** The same for the publisher (stream → bus), per invoice. */
  publisher: { tableWru: number; indexWru: number; rru: number };
  /** A worker's DynamoDB calls per workspace, by operation (`GetItem`, `Query`, `TransactWriteItems`…). */
  workerCallsPerInvoice: Record<string, number>;
  /** The publisher's DynamoDB calls per invoice, by operation. */
  publisherCallsPerInvoice: Record<string, number>;
  workerCpuMsPerInvoice: number;
  publisherCpuMsPerInvoice: number;
  /** Queue requests per invoice: `SendMessageBatch` + receives + `DeleteMessageBatch`. */
  queueRequestsPerInvoice: number;
  /** EventBridge 64 KB chunks per invoice. */
  eventChunksPerInvoice: number;
  /** Bytes the worker and publisher log per invoice (measured; platform lines added here). */
  logBytesPerInvoice: number;
}

/** The deployment the model prices: the stack's defaults. */
export interface Deployment {
  memoryMb: number;
  workerBatchSize: number;
  workerConcurrency: number;
  publisherBatchSize: number;
  tableWarmWrites: number;
  indexWarmWrites: number;
  /** Share of the warm throughput the 1st may take (`DEFAULT_WORKER_SIZING.headroom`). */
  headroom: number;
}

/** One cost line: its dollars per `RENEWALS` and the formula that gave them. */
export interface CostLine {
  name: string;
  usd: number;
  formula: string;
}

/** The projection of the 1st on AWS. */
export interface Projection {
  /** Invoices per second each limit allows. */
  limits: { table: number; index: number; workers: number };
  bottleneck: 'table' | 'index' | 'workers';
  invoicesPerSecond: number;
  minutes: number;
  /** One worker invocation (a batch) on AWS, ms: its longest request chain plus the batch's CPU at the function's share. */
  workerBatchMs: number;
  /** One invoice's share of a publisher invocation, ms. */
  publisherMsPerInvoice: number;
}

const price = (key: keyof typeof pricing.prices) => pricing.prices[key].usd / pricing.prices[key].per;

/** A request chain's time on AWS: each call at its kind's assumed latency. */
function chainMs(calls: Record<string, number>): number {
  return Object.entries(calls).reduce((total, [operation, count]) => {
    const latency =
      operation.startsWith('Transact') && operation !== 'TransactGetItems'
        ? AWS_LATENCY_MS.transaction
        : /^(Put|Update|Delete|BatchWrite)/.test(operation)
          ? AWS_LATENCY_MS.write
          : AWS_LATENCY_MS.read;
    return total + count * latency;
  }, 0);
}

/**
 * Projects the 1st: the fastest rate any of three limits allows, `RENEWALS ÷ that ÷ 60` minutes.
 * - table: its warm writes × headroom ÷ base-table WRU per invoice (job and publisher, both on the 1st);
 * - index: the due index's warm writes × headroom ÷ its WRU per invoice;
 * - workers: `MaximumConcurrency × batch ÷ batch duration`, where a batch lasts one workspace's
 *   request chain (the batch's ten run in parallel) plus the batch's CPU time stretched to the
 *   function's CPU share (`1,769 MB ÷ memory`; no overlap assumed, so an upper bound).
 */
export function projectPeriodStart(measured: Measured, deployment: Deployment): Projection {
  const stretch = FULL_VCPU_MB / deployment.memoryMb;
  const workerBatchMs = chainMs(measured.workerCallsPerInvoice) + deployment.workerBatchSize * measured.workerCpuMsPerInvoice * stretch;
  const publisherMsPerInvoice = chainMs(measured.publisherCallsPerInvoice) + AWS_LATENCY_MS.putEvents + measured.publisherCpuMsPerInvoice * stretch;
  const limits = {
    table: (deployment.tableWarmWrites * deployment.headroom) / (measured.job.tableWru + measured.publisher.tableWru),
    index:
      measured.job.indexWru + measured.publisher.indexWru > 0 ? (deployment.indexWarmWrites * deployment.headroom) / (measured.job.indexWru + measured.publisher.indexWru) : Number.POSITIVE_INFINITY,
    workers: (deployment.workerConcurrency * deployment.workerBatchSize) / (workerBatchMs / 1000),
  };
  const bottleneck = (Object.keys(limits) as Array<keyof typeof limits>).reduce((low, key) => (limits[key] < limits[low] ? key : low), 'table');
  const invoicesPerSecond = limits[bottleneck];
  return { limits, bottleneck, invoicesPerSecond, minutes: RENEWALS / invoicesPerSecond / 60, workerBatchMs, publisherMsPerInvoice };
}

/** The AWS cost of `RENEWALS` renewals, line by line, at the prices of `scripts/pricing.json`. */
export function costPerRenewals(measured: Measured, deployment: Deployment, projection: Projection): CostLine[] {
  const n = RENEWALS;
  const wru = measured.job.tableWru + measured.job.indexWru + measured.publisher.tableWru + measured.publisher.indexWru;
  const rru = measured.job.rru + measured.publisher.rru;
  const gb = deployment.memoryMb / 1024;
  const workerSeconds = projection.workerBatchMs / 1000 / deployment.workerBatchSize;
  const publisherSeconds = projection.publisherMsPerInvoice / 1000;
  const invocations = n / deployment.workerBatchSize + n / deployment.publisherBatchSize;
  const logBytes = measured.logBytesPerInvoice + PLATFORM_LOG_BYTES_PER_INVOCATION * (1 / deployment.workerBatchSize + 1 / deployment.publisherBatchSize);
  const seconds = projection.minutes * 60;
  const traces = invocations * XRAY_SAMPLED_SHARE + seconds;
  // Callers holding a table key: the workers, one publisher per stream shard (about the table's partitions; 16 taken) and the dispatcher.
  const kmsRequests = (deployment.workerConcurrency + 16 + 1) * Math.ceil(projection.minutes / KMS_CACHE_MINUTES);
  const round = (value: number, digits = 3) => Number(value.toPrecision(digits));
  return [
    {
      name: 'DynamoDB',
      usd: n * (wru * price('dynamodbWriteRequestUnit') + rru * price('dynamodbReadRequestUnit')),
      formula: `1M × (${round(wru)} WRU × $${pricing.prices.dynamodbWriteRequestUnit.usd}/M + ${round(rru)} RRU × $${pricing.prices.dynamodbReadRequestUnit.usd}/M)`,
    },
    {
      name: 'Lambda GB-s',
      usd: n * gb * (workerSeconds + publisherSeconds) * price('lambdaArmGbSecond'),
      formula: `1M × ${gb} GB × (worker ${round(workerSeconds * 1000)} ms + publisher ${round(publisherSeconds * 1000)} ms) × $${pricing.prices.lambdaArmGbSecond.usd}/GB-s`,
    },
    {
      name: 'Lambda requests',
      usd: invocations * price('lambdaRequest'),
      formula: `1M × (1/${deployment.workerBatchSize} + 1/${deployment.publisherBatchSize}) invocations × $${pricing.prices.lambdaRequest.usd}/M`,
    },
    {
      name: 'SQS requests',
      usd: n * measured.queueRequestsPerInvoice * price('sqsStandardRequest'),
      formula: `1M × ${round(measured.queueRequestsPerInvoice)} requests × $${pricing.prices.sqsStandardRequest.usd}/M`,
    },
    {
      name: 'EventBridge events',
      usd: n * measured.eventChunksPerInvoice * price('eventBridgeCustomEvent'),
      formula: `1M × ${round(measured.eventChunksPerInvoice)} 64 KB chunks × $${pricing.prices.eventBridgeCustomEvent.usd}/M`,
    },
    {
      name: 'KMS',
      usd: kmsRequests * price('kmsRequest'),
      formula: `${kmsRequests} requests ((${deployment.workerConcurrency} workers + 16 publishers + 1) × ${Math.ceil(projection.minutes / KMS_CACHE_MINUTES)} key refreshes of ${KMS_CACHE_MINUTES} min) × $${pricing.prices.kmsRequest.usd}/10k`,
    },
    { name: 'CloudWatch Logs', usd: n * logBytes * price('cloudWatchLogsIngestion'), formula: `1M × ${Math.round(logBytes)} B × $${pricing.prices.cloudWatchLogsIngestion.usd}/GB` },
    {
      name: 'X-Ray traces',
      usd: traces * price('xrayTraceRecorded'),
      formula: `(${Math.round(invocations)} invocations × ${XRAY_SAMPLED_SHARE} + ${Math.round(seconds)} s × 1) traces × $${pricing.prices.xrayTraceRecorded.usd}/M`,
    },
  ];
}

/** The pricing table's date and region, for the output. */
export const PRICING = { date: pricing.date, region: pricing.region };
