import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { _Record } from '@aws-sdk/client-dynamodb-streams';
import { parseFailedStreamBatch } from '../../shared/contracts/failed-batch';
import { lambdaRecordOf } from '../../shared/runtime/stream-records';

describe('stream records read through the Streams API', () => {
  test('an empty map, which the Streams client hands back as {}, is restored at any depth, so the image unmarshalls', () => {
    const fromSdk = {
      eventName: 'INSERT',
      dynamodb: {
        SequenceNumber: '000000000000000000015',
        Keys: { pk: { S: 'WS#acme' }, sk: { S: 'INVOICE#0000000002' } },
        NewImage: { pk: { S: 'WS#acme' }, top: {}, nested: { M: { inner: {}, list: { L: [{}, { S: 'x' }] } } } },
      },
    } as unknown as _Record;
    const record = lambdaRecordOf(fromSdk);
    expect(record.dynamodb?.NewImage).toEqual({ pk: { S: 'WS#acme' }, top: { M: {} }, nested: { M: { inner: { M: {} }, list: { L: [{ M: {} }, { S: 'x' }] } } } });
    expect(unmarshall(record.dynamodb?.NewImage as Parameters<typeof unmarshall>[0])).toEqual({ pk: 'WS#acme', top: {}, nested: { inner: {}, list: [{}, 'x'] } });
  });
});

describe('on-failure messages of the publisher stream mapping', () => {
  const info = { streamArn: 'arn:aws:dynamodb:us-east-1:111122223333:table/t/stream/2027', shardId: 'shardId-0001', startSequenceNumber: '100', endSequenceNumber: '125', batchSize: 3 };

  test("Lambda's invocation record gives the batch's coordinates", () => {
    const body = JSON.stringify({ version: '1.0', timestamp: '2027-01-01T01:00:00Z', requestContext: { condition: 'MaximumRecordAgeExceeded' }, DDBStreamBatchInfo: info });
    expect(parseFailedStreamBatch(body)).toEqual({ streamArn: info.streamArn, shardId: 'shardId-0001', startSequenceNumber: '100', endSequenceNumber: '125' });
  });

  test('a message that is not one names what is wrong', () => {
    expect(() => parseFailedStreamBatch('not json')).toThrow('message: is not JSON');
    expect(() => parseFailedStreamBatch(JSON.stringify({ DDBStreamBatchInfo: { ...info, shardId: undefined } }))).toThrow(/message\.DDBStreamBatchInfo\.shardId/);
    expect(() => parseFailedStreamBatch(JSON.stringify({ DDBStreamBatchInfo: { ...info, endSequenceNumber: 'x' } }))).toThrow(/endSequenceNumber/);
  });
});
