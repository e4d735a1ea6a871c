/**
 * Capacity per operation, measured against DynamoDB Local with every call metered
 * (`simulator/capacity-meter.ts`): the figures README "Cost and scale" quotes (`npm run capacity`)
 * cannot regress unnoticed.
 */
import { GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { startLocalDynamo, type LocalDynamo } from '../../simulator/dynamo-local';
import { meterCapacity, subtractReadings } from '../../simulator/capacity-meter';
import { measureCapacity, type CapacityFigures, type OperationCost } from '../../simulator/capacity-scenarios';
import { createDocumentClient } from '../../shared/store/dynamo-store';

let dynamo: LocalDynamo;

/** Read units per workspace on the base table (not the due index) of a scenario's table. */
function tableReads(cost: OperationCost, scenario: string): number {
  return (cost.detail.byTarget[`capacity-test-${scenario}`]?.rru ?? 0) / figures.workspaces;
}
let figures: CapacityFigures;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  figures = await measureCapacity(dynamo, 2, 'capacity-test');
}, 120_000);

afterAll(async () => {
  await dynamo?.stop();
}, 30_000);

describe('capacity meter (DynamoDB Local)', () => {
  test('asks every call for its consumed capacity and sums it per operation and per table or index', async () => {
    await dynamo.createTable('meter-test');
    const doc = createDocumentClient(dynamo.config);
    try {
      const meter = meterCapacity(doc);
      await doc.send(new PutCommand({ TableName: 'meter-test', Item: { pk: 'a', sk: 'b', gsi1pk: 'DUE#0', gsi1sk: '2027-01-01', text: 'x'.repeat(1500) } }));
      const afterPut = meter.reading();
      // 1.5 KB: two write units on the table, the index entry (keys only) one more.
      expect(afterPut.byOperation.PutItem).toEqual({ calls: 1, wru: expect.any(Number), rru: 0 });
      expect(afterPut.byTarget['meter-test'].wru).toBe(2);
      expect(afterPut.byTarget['meter-test/gsi1'].wru).toBe(1);
      expect(afterPut.wru).toBe(afterPut.byTarget['meter-test'].wru + afterPut.byTarget['meter-test/gsi1'].wru);
      const out = await doc.send(new GetCommand({ TableName: 'meter-test', Key: { pk: 'a', sk: 'b' }, ConsistentRead: true }));
      expect(out.ConsumedCapacity).toBeDefined();
      const get = subtractReadings(meter.reading(), afterPut);
      expect(get).toMatchObject({ calls: 1, rru: 1, wru: 0, byOperation: { GetItem: { calls: 1, rru: 1, wru: 0 } } });
      // DynamoDB Local reports 2 for any transaction: the meter prices it at 2 per KB of each item.
      await doc.send(
        new TransactWriteCommand({ TransactItems: [1, 2, 3].map((n) => ({ Put: { TableName: 'meter-test', Item: { pk: 't', sk: String(n), text: 'x'.repeat(n === 3 ? 1500 : 10) } } })) }),
      );
      expect(subtractReadings(meter.reading(), afterPut).byOperation.TransactWriteItems).toEqual({ calls: 1, wru: 2 + 2 + 4, rru: 0 });
      meter.reset();
      expect(meter.reading()).toEqual({ rru: 0, wru: 0, calls: 0, byOperation: {}, byTarget: {} });
    } finally {
      doc.destroy();
    }
  });
});

describe('capacity per operation (DynamoDB Local)', () => {
  test('a quiet monthly renewal: the invoice then the subscription, two conditional writes (no transaction, no balance write, no outbox entry), the index moved, three reads; announcing it writes nothing', () => {
    expect(figures.quietRenewal.detail.byOperation.TransactWriteItems).toBeUndefined();
    expect(figures.quietRenewal.detail.byOperation.PutItem.calls / figures.workspaces).toBe(2);
    // Table 2 + 1 (the invoice with the subscription state it commits, 1–2 KB; the subscription, under 1 KB), index 2 (the move as standard writes).
    expect(figures.quietRenewal.detail.byTarget['capacity-test-quiet'].wru / figures.workspaces).toBe(3);
    expect(figures.quietRenewal.wru).toBeLessThanOrEqual(5);
    // The invoice item is its own outbox: the publisher claims, marks and deletes nothing.
    expect(figures.quietRenewalPublish.wru).toBe(0);
    expect(figures.quietRenewalPublish.rru).toBe(0);
    // Subscription, balance, and one Query for member snapshot, tail and profile; two writes.
    expect(figures.quietRenewal.calls).toBe(5);
    // The due query's share (0.5 RRU a page of keys) is left out: it is a page per 4 KB of keys,
    // spread over every workspace due, and with two workspaces it would be a quarter unit each.
    expect(tableReads(figures.quietRenewal, 'quiet')).toBeLessThanOrEqual(1.5);
  });

  test('reads independent of history: 36 months of daily member churn cost within 10% of one month (RRU and WRU)', () => {
    const month = figures.quietRenewalWithMonthOfHistory;
    const years = figures.quietRenewalWithHistory;
    expect(figures.historyMonths).toBe(36);
    expect(years.rru).toBeLessThanOrEqual(month.rru * 1.1);
    expect(years.wru).toBeLessThanOrEqual(month.wru * 1.1);
    expect(years.calls).toBe(month.calls);
    expect(tableReads(years, 'history')).toBeLessThanOrEqual(1.5);
  });

  test('renewals with a proration, true-ups and accrual steps stay within theirs', () => {
    for (const cost of [figures.renewalWithProrations, figures.trueUp]) {
      expect(cost.wru).toBeLessThanOrEqual(5);
    }
    expect(tableReads(figures.renewalWithProrations, 'prorations')).toBeLessThanOrEqual(2.5);
    expect(tableReads(figures.trueUp, 'true-up')).toBeLessThanOrEqual(2.5);
    // The index keeps only keys: an accrual that does not move the due date writes nothing to it
    // for the subscription (the one unit is the accrual marker's removal). The transaction holds
    // the subscription, the proration and the check that no invoice waits for its commit (2 each).
    expect(figures.accrualStep.wru).toBeLessThanOrEqual(8);
    expect((figures.accrualStep.detail.byTarget['capacity-test-prorations/gsi1']?.wru ?? 0) / figures.workspaces).toBeLessThanOrEqual(1);
  });

  test('items stay small: the subscription under 1 KB, a renewal invoice with the subscription state it commits under 2 KB', () => {
    expect(figures.itemBytes.SUB).toBeLessThan(1024);
    expect(figures.itemBytes.INVOICE).toBeLessThan(2048);
  });
});
