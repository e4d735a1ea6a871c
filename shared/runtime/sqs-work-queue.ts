import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { WorkMessage } from '../contracts/work-message';
import type { WorkQueue } from '../jobs/fan-out';

/** The deployed work queue: one `SendMessageBatch` per call (at most 10 messages, as SQS allows). */
export class SqsWorkQueue implements WorkQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async sendBatch(messages: readonly WorkMessage[]): Promise<{ failed: number[] }> {
    if (messages.length === 0) return { failed: [] };
    const out = await this.client.send(
      new SendMessageBatchCommand({
        QueueUrl: this.queueUrl,
        // Entry ids are positions: they only map SQS's per-entry answers back to the messages.
        Entries: messages.map((message, index) => ({ Id: String(index), MessageBody: JSON.stringify(message) })),
      }),
    );
    return { failed: (out.Failed ?? []).map((entry) => Number(entry.Id)) };
  }
}
