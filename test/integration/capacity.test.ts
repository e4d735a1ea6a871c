/**
 * Capacity per operation, measured against DynamoDB Local with every call metered
 * (`simulator/capacity-meter.ts`): the figures README "Cost and scale" quotes (`npm run capacity`)
 * cannot regress unnoticed.
 */
import { PutCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { startLocalDynamo, type LocalDynamo } from '../../simulator/dynamo-local';
import { meterCapacity, subtractReadings } from '../../simulator/capacity-meter';
import { measureCapacity, type CapacityFigures } from '../../simulator/capacity-scenarios';
import { createDocumentClient } from '../../shared/store/dynamo-store';

let dynamo: LocalDynamo;
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
      // 1.5 KB: two write units on the table, the index copy (projection ALL) two more.
      expect(afterPut.byOperation.PutItem).toEqual({ calls: 1, wru: expect.any(Number), rru: 0 });
      expect(afterPut.byTarget['meter-test'].wru).toBe(2);
      expect(afterPut.byTarget['meter-test/gsi1'].wru).toBeGreaterThan(0);
      expect(afterPut.wru).toBe(afterPut.byTarget['meter-test'].wru + afterPut.byTarget['meter-test/gsi1'].wru);
      const out = await doc.send(new GetCommand({ TableName: 'meter-test', Key: { pk: 'a', sk: 'b' }, ConsistentRead: true }));
      expect(out.ConsumedCapacity).toBeDefined();
      const get = subtractReadings(meter.reading(), afterPut);
      expect(get).toMatchObject({ calls: 1, rru: 1, wru: 0, byOperation: { GetItem: { calls: 1, rru: 1, wru: 0 } } });
      meter.reset();
      expect(meter.reading()).toEqual({ rru: 0, wru: 0, calls: 0, byOperation: {}, byTarget: {} });
    } finally {
      doc.destroy();
    }
  });
});

describe('capacity per operation (DynamoDB Local)', () => {
  test('a quiet monthly renewal stays within its write and read budget', () => {
    expect(figures.quietRenewal.wru).toBeLessThanOrEqual(8);
    expect(figures.quietRenewal.rru).toBeLessThanOrEqual(2.5);
  });

  test('renewals with a proration, true-ups and accrual steps stay within theirs', () => {
    for (const cost of [figures.renewalWithProrations, figures.trueUp, figures.accrualStep]) {
      expect(cost.wru).toBeLessThanOrEqual(8);
      expect(cost.rru).toBeLessThanOrEqual(3);
    }
  });

  test('items stay small: the subscription and a renewal invoice under 1 KB', () => {
    expect(figures.itemBytes.SUB).toBeLessThan(1024);
    expect(figures.itemBytes.INVOICE).toBeLessThan(1024);
  });
});
