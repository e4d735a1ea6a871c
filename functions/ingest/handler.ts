import type { EventBridgeEvent } from 'aws-lambda';
import { describeZodError, envelopeSchema, parseAppEvent } from '../../shared/contracts/events';
import { ingestEvent, type IngestOutcome } from '../../shared/jobs/ingest';
import type { Dependencies } from '../../shared/jobs/dependencies';
import { awsDependencies } from '../../shared/runtime/aws-dependencies';
import { withMiddlewares } from '../../shared/runtime/middleware';
import { logger } from '../../shared/runtime/observability';

/** The app's event as EventBridge delivers it. */
export type AppEventEnvelope = EventBridgeEvent<string, Record<string, unknown>>;

/**
 * Builds the ingest handler: validates the envelope and the detail for its type (an
 * invalid event throws a `ValidationError` naming the field, so it is retried and lands in
 * the DLQ, never dropped) and hands it to the ingest job.
 */
export function createIngestHandler(deps: () => Dependencies) {
  return async (event: AppEventEnvelope): Promise<IngestOutcome> => {
    const envelope = envelopeSchema.safeParse(event);
    if (!envelope.success) throw describeZodError(envelope.error, 'event');
    const appEvent = parseAppEvent(envelope.data.id, envelope.data['detail-type'], envelope.data.time, envelope.data.detail);
    const outcome = await ingestEvent(deps(), appEvent);
    logger.info('event ingested', { type: appEvent.type, workspace: appEvent.workspace, outcome: outcome.status });
    return outcome;
  };
}

/** The deployed handler. */
export const handler = withMiddlewares(createIngestHandler(() => awsDependencies()));
