/**
 * The publisher against DynamoDB Local. Invoices are announced from their item's insert on the
 * table's stream, with nothing claimed or written; a failed put leaves the event in the outbox.
 * Outbox entries are claimed by the stream path and the sweep before publishing, so however they
 * interleave, fail or retry, every event reaches the bus once, always with the same `eventId`.
 */
import { EventBridgeClient, type PutEventsCommandInput } from '@aws-sdk/client-eventbridge';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import { createPublisherHandler, type PublisherOptions } from '../../functions/publisher/handler';
import { runBillingJob } from '../../shared/jobs/billing-jobs';
import type { Dependencies, EventPublisher, PublishedEvent } from '../../shared/jobs/dependencies';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { parseFailedStreamBatch } from '../../shared/contracts/failed-batch';
import { DEFAULT_LEASE_MS, type FailedBatchSource } from '../../shared/jobs/publish';
import { readFailedBatch } from '../../shared/runtime/stream-records';
import { EventBridgePublisher } from '../../shared/runtime/eventbridge-publisher';
import { withMiddlewares } from '../../shared/runtime/middleware';
import type { BillingStore, OutboxEntry } from '../../shared/store/dynamo-store';
import { issued, lambdaContext, makeWorkspace, seed, setupDynamo, subscribe, type World } from './harness';

const dynamo = setupDynamo();

const JOIN = '2026-12-23T09:00:00Z';
const START = '2026-12-23T10:00:00Z';

type StreamImage = NonNullable<DynamoDBRecord['dynamodb']>['NewImage'];

/** The INSERT record the table's stream delivers for an outbox entry. */
function insertRecord(entry: OutboxEntry, sequence: number): DynamoDBRecord {
  const image = { pk: entry.pk, sk: entry.sk, id: entry.id, detailType: entry.detailType, detail: entry.detail };
  return { eventName: 'INSERT', dynamodb: { SequenceNumber: String(sequence), NewImage: marshall(image) as StreamImage } };
}

/** The stream records of everything now in the outbox, in table order. */
async function streamRecords(store: BillingStore): Promise<DynamoDBRecord[]> {
  return (await store.listOutbox()).map((entry, index) => insertRecord(entry, 100 + index));
}

/** The table stream's new publisher records (invoice and outbox inserts), read from DynamoDB Local and taken. */
async function tableStream(w: World): Promise<DynamoDBRecord[]> {
  const records: DynamoDBRecord[] = [];
  await w.stream.deliver(async (event) => {
    records.push(...event.Records);
    return { batchItemFailures: [] };
  });
  return records;
}

function publisherHandler(deps: Dependencies, options?: PublisherOptions) {
  return withMiddlewares(createPublisherHandler(() => deps, options));
}

async function stream(deps: Dependencies, records: DynamoDBRecord[], options?: PublisherOptions): Promise<DynamoDBBatchResponse> {
  return (await publisherHandler(deps, options)({ Records: records }, lambdaContext('publisher'))) as DynamoDBBatchResponse;
}

async function sweep(deps: Dependencies, options?: PublisherOptions): Promise<{ published: number }> {
  return (await publisherHandler(deps, options)({ sweep: true }, lambdaContext('publisher'))) as { published: number };
}

/** `n` workspaces that each got their first invoice (and so an outbox entry) on Dec 23. */
async function invoicedWorkspaces(w: World, n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => `ws-${i + 1}`);
  await seed(
    w.store,
    ids.map((id) => makeWorkspace({ id, name: id })),
  );
  for (const id of ids) await subscribe(w.deps, id, JOIN, START);
  return ids;
}

/** How many times each event id was published. */
function publishCounts(published: readonly PublishedEvent[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const event of published) counts.set(event.id, (counts.get(event.id) ?? 0) + 1);
  return counts;
}

/** A publisher that records into `published` and throws on the calls `fails` picks. */
function flakyPublisher(published: PublishedEvent[], fails: (call: number) => boolean): EventPublisher {
  let calls = 0;
  return {
    publish: async (events) => {
      calls += 1;
      if (fails(calls)) throw new Error(`EventBridge throttled call ${calls}`);
      published.push(...events);
    },
  };
}

describe('publisher on the table stream', () => {
  test('publishes each new outbox entry once and reports the failed record and every later one for retry', async () => {
    const w = await dynamo.world();
    for (const n of [1, 2, 3]) await w.store.enqueueEvent(`inv-${n}`, 'Invoice Issued', { id: `inv-${n}` }, '2027-01-01T00:05:00Z');
    const records = await streamRecords(w.store);
    const published: PublishedEvent[] = [];
    const deps = { store: w.store, publisher: flakyPublisher(published, (call) => call === 2) };

    const response = await stream(deps, records);
    expect(published.map((event) => event.id)).toEqual(['inv-1']);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: '101' }, { itemIdentifier: '102' }] });

    // The failed put released its claim: the retry need not wait for the lease to expire.
    expect(await stream(deps, records.slice(1))).toEqual({ batchItemFailures: [] });
    expect(published.map((event) => event.id)).toEqual(['inv-1', 'inv-2', 'inv-3']);
    expect(await w.store.listOutbox()).toEqual([]);

    // The stream delivers at least once: a redelivered record finds its entry gone and publishes nothing.
    expect(await stream(deps, records)).toEqual({ batchItemFailures: [] });
    expect(published).toHaveLength(3);
  });

  test('ignores stream records that are not invoice or outbox inserts', async () => {
    const w = await dynamo.world();
    await w.store.enqueueEvent('inv-9', 'Invoice Issued', { id: 'inv-9' }, '2027-01-01T00:05:00Z');
    const [outbox] = await streamRecords(w.store);
    const notAnInvoice: DynamoDBRecord = { eventName: 'INSERT', dynamodb: { SequenceNumber: '1', NewImage: marshall({ pk: 'WS#acme', sk: 'INVOICE#x' }) as StreamImage } };
    const subscription: DynamoDBRecord = { eventName: 'INSERT', dynamodb: { SequenceNumber: '2', NewImage: marshall({ pk: 'WS#acme', sk: 'SUB#x', invoice: { id: 'x' } }) as StreamImage } };
    const removal: DynamoDBRecord = { ...outbox, eventName: 'REMOVE' };
    expect(await stream(w.deps, [notAnInvoice, subscription, removal])).toEqual({ batchItemFailures: [] });
    expect(w.published).toEqual([]);
    expect(await w.store.listOutbox()).toHaveLength(1);
  });

  test('invoice inserts announce each invoice once, beside two concurrent sweeps, and write nothing; a redelivered record repeats its eventId', async () => {
    const w = await dynamo.world();
    await invoicedWorkspaces(w, 6);
    await runBillingJob(w.deps, 'invoicing', { scheduledTime: '2027-01-01T00:05:00Z' });
    const records = await tableStream(w);
    const invoiceIds = (await Promise.all(['ws-1', 'ws-2', 'ws-3', 'ws-4', 'ws-5', 'ws-6'].map((id) => w.store.listInvoices(id)))).flat().map((invoice) => invoice.id);
    expect(records).toHaveLength(12);
    expect(await w.store.listOutbox()).toEqual([]);
    const before = await w.scan();

    // Each invocation has its own client, as concurrent Lambdas would; they share the bus.
    const chunks = [records.slice(0, 4), records.slice(4, 8), records.slice(8)];
    const responses = await Promise.all([...chunks.map((chunk) => stream(w.newDeps(), chunk)), sweep(w.newDeps()), sweep(w.newDeps())]);

    expect(responses).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }, { batchItemFailures: [] }, { published: 0 }, { published: 0 }]);
    expect([...publishCounts(w.published)].sort()).toEqual(invoiceIds.map((id) => [id, 1]).sort());
    expect(issued(w.published).every((invoice) => invoice.number.length > 0)).toBe(true);
    // The invoice item is its own outbox: nothing was claimed, marked or deleted.
    expect(await w.scan()).toEqual(before);

    // The stream delivers at least once: a batch retried after its puts announces them again, under the same eventId.
    expect(await stream(w.newDeps(), chunks[0])).toEqual({ batchItemFailures: [] });
    const again = new Set(chunks[0].map((record) => String(record.dynamodb?.NewImage?.invoice.M?.id.S)));
    expect(again.size).toBe(4);
    expect([...publishCounts(w.published)].sort()).toEqual(invoiceIds.map((id) => [id, again.has(id) ? 2 : 1]).sort());
  });

  test('failing deletes never publish twice: redelivery and a later sweep only clean up', async () => {
    const w = await dynamo.world();
    for (const n of [1, 2, 3, 4]) await w.store.enqueueEvent(`rej-${n}`, 'Change Rejected', { id: `rej-${n}` }, '2027-01-01T00:05:00Z');
    const records = await streamRecords(w.store);
    const failingDeletes = w.newStore();
    failingDeletes.deleteOutbox = async () => {
      throw new Error('DynamoDB throttled the delete');
    };
    const broken: Dependencies = { store: failingDeletes, publisher: w.deps.publisher };

    // Published, marked, not deleted: the records still succeed (the event is on the bus).
    expect(await stream(broken, records)).toEqual({ batchItemFailures: [] });
    expect([...publishCounts(w.published).values()]).toEqual([1, 1, 1, 1]);
    const left = await w.store.listOutbox();
    expect(left).toHaveLength(4);
    expect(left.every((entry) => typeof entry.publishedAt === 'string')).toBe(true);

    // The stream redelivers, and a sweep also still sees them: neither publishes again.
    expect(await stream(broken, records)).toEqual({ batchItemFailures: [] });
    expect(await sweep({ store: failingDeletes, publisher: w.deps.publisher })).toEqual({ published: 0 });
    expect(w.published).toHaveLength(4);

    // Once deletes work again, a sweep deletes them without publishing.
    expect(await sweep(w.newDeps())).toEqual({ published: 0 });
    expect(await w.store.listOutbox()).toEqual([]);
    expect([...publishCounts(w.published).values()]).toEqual([1, 1, 1, 1]);
  });

  test('failing PutEvents: an invoice whose put failed waits in the outbox, and the stream and concurrent sweeps then publish it once', async () => {
    const w = await dynamo.world();
    await invoicedWorkspaces(w, 5);
    await runBillingJob(w.deps, 'invoicing', { scheduledTime: '2027-01-01T00:05:00Z' });
    const records = await tableStream(w);
    const ids = records.map((record) => String(record.dynamodb?.NewImage?.invoice.M?.id.S));
    expect(ids).toHaveLength(10);

    const published: PublishedEvent[] = [];
    // Every third PutEvents (stream and sweep alike) fails.
    const bus = flakyPublisher(published, (call) => call % 3 === 0);
    // No invoice record fails: a failed put is handed to the outbox instead.
    expect(await stream({ store: w.newStore(), publisher: bus }, records)).toEqual({ batchItemFailures: [] });
    const deferred = await w.store.listOutbox();
    expect(deferred.length).toBeGreaterThan(0);
    expect(deferred.every((entry) => entry.detailType === 'Invoice Issued' && ids.includes(entry.id))).toBe(true);

    // The entries' own inserts reach the stream while sweeps run: claims keep them to one publish each.
    let pending = await tableStream(w);
    const sweeping = sweep({ store: w.newStore(), publisher: bus }).catch(() => ({ published: 0 }));
    for (let rounds = 0; pending.length > 0; rounds += 1) {
      expect(rounds).toBeLessThan(20);
      const { batchItemFailures } = await stream({ store: w.newStore(), publisher: bus }, pending);
      const failed = new Set(batchItemFailures.map((failure) => failure.itemIdentifier));
      pending = pending.filter((record) => failed.has(String(record.dynamodb?.SequenceNumber)));
    }
    await sweeping;
    // Whatever a failed sweep released (while the stream skipped it as taken) the next sweep publishes.
    for (let sweeps = 0; (await w.store.listOutbox()).length > 0; sweeps += 1) {
      expect(sweeps).toBeLessThan(20);
      await sweep({ store: w.newStore(), publisher: bus }).catch(() => undefined);
    }

    expect([...publishCounts(published)].sort()).toEqual(ids.map((id) => [id, 1]).sort());
  });

  test('stream batches the mapping gave up on are replayed by the sweep from the stream: announced once, the message deleted; a batch no longer in the stream stays', async () => {
    const w = await dynamo.world();
    await invoicedWorkspaces(w, 2);
    // The mapping took the two invoice inserts and gave up on them (an hour of failures): only their coordinates are left.
    const records = await tableStream(w);
    expect(records).toHaveLength(2);
    const { streamArn, shards } = await w.stream.describe();
    const sequence = (record: DynamoDBRecord) => String(record.dynamodb?.SequenceNumber);
    const batch = { streamArn, shardId: shards[0], startSequenceNumber: sequence(records[0]), endSequenceNumber: sequence(records[1]) };
    const message = (body: string) => ({ body, deleted: false });
    const queue = [
      message(JSON.stringify({ version: '1.0', requestContext: { condition: 'MaximumRecordAgeExceeded' }, DDBStreamBatchInfo: { ...batch, batchSize: 2 } })),
      message(JSON.stringify({ DDBStreamBatchInfo: { ...batch, shardId: 'shardId-00000000000000000000-gone' } })),
      message('{"not":"a batch"}'),
    ];
    const streams = new DynamoDBStreamsClient({ endpoint: w.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const source: FailedBatchSource = {
      receive: async () =>
        queue
          .filter((entry) => !entry.deleted)
          .map((entry) => {
            const done = async () => void (entry.deleted = true);
            try {
              return { batch: parseFailedStreamBatch(entry.body), done };
            } catch {
              return { done };
            }
          }),
      records: (failed) => readFailedBatch(streams, failed),
    };

    const sweepWithReplay = () => publisherHandler(w.deps, { failedBatches: () => source })({ sweep: true }, lambdaContext('publisher'));
    expect(await sweepWithReplay()).toEqual({ published: 0, replayed: 1, left: 2 });
    const ids = (await Promise.all(['ws-1', 'ws-2'].map((id) => w.store.listInvoices(id)))).flat().map((invoice) => invoice.id);
    expect([...publishCounts(w.published)].sort()).toEqual(ids.map((id) => [id, 1]).sort());
    expect(queue.map((entry) => entry.deleted)).toEqual([true, false, false]);
    // The next sweep tries what is left again, and publishes nothing twice.
    expect(await sweepWithReplay()).toEqual({ published: 0, replayed: 0, left: 2 });
    expect(w.published).toHaveLength(2);
    streams.destroy();
  });

  test('a publisher that dies holding a claim: others skip the entry until its lease expires, then publish it once', async () => {
    const w = await dynamo.world();
    await w.store.enqueueEvent('inv-1', 'Invoice Issued', { id: 'inv-1' }, '2027-01-01T00:05:00Z');
    const [entry] = await w.store.listOutbox();
    const now = Date.parse('2027-01-01T00:06:00Z');
    expect(await w.store.claimOutbox(entry, 'dead-lambda', now, now + DEFAULT_LEASE_MS)).toBe('claimed');

    const at = (ms: number) => ({ clock: () => new Date(ms) });
    expect(await stream(w.deps, [insertRecord(entry, 1)], at(now + 1000))).toEqual({ batchItemFailures: [] });
    expect(await sweep(w.deps, at(now + DEFAULT_LEASE_MS - 1))).toEqual({ published: 0 });
    expect(w.published).toEqual([]);

    expect(await sweep(w.deps, at(now + DEFAULT_LEASE_MS + 1))).toEqual({ published: 1 });
    expect(await sweep(w.deps, at(now + DEFAULT_LEASE_MS + 2))).toEqual({ published: 0 });
    expect(w.published.map((event) => event.id)).toEqual(['inv-1']);
    expect(await w.store.listOutbox()).toEqual([]);
  });

  test('an entry is never deleted before it is published', async () => {
    const w = await dynamo.world();
    await w.store.enqueueEvent('inv-1', 'Invoice Issued', { id: 'inv-1' }, '2027-01-01T00:05:00Z');
    const [entry] = await w.store.listOutbox();
    await expect(w.store.deleteOutbox(entry)).rejects.toThrow('not published yet');
    expect(await w.store.listOutbox()).toHaveLength(1);
  });
});

describe('EventBridge publisher', () => {
  test('a retried event carries the same eventId (the outbox entry id) in its detail', async () => {
    const client = new EventBridgeClient({ region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const sent: PutEventsCommandInput[] = [];
    client.middlewareStack.add(
      () => async (args) => {
        const input = args.input as PutEventsCommandInput;
        sent.push(input);
        // The first call is rejected, as a throttled PutEvents entry is.
        const failed = sent.length === 1 ? 1 : 0;
        return { output: { FailedEntryCount: failed, Entries: [failed ? { ErrorCode: 'ThrottlingException' } : { EventId: `eb-${sent.length}` }], $metadata: {} }, response: {} };
      },
      { step: 'initialize', name: 'fakePutEvents' },
    );
    const publisher = new EventBridgePublisher(client, 'prorata');
    const event = { id: 'inv_acme_2027-01-01_renewal', detailType: 'Invoice Issued', detail: { id: 'inv_acme_2027-01-01_renewal', eventId: 'spoofed' } };

    await expect(publisher.publish([event])).rejects.toThrow('EventBridge rejected 1 of 1 events');
    await publisher.publish([event]);

    const details = sent.map((input) => JSON.parse(input.Entries?.[0]?.Detail ?? '{}') as { eventId: string });
    expect(details.map((detail) => detail.eventId)).toEqual(['inv_acme_2027-01-01_renewal', 'inv_acme_2027-01-01_renewal']);
    expect(sent.map((input) => input.Entries?.[0]?.Source)).toEqual(['prorata', 'prorata']);
    client.destroy();
  });
});
