/**
 * A worker batch's shared reads against DynamoDB Local (`readWorkBatch`, `readRenewalBatch`): the
 * catalog and every renewal's subscription and balances come back in one `BatchGetItem`, so a
 * quiet renewal sends one read of its own (its member tail and profile) and its two writes. The
 * batch read is an optimisation only: read stale, left unprocessed, failed or naming no item, the
 * workspace is still billed exactly once.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { WorkMessage } from '../../shared/contracts/work-message';
import type { Dependencies } from '../../shared/jobs/dependencies';
import { billWorkMessage, dispatchBillingRun, readWorkBatch } from '../../shared/jobs/fan-out';
import { retryingFor } from '../../shared/jobs/billing-jobs';
import { createWorkerHandler, type WorkerBatchReport } from '../../shared/runtime/worker-handler';
import { BillingStore } from '../../shared/store/dynamo-store';
import { meterCapacity } from '../../simulator/capacity-meter';
import { InProcessQueue } from '../../simulator/in-process-queue';
import { seedMonthlyWorkspaces, setupDynamo, type World } from './harness';

const dynamo = setupDynamo();

const RENEWAL_RUN = '2027-01-01T00:05:00Z';

/** `count` monthly workspaces renewing on Jan 1 (`seedMonthlyWorkspaces`). */
const seedWorkspaces = (w: World, count: number) => seedMonthlyWorkspaces(w, count, 'bw');

async function renewals(w: World): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const item of await w.scan()) {
    const invoice = item.invoice as { workspace: string; kind: string; date: string } | undefined;
    if (String(item.sk).startsWith('INVOICE#') && invoice?.kind === 'renewal' && invoice.date === '2027-01-01') counts.set(invoice.workspace, (counts.get(invoice.workspace) ?? 0) + 1);
  }
  return counts;
}

function expectEachBilledOnce(counts: Map<string, number>, ids: readonly string[]): void {
  expect(Object.fromEntries(counts)).toEqual(Object.fromEntries(ids.map((id) => [id, 1])));
}

/** The dispatcher's messages for the run, as the queue holds them. */
async function dispatched(w: World): Promise<WorkMessage[]> {
  const queue = new InProcessQueue({ visibilityTimeoutMs: 60_000 });
  await dispatchBillingRun(w.newDeps(), queue, 'invoicing', { scheduledTime: RENEWAL_RUN });
  return queue.receive(100).map((record) => JSON.parse(record.body) as WorkMessage);
}

/** Drains the queue through the real worker handler on `deps`, 10 messages a batch. */
async function work(deps: Dependencies, messages: readonly WorkMessage[]): Promise<WorkerBatchReport[]> {
  const queue = new InProcessQueue({ visibilityTimeoutMs: 60_000 });
  await queue.sendBatch(messages);
  const batches: WorkerBatchReport[] = [];
  await queue.drain(
    createWorkerHandler(
      () => deps,
      {},
      (report) => void batches.push(report),
    ),
    { batchSize: 10, concurrency: 1 },
  );
  return batches;
}

/** Rewrites every `BatchGetItem` answer of `doc`: `change` gets the (unmarshalled) output to alter. */
function alterBatchGets(
  doc: DynamoDBDocumentClient,
  change: (output: { Responses?: Record<string, Array<Record<string, unknown>>>; UnprocessedKeys?: Record<string, { Keys?: Array<Record<string, unknown>> }> }) => void,
): void {
  doc.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'BatchGetItemCommand') change(result.output as Parameters<typeof change>[0]);
      return result;
    },
    { step: 'initialize', name: 'alterBatchGets' },
  );
}

describe('worker batch reads (DynamoDB Local)', () => {
  test('a batch of 10 renewals reads in one BatchGetItem; each renewal then sends one Query and two PutItems', async () => {
    const w = await dynamo.world();
    const ids = await seedWorkspaces(w, 10);
    const messages = await dispatched(w);
    // Each message names the subscription whose due entry the dispatcher found.
    const subscriptions = (await w.scan()).filter((item) => String(item.sk).startsWith('SUB#')).map((item) => [String(item.pk).slice(3), String(item.sk).slice(4)]);
    expect(Object.fromEntries(messages.map((message) => [message.workspace, message.subscriptionId]))).toEqual(Object.fromEntries(subscriptions));

    const doc = w.newClient();
    const meter = meterCapacity(doc);
    const batches = await work({ store: new BillingStore(doc, { tableName: w.tableName }), publisher: w.deps.publisher }, messages);
    expect(batches.map((batch) => batch.summaries.invoicing?.invoiced)).toEqual([10]);
    const calls = Object.fromEntries(Object.entries(meter.reading().byOperation).map(([operation, units]) => [operation, units.calls]));
    expect(calls).toEqual({ BatchGetItem: 1, Query: 10, PutItem: 20 });
    expectEachBilledOnce(await renewals(w), ids);
  }, 120_000);

  test('a batch read gone stale (another worker billed the workspace after it) bills nothing twice', async () => {
    const w = await dynamo.world();
    const [id] = await seedWorkspaces(w, 1);
    const [message] = await dispatched(w);
    const deps = w.newDeps();
    const retrying = retryingFor(deps, () => undefined);
    const stale = await readWorkBatch(deps, [message], retrying);
    expect(stale.prefetched.get(id)?.subscription?.status).toBe('active');

    // Another delivery of the same message bills it first.
    await work(w.newDeps(), [message]);
    const outcome = await billWorkMessage(deps, message, await stale.catalog(), retrying, stale.prefetched.get(id));
    expect(outcome?.invoices).toEqual([]);
    expectEachBilledOnce(await renewals(w), [id]);
  }, 120_000);

  test('keys left unprocessed, a failed batch read and a subscription id naming no item: each workspace reads its own and is billed once', async () => {
    const w = await dynamo.world();
    const ids = await seedWorkspaces(w, 9);
    const messages = await dispatched(w);

    // Throttled: DynamoDB answers the catalog and balances but leaves every subscription unprocessed.
    const throttled = w.newClient();
    alterBatchGets(throttled, (output) => {
      for (const [table, items] of Object.entries(output.Responses ?? {})) {
        const left = items.filter((item) => String(item.sk).startsWith('SUB#'));
        output.Responses = { ...output.Responses, [table]: items.filter((item) => !left.includes(item)) };
        output.UnprocessedKeys = { [table]: { Keys: left.map((item) => ({ pk: item.pk, sk: item.sk })) } };
      }
    });
    const meter = meterCapacity(throttled);
    await work({ store: new BillingStore(throttled, { tableName: w.tableName }), publisher: w.deps.publisher }, messages.slice(0, 3));
    // Each of the three looked its subscription up (a Query) and read its balances (a GetItem) itself.
    expect(meter.reading().byOperation.GetItem?.calls).toBe(3);

    // The batch read itself fails: the catalog is read alone, and each workspace reads its own.
    const failing = w.newClient();
    failing.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'BatchGetItemCommand') throw Object.assign(new Error('simulated outage'), { name: 'InternalServerError', $fault: 'server' });
        return next(args);
      },
      { step: 'initialize', name: 'failBatchGets' },
    );
    const failed = await work({ store: new BillingStore(failing, { tableName: w.tableName }), publisher: w.deps.publisher }, messages.slice(3, 6));
    expect(failed.map((batch) => batch.summaries.invoicing?.invoiced)).toEqual([3]);

    // A message from a dispatcher that named another subscription (or none).
    const renamed = messages.slice(6).map((message, index) => (index === 0 ? { ...message, subscriptionId: 'sub_gone' } : index === 1 ? { ...message, subscriptionId: undefined } : message));
    await work(w.newDeps(), renamed);

    expectEachBilledOnce(await renewals(w), ids);
  }, 120_000);
});
