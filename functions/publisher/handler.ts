import { randomUUID } from 'node:crypto';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { parsePublisherInput } from '../../shared/contracts/events';
import type { Dependencies } from '../../shared/jobs/dependencies';
import { publishStreamRecord, replayFailedBatches, sweepOutbox, type FailedBatchSource, type PublishReport, type PublishRun } from '../../shared/jobs/publish';
import { awsDependencies, awsFailedBatchSource } from '../../shared/runtime/aws-dependencies';
import { withMiddlewares } from '../../shared/runtime/middleware';
import { logger } from '../../shared/runtime/observability';

/** The edge's clock and lease length; tests pass a clock to let leases expire without waiting. */
export interface PublisherOptions {
  clock?: () => Date;
  leaseMs?: number;
  /** Where the stream mapping's failed batches wait (PublisherFailureDlq): a sweep replays them. */
  failedBatches?: () => FailedBatchSource | undefined;
}

/**
 * Builds the publisher: the table's stream delivers new invoice items (INSERTs under
 * `INVOICE#`), each announced as `Invoice Issued` with nothing claimed or deleted (the item is
 * its own outbox; a failed put leaves it in the outbox instead), and new outbox entries (INSERTs
 * under `OUTBOX#`: rejections, warnings), which are claimed, published to EventBridge and
 * deleted. Invoked with `{ "sweep": true }` it does the same for whatever the outbox still
 * holds (claims keep the stream and the sweep from ever publishing one entry twice), then replays
 * the stream batches the mapping gave up on, from PublisherFailureDlq (`replayFailedBatches`).
 */
export function createPublisherHandler(deps: () => Dependencies, options: PublisherOptions = {}) {
  return async (input: unknown): Promise<{ published: number; replayed?: number; left?: number } | DynamoDBBatchResponse> => {
    // Validated for shape (a bad payload names its field); the stream records are then read as the SDK types them.
    parsePublisherInput(input);
    const event = input as DynamoDBStreamEvent | { sweep: true };
    // A fresh claimant per invocation, not the request id: Lambda reuses that when it retries.
    const run: PublishRun = { claimant: randomUUID(), clock: options.clock ?? (() => new Date()), leaseMs: options.leaseMs };
    if ('sweep' in event) {
      const report = await sweepOutbox(deps(), run);
      logReport('sweep', report);
      const failed = options.failedBatches?.();
      if (!failed) return { published: report.published };
      const replay = await replayFailedBatches(deps(), failed, run);
      if (replay.replayed > 0 || replay.left > 0) logger[replay.left > 0 ? 'error' : 'info']('failed stream batches replayed', { ...replay });
      return { published: report.published, replayed: replay.replayed, left: replay.left };
    }
    // Partial batch response: a record that fails (and every later one, to keep order) is retried alone.
    for (const [index, record] of event.Records.entries()) {
      try {
        const handled = await publishStreamRecord(deps(), record, run);
        if ('outbox' in handled) logReport('stream', handled.outbox);
        else if (handled.invoices.deferred > 0) logger.warn('invoice announcements left to the outbox sweep', { ...handled.invoices });
      } catch (error) {
        logger.error('publish failed', error as Error);
        return { batchItemFailures: event.Records.slice(index).map((failed) => ({ itemIdentifier: failed.dynamodb?.SequenceNumber ?? '' })) };
      }
    }
    return { batchItemFailures: [] };
  };
}

function logReport(trigger: 'sweep' | 'stream', report: PublishReport): void {
  // Only what needs attention: a lost lease may have meant a duplicate (same eventId), a failed delete waits for a sweep.
  if (report.deleteFailures > 0 || report.lostLeases > 0) logger.warn('outbox entries left behind', { trigger, ...report });
  else if (trigger === 'sweep') logger.info('outbox swept', { ...report });
}

/** The deployed handler. */
export const handler = withMiddlewares(createPublisherHandler(() => awsDependencies(), { failedBatches: () => awsFailedBatchSource() }));
