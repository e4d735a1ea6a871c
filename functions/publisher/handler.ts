import type { DynamoDBStreamEvent } from 'aws-lambda';
import type { Dependencies } from '../../shared/jobs/dependencies';
import { publishOutbox, sweepOutbox } from '../../shared/jobs/publish';
import { awsDependencies } from '../../shared/runtime/aws-dependencies';
import { withMiddlewares } from '../../shared/runtime/middleware';
import { outboxEntriesFromStream } from '../../shared/store/dynamo-store';

/**
 * Builds the publisher: the table's stream delivers new outbox entries (INSERTs under
 * `OUTBOX#`), which are published to EventBridge and deleted. Invoked with `{ "sweep": true }`
 * it publishes whatever the outbox still holds.
 */
export function createPublisherHandler(deps: () => Dependencies) {
  return async (event: DynamoDBStreamEvent | { sweep: true }): Promise<{ published: number }> => {
    if ('sweep' in event) return { published: await sweepOutbox(deps()) };
    return { published: await publishOutbox(deps(), outboxEntriesFromStream(event.Records)) };
  };
}

/** The deployed handler. */
export const handler = withMiddlewares(createPublisherHandler(() => awsDependencies()));
