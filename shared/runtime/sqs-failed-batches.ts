import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import { parseFailedStreamBatch, type FailedStreamBatch } from '../contracts/failed-batch';
import type { FailedBatchMessage, FailedBatchSource } from '../jobs/publish';
import { logger } from './observability';
import { readFailedBatch } from './stream-records';

/**
 * PublisherFailureDlq as the sweep reads it: up to 10 messages a sweep (each hidden for 5
 * minutes while it is replayed), their records read again from the table's stream.
 */
export class SqsFailedBatchSource implements FailedBatchSource {
  constructor(
    private readonly sqs: SQSClient,
    private readonly streams: DynamoDBStreamsClient,
    private readonly queueUrl: string,
  ) {}

  async receive(): Promise<FailedBatchMessage[]> {
    const out = await this.sqs.send(new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 300 }));
    return (out.Messages ?? []).map((message) => {
      const done = async () => {
        await this.sqs.send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: message.ReceiptHandle }));
      };
      try {
        return { batch: parseFailedStreamBatch(message.Body ?? ''), done };
      } catch (error) {
        logger.error('unreadable message in the publisher failure queue', { messageId: message.MessageId, error: (error as Error).message });
        return { done };
      }
    });
  }

  records(batch: FailedStreamBatch): Promise<DynamoDBRecord[]> {
    return readFailedBatch(this.streams, batch);
  }
}
