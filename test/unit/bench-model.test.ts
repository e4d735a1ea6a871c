/**
 * The bench's arithmetic (`npm run bench`): how a workspace's items and calls are cloned for fresh
 * ids, how the 1st is projected on AWS and what a million renewals cost.
 */
import pricing from '../../scripts/pricing.json';
import { costPerRenewals, projectPeriodStart, type Deployment, type Measured } from '../../scripts/bench/aws-model';
import { benchId, cloneText } from '../../scripts/bench/seed';
import { shardOf } from '../../shared/store/keys';

const measured: Measured = {
  job: { tableWru: 6, indexWru: 4, rru: 2 },
  publisher: { tableWru: 3, indexWru: 0, rru: 0 },
  workerCallsPerInvoice: { GetItem: 2, Query: 2, TransactWriteItems: 1 },
  publisherCallsPerInvoice: { UpdateItem: 2, DeleteItem: 1 },
  workerCpuMsPerInvoice: 2,
  publisherCpuMsPerInvoice: 1,
  queueRequestsPerInvoice: 0.3,
  eventChunksPerInvoice: 1,
  logBytesPerInvoice: 100,
};
const deployment: Deployment = { memoryMb: 1769, workerBatchSize: 10, workerConcurrency: 10, publisherBatchSize: 25, tableWarmWrites: 14_000, indexWarmWrites: 6_000, headroom: 0.8 };

describe('cloneText', () => {
  test('replaces the id everywhere and moves the due-index entry to the new id’s shard', () => {
    const from = benchId('j', 1);
    const to = benchId('f', 2);
    const text = JSON.stringify({
      pk: { S: `WS#${from}` },
      gsi1pk: { S: `DUE#${shardOf(from, 16)}` },
      gsi1sk: { S: `2027-03-01T00:00:00Z#${from}` },
      invoice: { S: `inv_${from}_2027-02-01_renewal` },
    });
    const clone = JSON.parse(cloneText(text, from, to, 16)) as Record<string, { S: string }>;
    expect(clone.pk.S).toBe(`WS#${to}`);
    expect(clone.gsi1pk.S).toBe(`DUE#${shardOf(to, 16)}`);
    expect(clone.gsi1sk.S).toBe(`2027-03-01T00:00:00Z#${to}`);
    expect(clone.invoice.S).toBe(`inv_${to}_2027-02-01_renewal`);
    expect(cloneText(text, from, to, 16)).toHaveLength(text.length - String(shardOf(from, 16)).length + String(shardOf(to, 16)).length);
  });

  test('refuses ids of different lengths (the clone would not be the same size)', () => {
    expect(() => cloneText('{}', 'ws-a', 'ws-bb', 16)).toThrow('the ids differ in length');
  });
});

describe('projectPeriodStart', () => {
  test('the 1st goes at the slowest of the table, the index and the workers', () => {
    const projection = projectPeriodStart(measured, deployment);
    expect(projection.limits.table).toBeCloseTo((14_000 * 0.8) / 9);
    expect(projection.limits.index).toBeCloseTo((6_000 * 0.8) / 4);
    // A full vCPU at 1,769 MB: the batch is one chain (2×5 + 2×5 + 15 ms) plus ten invoices' CPU.
    expect(projection.workerBatchMs).toBeCloseTo(35 + 10 * 2);
    expect(projection.limits.workers).toBeCloseTo((10 * 10) / 0.055);
    expect(projection.bottleneck).toBe('index');
    expect(projection.minutes).toBeCloseTo(1_000_000 / 1_200 / 60);
  });

  test('fewer workers make the workers the bottleneck', () => {
    expect(projectPeriodStart(measured, { ...deployment, workerConcurrency: 2 }).bottleneck).toBe('workers');
  });
});

describe('costPerRenewals', () => {
  test('DynamoDB is every unit of the job and the publisher at the on-demand prices of scripts/pricing.json', () => {
    const lines = costPerRenewals(measured, deployment, projectPeriodStart(measured, deployment));
    const dynamo = lines.find((line) => line.name === 'DynamoDB');
    expect(dynamo?.usd).toBeCloseTo(13 * pricing.prices.dynamodbWriteRequestUnit.usd + 2 * pricing.prices.dynamodbReadRequestUnit.usd);
    expect(lines.find((line) => line.name === 'EventBridge events')?.usd).toBeCloseTo(pricing.prices.eventBridgeCustomEvent.usd);
    expect(lines.find((line) => line.name === 'SQS requests')?.usd).toBeCloseTo(0.3 * pricing.prices.sqsStandardRequest.usd);
    expect(lines.map((line) => line.name)).toEqual(['DynamoDB', 'Lambda GB-s', 'Lambda requests', 'SQS requests', 'EventBridge events', 'KMS', 'CloudWatch Logs', 'X-Ray traces']);
    for (const line of lines) expect(line.usd).toBeGreaterThanOrEqual(0);
  });

  test('the pricing table is dated and names a source for every price', () => {
    expect(pricing.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const entry of Object.values(pricing.prices)) expect(entry.source).toMatch(/^https:\/\/aws\.amazon\.com\//);
  });
});
