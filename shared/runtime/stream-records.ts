import { type DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand, type _Record } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import type { FailedStreamBatch } from '../contracts/failed-batch';

type Image = NonNullable<NonNullable<DynamoDBRecord['dynamodb']>['NewImage']>;
type Attribute = Image[string];

/**
 * An attribute value as DynamoDB sends it. The Streams client deserialises an empty map
 * (`{"M":{}}`) to `{}`, which `unmarshall` then refuses ("No value defined"); Lambda's own event
 * keeps it. Maps and lists are walked, so a nested empty map is restored too.
 */
function attributeOf(value: Attribute): Attribute {
  if (value.M !== undefined) return { M: imageOf(value.M) ?? {} };
  if (value.L !== undefined) return { L: value.L.map(attributeOf) };
  return Object.keys(value).length === 0 ? { M: {} } : value;
}

function imageOf(image: Image | undefined): Image | undefined {
  if (!image) return undefined;
  return Object.fromEntries(Object.entries(image).map(([name, value]) => [name, attributeOf(value)]));
}

/** A record as the DynamoDB Streams API returns it, in the shape Lambda hands a stream consumer. */
export function lambdaRecordOf(record: _Record): DynamoDBRecord {
  const data = record.dynamodb;
  return {
    eventID: record.eventID,
    eventName: record.eventName as DynamoDBRecord['eventName'],
    eventSource: record.eventSource,
    eventVersion: record.eventVersion,
    awsRegion: record.awsRegion,
    dynamodb: {
      ...(data?.ApproximateCreationDateTime ? { ApproximateCreationDateTime: Math.floor(data.ApproximateCreationDateTime.getTime() / 1000) } : {}),
      Keys: imageOf(data?.Keys as Image | undefined),
      NewImage: imageOf(data?.NewImage as Image | undefined),
      SequenceNumber: data?.SequenceNumber,
      SizeBytes: data?.SizeBytes,
      StreamViewType: data?.StreamViewType as NonNullable<DynamoDBRecord['dynamodb']>['StreamViewType'],
    },
  };
}

/**
 * The records of one failed stream batch, read again from the stream (`AT_SEQUENCE_NUMBER` its
 * first, up to and including its last): what the event source mapping gave up on, while the
 * stream still holds it (24 hours). Throws when it no longer does (`TrimmedDataAccessException`).
 */
export async function readFailedBatch(client: DynamoDBStreamsClient, batch: FailedStreamBatch): Promise<DynamoDBRecord[]> {
  const end = BigInt(batch.endSequenceNumber);
  let iterator = (
    await client.send(new GetShardIteratorCommand({ StreamArn: batch.streamArn, ShardId: batch.shardId, ShardIteratorType: 'AT_SEQUENCE_NUMBER', SequenceNumber: batch.startSequenceNumber }))
  ).ShardIterator;
  const records: DynamoDBRecord[] = [];
  while (iterator) {
    const out = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
    const page = out.Records ?? [];
    for (const record of page) {
      if (BigInt(record.dynamodb?.SequenceNumber ?? '0') > end) return records;
      records.push(lambdaRecordOf(record));
    }
    // An open shard always has a next iterator: an empty page means the batch's end was read.
    if (page.length === 0) return records;
    iterator = out.NextShardIterator;
  }
  return records;
}
