import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import type { Dependencies } from '../../shared/jobs/dependencies';
import { publishOutbox, sweepOutbox } from '../../shared/jobs/publish';
import { awsDependencies } from '../../shared/runtime/aws-dependencies';
import { withMiddlewares } from '../../shared/runtime/middleware';
import { logger } from '../../shared/runtime/observability';
import { outboxEntriesFromStream } from '../../shared/store/dynamo-store';

/**
 * Builds the publisher: the table's stream delivers new outbox entries (INSERTs under
 * `OUTBOX#`), which are published to EventBridge and deleted. Invoked with `{ "sweep": true }`
 * it publishes whatever the outbox still holds.
 */
export function createPublisherHandler(deps: () => Dependencies) {
  return async (event: DynamoDBStreamEvent | { sweep: true }): Promise<{ published: number } | DynamoDBBatchResponse> => {
    if ('sweep' in event) return { published: await sweepOutbox(deps()) };
    // Partial batch response: a record that fails (and every later one, to keep order) is retried alone.
    for (const [index, record] of event.Records.entries()) {
      try {
        await publishOutbox(deps(), outboxEntriesFromStream([record]));
      } catch (error) {
        logger.error('publish failed', error as Error);
        return { batchItemFailures: event.Records.slice(index).map((failed) => ({ itemIdentifier: failed.dynamodb?.SequenceNumber ?? '' })) };
      }
    }
    return { batchItemFailures: [] };
  };
}

/** The deployed handler. */
export const handler = withMiddlewares(createPublisherHandler(() => awsDependencies()));
