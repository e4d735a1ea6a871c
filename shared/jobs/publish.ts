import { randomUUID } from 'node:crypto';
import type { Dependencies } from './dependencies';
import type { DynamoDBRecord } from 'aws-lambda';
import type { FailedStreamBatch } from '../contracts/failed-batch';
import { invoiceEventDetail, publisherInsertOf, type InvoiceImage, type OutboxEntry } from '../store/dynamo-store';

/**
 * How long a claim on an outbox entry holds. Longer than the publisher Lambda's timeout (30 s),
 * so a lease only expires once its holder has finished or is dead, never while it publishes.
 */
export const DEFAULT_LEASE_MS = 120_000;

/**
 * Who is publishing and what time it is, read at the edge (the handler) and passed in. The
 * clock is a function because a sweep may run for a while and each claim needs a fresh lease.
 */
export interface PublishRun {
  /** Unique per invocation: only the holder of a claim may mark the entry published or release it. */
  claimant: string;
  clock: () => Date;
  leaseMs?: number;
}

/** What a publisher run did: `published` counts events this run put on the bus. */
export interface PublishReport {
  published: number;
  /** Entries found already published (by this run or an earlier one) and deleted now. */
  cleanedUp: number;
  /** Entries another run holds a lease on, or that are already gone: that run owns them. */
  skipped: number;
  /** Published entries whose delete failed: a later sweep deletes them without publishing again. */
  deleteFailures: number;
  /** Published, but our lease had expired and another run took the entry over. */
  lostLeases: number;
}

/** A run on the wall clock with a fresh claimant id, for callers that are themselves the edge. */
export function systemPublishRun(): PublishRun {
  return { claimant: randomUUID(), clock: () => new Date() };
}

/**
 * Publishes outbox entries at most once each across concurrent publishers, then deletes them.
 * In AWS the table's stream hands new entries to this function; a sweep passes what
 * `listOutbox` finds, so an invoice written just before a crash is still announced.
 *
 * Each entry is claimed first (a conditional write with a lease), put on the bus and deleted by
 * its claimant (a delete conditioned on still holding the claim): two writes per event. Only
 * when that delete fails is the entry marked published instead, so nothing publishes it again
 * and a later run just deletes it. A failed put releases the claim and throws, so the entry is
 * retried. Entries go one per PutEvents call, in order: a rejected batch would not say which of
 * its events were published. The event's `eventId` is the entry id on every attempt, so the one
 * duplicate left possible (a run dying, or its delete and mark both failing, after the put) is
 * recognisable to consumers.
 * Stops at the first failure, leaving later entries for the retry, so they keep their order.
 */
export async function publishOutbox(deps: Dependencies, entries: readonly OutboxEntry[], run: PublishRun): Promise<PublishReport> {
  const report: PublishReport = { published: 0, cleanedUp: 0, skipped: 0, deleteFailures: 0, lostLeases: 0 };
  const leaseMs = run.leaseMs ?? DEFAULT_LEASE_MS;
  const cleanUp = async (entry: OutboxEntry): Promise<boolean> => {
    try {
      await deps.store.deleteOutbox(entry);
      return true;
    } catch {
      // The entry is marked published: leaving it costs a later sweep one delete, never a publish.
      report.deleteFailures += 1;
      return false;
    }
  };

  for (const entry of entries) {
    if (entry.publishedAt) {
      if (await cleanUp(entry)) report.cleanedUp += 1;
      continue;
    }
    const now = run.clock().getTime();
    const claim = await deps.store.claimOutbox(entry, run.claimant, now, now + leaseMs);
    if (claim === 'taken' || claim === 'gone') {
      report.skipped += 1;
      continue;
    }
    if (claim === 'published') {
      if (await cleanUp(entry)) report.cleanedUp += 1;
      continue;
    }
    try {
      await deps.publisher.publish([{ id: entry.id, detailType: entry.detailType, detail: entry.detail }]);
    } catch (error) {
      // If the release fails too, the lease expires and the entry is published then.
      await deps.store.releaseOutbox(entry, run.claimant).catch(() => undefined);
      throw error;
    }
    report.published += 1;
    try {
      await deps.store.deleteOutbox(entry, run.claimant);
      continue;
    } catch {
      // Not deleted (a failed request, or our lease was taken over): the mark says which.
    }
    if (await deps.store.markOutboxPublished(entry, run.claimant, run.clock().toISOString())) await cleanUp(entry);
    else report.lostLeases += 1;
  }
  return report;
}

/** Publishes everything still in the outbox (the sweeper) and deletes what was published but not deleted. */
export async function sweepOutbox(deps: Dependencies, run: PublishRun = systemPublishRun()): Promise<PublishReport> {
  return publishOutbox(deps, await deps.store.listOutbox(), run);
}

/** What announcing invoices from the stream did. */
export interface InvoiceReport {
  /** `Invoice Issued` events put on the bus. */
  published: number;
  /** Invoices whose put failed and that were left in the outbox instead, for the sweep to publish. */
  deferred: number;
}

/**
 * Announces invoices the table's stream delivered (their item's INSERT; `publisherInsertOf`):
 * one `Invoice Issued` each, with the invoice id as `eventId`, in order. The invoice item is its
 * own outbox, so nothing is claimed or deleted: the stream delivers each record until its batch
 * succeeds, and the one duplicate this allows (a batch retried after some of its puts) carries
 * the same `eventId`, which consumers deduplicate on (EventBridge itself delivers at least once).
 * When a put fails the event goes to the outbox (one conditional write, the entry id being the
 * invoice id), where the sweep publishes it with claims; only when that write fails too does
 * this throw, and the stream delivers the record again.
 */
export async function publishInvoices(deps: Dependencies, images: readonly InvoiceImage[]): Promise<InvoiceReport> {
  const report: InvoiceReport = { published: 0, deferred: 0 };
  for (const image of images) {
    const invoice = await deps.store.invoiceFromImage(image);
    const detail = invoiceEventDetail(invoice);
    try {
      await deps.publisher.publish([{ id: invoice.id, detailType: 'Invoice Issued', detail }]);
      report.published += 1;
    } catch {
      // Ordered by the invoice's date, as the stream had it, for a sweep of a catch-up's invoices.
      await deps.store.enqueueEvent(invoice.id, 'Invoice Issued', detail, image.issuedAt, invoice.date);
      report.deferred += 1;
    }
  }
  return report;
}

/**
 * Handles one record of the table's stream as the publisher's mapping delivers it: an invoice's
 * insert is announced (`publishInvoices`), an outbox entry's insert claimed and published
 * (`publishOutbox`); any other record is skipped. Throws when the record must be delivered again.
 */
export async function publishStreamRecord(deps: Dependencies, record: DynamoDBRecord, run: PublishRun): Promise<{ invoices: InvoiceReport } | { outbox: PublishReport }> {
  const insert = publisherInsertOf(record);
  if (insert && 'invoice' in insert) return { invoices: await publishInvoices(deps, [insert.invoice]) };
  return { outbox: await publishOutbox(deps, insert ? [insert.outbox] : [], run) };
}

/** A failed stream batch waiting in the on-failure queue, and how to remove it once replayed. */
export interface FailedBatchMessage {
  /** The batch's coordinates; undefined when the message could not be read (it is kept, and counted). */
  batch?: FailedStreamBatch;
  /** Deletes the message. */
  done(): Promise<void>;
}

/** Where failed stream batches wait (PublisherFailureDlq) and how their records are read again. */
export interface FailedBatchSource {
  /** Up to a handful of messages, each hidden from other readers while this run handles it. */
  receive(): Promise<FailedBatchMessage[]>;
  /** The batch's records, read again from the stream; throws once the stream no longer has them. */
  records(batch: FailedStreamBatch): Promise<DynamoDBRecord[]>;
}

/** What replaying failed stream batches did. */
export interface ReplayReport {
  /** Batches whose every record was handled, and whose message was deleted. */
  replayed: number;
  /** Batches left in the queue (records no longer in the stream, a record failing again, an unreadable message). */
  left: number;
  invoicesPublished: number;
}

/**
 * Replays the stream batches the event source mapping gave up on (it retries a failing record
 * for an hour, then sends the batch's coordinates to PublisherFailureDlq): each batch's records
 * are read again from the stream, which keeps them 24 hours, and handled as the stream path does
 * (invoices announced, outbox entries claimed and published), then the message is deleted. A
 * batch that fails again, or whose records are gone, stays in the queue, where its depth alarm
 * keeps firing: nothing is dropped without someone seeing it.
 */
export async function replayFailedBatches(deps: Dependencies, source: FailedBatchSource, run: PublishRun): Promise<ReplayReport> {
  const report: ReplayReport = { replayed: 0, left: 0, invoicesPublished: 0 };
  for (const message of await source.receive()) {
    if (!message.batch) {
      report.left += 1;
      continue;
    }
    try {
      for (const record of await source.records(message.batch)) {
        const handled = await publishStreamRecord(deps, record, run);
        if ('invoices' in handled) report.invoicesPublished += handled.invoices.published;
      }
    } catch {
      report.left += 1;
      continue;
    }
    await message.done();
    report.replayed += 1;
  }
  return report;
}
