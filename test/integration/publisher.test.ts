import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { createPublisherHandler } from '../../functions/publisher/handler';
import type { PublishedEvent } from '../../shared/jobs/dependencies';
import { withMiddlewares } from '../../shared/runtime/middleware';
import { lambdaContext, setupDynamo } from './harness';

const dynamo = setupDynamo();

function outboxRecord(n: number): DynamoDBRecord {
  const image = { pk: 'OUTBOX#0', sk: `2027-01-01T00:05:00Z#2027-01-01#inv-${n}`, id: `inv-${n}`, detailType: 'Invoice Issued', detail: { id: `inv-${n}` } };
  return { eventName: 'INSERT', dynamodb: { SequenceNumber: String(100 + n), NewImage: marshall(image) as NonNullable<DynamoDBRecord['dynamodb']>['NewImage'] } };
}

describe('publisher on the table stream', () => {
  test('publishes each new outbox entry once and reports the failed record and every later one for retry', async () => {
    const world = await dynamo.world();
    const published: PublishedEvent[] = [];
    let calls = 0;
    const publisher = {
      publish: async (events: readonly PublishedEvent[]) => {
        calls += 1;
        if (calls === 2) throw new Error('EventBridge throttled');
        published.push(...events);
      },
    };
    const handler = withMiddlewares(createPublisherHandler(() => ({ store: world.store, publisher })));
    const records = [outboxRecord(1), outboxRecord(2), outboxRecord(3)];
    const response = await handler({ Records: records }, lambdaContext('publisher'));
    expect(published.map((event) => event.id)).toEqual(['inv-1']);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: '102' }, { itemIdentifier: '103' }] });

    const retry = await handler({ Records: records.slice(1) }, lambdaContext('publisher'));
    expect(retry).toEqual({ batchItemFailures: [] });
    expect(published.map((event) => event.id)).toEqual(['inv-1', 'inv-2', 'inv-3']);
  });

  test('ignores stream records that are not outbox inserts', async () => {
    const world = await dynamo.world();
    const published: PublishedEvent[] = [];
    const handler = withMiddlewares(createPublisherHandler(() => ({ store: world.store, publisher: { publish: async (events) => void published.push(...events) } })));
    const invoiceRecord: DynamoDBRecord = { eventName: 'INSERT', dynamodb: { SequenceNumber: '1', NewImage: marshall({ pk: 'WS#acme', sk: 'INVOICE#x' }) as NonNullable<DynamoDBRecord['dynamodb']>['NewImage'] } };
    const removal: DynamoDBRecord = { ...outboxRecord(9), eventName: 'REMOVE' };
    expect(await handler({ Records: [invoiceRecord, removal] }, lambdaContext('publisher'))).toEqual({ batchItemFailures: [] });
    expect(published).toEqual([]);
  });
});
