import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import type { WorkMessage } from '../shared/contracts/work-message';
import { SEND_BATCH_SIZE, type WorkQueue } from '../shared/jobs/fan-out';

/** How the in-process queue behaves; the defaults are the stack's queue settings, scaled for local runs. */
export interface InProcessQueueOptions {
  /** A received message is invisible this long; unless deleted, it is received again after it. */
  visibilityTimeoutMs?: number;
  /** The redrive policy: a message received this many times without being deleted goes to `deadLetters` on its next receive. */
  maxReceiveCount?: number;
}

interface StoredMessage {
  messageId: string;
  body: string;
  sentAt: number;
  receiveCount: number;
  visibleAt: number;
  /** The receipt of its latest receive: only that one deletes it, as in SQS. */
  receipt?: string;
}

/** What draining the queue did. */
export interface DrainStats {
  /** Handler invocations (batches). */
  invocations: number;
  /** Invocations that threw (a crash: none of their messages was deleted). */
  crashes: number;
  /** Messages deleted after being processed. */
  deleted: number;
  /** Messages reported as batch item failures. */
  itemFailures: number;
}

/** A handler as the event source mapping invokes it. */
export type QueueHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

/**
 * A work queue in this process with the semantics of an SQS standard queue under a Lambda event
 * source mapping with `ReportBatchItemFailures`: a received message stays in the queue, invisible
 * for the visibility timeout, and is received again unless deleted; the mapping deletes a batch's
 * messages except those the handler reports as failed, and none when the handler throws; each
 * receive counts, and a message received `maxReceiveCount` times goes to the dead-letter queue at
 * its next receive instead. Messages may be delivered more than once (a slow batch outliving its
 * visibility timeout is received again meanwhile), as in SQS.
 *
 * It stands in for SQS where no local SQS-compatible server can be installed from the registries:
 * ElasticMQ is a JVM jar not published on npm, and the npm packages that emulate SQS
 * (`local-aws-sqs`, `sqslite`) speak only the query/XML protocol that the current AWS SDK v3
 * SQS client no longer sends (it uses the JSON protocol).
 */
export class InProcessQueue implements WorkQueue {
  private readonly visibilityTimeoutMs: number;
  private readonly maxReceiveCount: number;
  private readonly messages = new Map<string, StoredMessage>();
  /** Messages moved by the redrive policy, with their receive count. */
  readonly deadLetters: Array<{ messageId: string; body: WorkMessage; receiveCount: number }> = [];
  /** `SendMessageBatch` calls and messages accepted, for counting requests. */
  readonly sent = { calls: 0, messages: 0 };
  /** Tests: refuse a message on send (a partial batch failure), as SQS may. */
  refuse: (message: WorkMessage) => boolean = () => false;

  constructor(options: InProcessQueueOptions = {}) {
    this.visibilityTimeoutMs = options.visibilityTimeoutMs ?? 30_000;
    this.maxReceiveCount = options.maxReceiveCount ?? 5;
  }

  async sendBatch(messages: readonly WorkMessage[]): Promise<{ failed: number[] }> {
    if (messages.length > SEND_BATCH_SIZE) throw new Error(`TooManyEntriesInBatchRequest: ${messages.length} entries, at most ${SEND_BATCH_SIZE}`);
    this.sent.calls += 1;
    const failed: number[] = [];
    messages.forEach((message, index) => {
      if (this.refuse(message)) {
        failed.push(index);
        return;
      }
      const messageId = randomUUID();
      this.messages.set(messageId, { messageId, body: JSON.stringify(message), sentAt: Date.now(), receiveCount: 0, visibleAt: 0 });
      this.sent.messages += 1;
    });
    return { failed };
  }

  /** Messages in the queue, visible or in flight (not those in the dead-letter queue). */
  get depth(): number {
    return this.messages.size;
  }

  /** Receives up to `max` visible messages as an SQS event's records. */
  receive(max: number, now = Date.now()): SQSRecord[] {
    const records: SQSRecord[] = [];
    for (const message of this.messages.values()) {
      if (records.length >= max) break;
      if (message.visibleAt > now) continue;
      if (message.receiveCount >= this.maxReceiveCount) {
        this.messages.delete(message.messageId);
        this.deadLetters.push({ messageId: message.messageId, body: JSON.parse(message.body) as WorkMessage, receiveCount: message.receiveCount });
        continue;
      }
      message.receiveCount += 1;
      message.visibleAt = now + this.visibilityTimeoutMs;
      message.receipt = `${message.messageId}#${message.receiveCount}`;
      records.push(recordOf(message));
    }
    return records;
  }

  /** Deletes a message by the receipt of its latest receive (an older receipt deletes nothing). */
  delete(receiptHandle: string): boolean {
    const messageId = receiptHandle.split('#')[0];
    const message = this.messages.get(messageId);
    if (!message || message.receipt !== receiptHandle) return false;
    this.messages.delete(messageId);
    return true;
  }

  /**
   * Runs the event source mapping until the queue is empty: `concurrency` pollers (the mapping's
   * `MaximumConcurrency`) each receive up to `batchSize` messages, invoke `handler`, and delete
   * what it did not report failed (nothing, if it threw). Failed messages come back after the
   * visibility timeout. `options.handlerFor(i)` may give invocation `i` its own handler (a worker
   * that crashes, then healthy ones). `options.failFast` (the simulator, where no failure is
   * expected) rejects at the first failure, naming it, instead of waiting for redeliveries.
   */
  async drain(
    handler: QueueHandler,
    options: { batchSize?: number; concurrency?: number; context?: Context; handlerFor?: (invocation: number) => QueueHandler; failFast?: boolean } = {},
  ): Promise<DrainStats> {
    const batchSize = options.batchSize ?? 10;
    const stats: DrainStats = { invocations: 0, crashes: 0, deleted: 0, itemFailures: 0 };
    const context = options.context ?? ({ functionName: 'prorata-worker', awsRequestId: 'local', getRemainingTimeInMillis: () => 900_000 } as Context);
    const handlerOf = (invocation: number): QueueHandler => options.handlerFor?.(invocation) ?? handler;
    let stopped = false;
    const poller = async () => {
      while (this.messages.size > 0 && !stopped) {
        const records = this.receive(batchSize);
        if (records.length === 0) {
          const next = Math.min(...[...this.messages.values()].map((message) => message.visibleAt));
          await sleep(Math.max(1, Math.min(next - Date.now(), 50)));
          continue;
        }
        const invocation = stats.invocations++;
        let failedIds: Set<string>;
        try {
          const response = await handlerOf(invocation)({ Records: records }, context);
          failedIds = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
        } catch (error) {
          stats.crashes += 1;
          if (options.failFast) {
            stopped = true;
            throw error;
          }
          continue;
        }
        if (options.failFast && failedIds.size > 0) {
          stopped = true;
          throw new Error(
            `work messages failed: ${records
              .filter((record) => failedIds.has(record.messageId))
              .map((record) => record.body)
              .join(', ')}`,
          );
        }
        for (const record of records) {
          if (failedIds.has(record.messageId)) stats.itemFailures += 1;
          else if (this.delete(record.receiptHandle)) stats.deleted += 1;
        }
      }
    };
    await Promise.all(Array.from({ length: options.concurrency ?? 1 }, poller));
    return stats;
  }
}

function recordOf(message: StoredMessage): SQSRecord {
  return {
    messageId: message.messageId,
    receiptHandle: message.receipt ?? '',
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(message.receiveCount),
      SentTimestamp: String(message.sentAt),
      SenderId: 'local',
      ApproximateFirstReceiveTimestamp: String(message.sentAt),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:local:000000000000:prorata-work',
    awsRegion: 'local',
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
