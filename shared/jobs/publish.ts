import type { Dependencies } from './dependencies';
import type { OutboxEntry } from '../store/dynamo-store';

/**
 * Publishes outbox entries and then deletes them. In AWS the table's stream hands new
 * entries to this function; a sweep (and the simulator) passes what `listOutbox` finds, so
 * an invoice written just before a crash is still announced. Delivery is at least once:
 * consumers deduplicate on the event's `id` (the invoice id).
 */
export async function publishOutbox(deps: Dependencies, entries: readonly OutboxEntry[]): Promise<number> {
  for (let i = 0; i < entries.length; i += 10) {
    const batch = entries.slice(i, i + 10);
    await deps.publisher.publish(batch.map((entry) => ({ id: entry.id, detailType: entry.detailType, detail: entry.detail })));
    await Promise.all(batch.map((entry) => deps.store.deleteOutbox(entry)));
  }
  return entries.length;
}

/** Publishes everything still in the outbox (the sweeper). */
export async function sweepOutbox(deps: Dependencies): Promise<number> {
  return publishOutbox(deps, await deps.store.listOutbox());
}
