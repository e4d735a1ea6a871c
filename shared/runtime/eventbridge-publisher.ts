import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { EventPublisher, PublishedEvent } from '../jobs/dependencies';

/** The engine's EventBridge `source`; the ingest rule ignores it so the engine never eats its own events. */
export const ENGINE_SOURCE = 'prorata';

/**
 * Publishes engine events to a bus; fails the call if any entry fails, so the outbox keeps it.
 * The detail carries `eventId`, the outbox entry id: EventBridge's own envelope `id` is new on
 * every PutEvents, so only `eventId` is the same when an entry is retried, and consumers
 * deduplicate on it.
 */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(events: readonly PublishedEvent[]): Promise<void> {
    if (events.length === 0) return;
    const out = await this.client.send(
      new PutEventsCommand({
        Entries: events.map((event) => ({
          EventBusName: this.busName,
          Source: ENGINE_SOURCE,
          DetailType: event.detailType,
          // Last, so a detail field named eventId can never replace the stable id.
          Detail: JSON.stringify({ ...event.detail, eventId: event.id }),
        })),
      }),
    );
    if ((out.FailedEntryCount ?? 0) > 0) throw new Error(`EventBridge rejected ${out.FailedEntryCount} of ${events.length} events`);
  }
}
