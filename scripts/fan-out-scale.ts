import '../simulator/quiet';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { parseAppEvent } from '../shared/contracts/events';
import { DEFAULT_SETTINGS, type Catalog, type Plan, type Workspace } from '../shared/domain/catalog';
import type { Dependencies } from '../shared/jobs/dependencies';
import { dispatchBillingRun } from '../shared/jobs/fan-out';
import { ingestEvent } from '../shared/jobs/ingest';
import { createWorkerHandler, type WorkerBatchReport } from '../shared/runtime/worker-handler';
import { BillingStore, createDocumentClient } from '../shared/store/dynamo-store';
import { keys } from '../shared/store/keys';
import { startLocalDynamo } from '../simulator/dynamo-local';
import { InProcessQueue } from '../simulator/in-process-queue';

/**
 * `npm run scale`: the fan-out's guarantees at full size on DynamoDB Local, together in one run
 * (`test/integration/fan-out.test.ts` proves each on a few dozen workspaces). It seeds
 * `--workspaces` (default 1,000) workspaces through the real ingest path, makes one of them poison
 * (its subscription names a plan the catalog lacks), then:
 *
 * - runs the invoicing dispatcher for the 1st three times concurrently (every workspace queued 3×),
 * - drains the queue with `--workers` (default 4) concurrent worker invocations of `--batch`
 *   (default 10) messages, the first of which is killed after a few writes (none of its messages
 *   deleted, all redelivered after the visibility timeout),
 *
 * and checks that every workspace but the poison one has exactly one renewal, that the poison one
 * is in the DLQ after its receives, and that nothing else failed. Exits non-zero otherwise.
 */
const plan: Plan = { id: 'pro', name: 'Pro', interval: 'month', seatPrice: '30.00', seatMode: 'flexible', minimumSeats: 1, maximumSeats: null, storageGb: 0, aiCreditsPerPeriod: 0 };
const catalog: Catalog = { plans: [plan], addons: [], creditPacks: [] };
const workspace = (id: string): Workspace => ({ id, name: id, timezone: 'UTC', currency: 'USD', billingDay: 1, contract: 'standard', paymentMethod: true, settings: DEFAULT_SETTINGS });
const RUN = '2027-02-01T00:05:00Z';

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name}: must be a positive integer`);
  return value;
}

async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

async function main(): Promise<void> {
  const count = option('workspaces', 1000);
  const workers = option('workers', 4);
  const batchSize = option('batch', 10);
  const dynamo = await startLocalDynamo();
  try {
    const tableName = `scale-${randomUUID()}`;
    await dynamo.createTable(tableName);
    const doc = createDocumentClient(dynamo.config);
    const store = new BillingStore(doc, { tableName });
    const deps: Dependencies = { store, publisher: { publish: async () => undefined } };
    await store.putCatalog(catalog);
    const ids = Array.from({ length: count }, (_, i) => `ws-${String(i).padStart(6, '0')}`);
    const seeding = performance.now();
    await forEachLimited(ids, 16, async (id) => {
      await store.putWorkspace(workspace(id));
      await ingestEvent(deps, parseAppEvent(`join-${id}`, 'member.joined', '2027-01-01T08:00:00Z', { workspace: id, member: 'm1', role: 'owner' }));
      await ingestEvent(deps, parseAppEvent(`start-${id}`, 'subscription.started', '2027-01-01T09:00:00Z', { workspace: id, plan: 'pro' }));
    });
    const poison = ids[Math.floor(count / 2)];
    const subscriptions = await doc.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sub)',
        ExpressionAttributeValues: { ':pk': keys.workspace(poison).pk, ':sub': keys.subscriptionPrefix() },
      }),
    );
    if (!subscriptions.Items?.length) throw new Error(`${poison} has no subscription to corrupt`);
    for (const item of subscriptions.Items ?? []) {
      await doc.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: item.pk, sk: item.sk },
          UpdateExpression: 'SET #state.planId = :ghost',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':ghost': 'ghost-plan' },
        }),
      );
    }
    console.log(`seeded ${count} workspaces (one member, monthly $30.00) in ${((performance.now() - seeding) / 1000).toFixed(1)} s; poison: ${poison}`);

    const queue = new InProcessQueue({ visibilityTimeoutMs: 5_000, maxReceiveCount: 3 });
    const dispatching = performance.now();
    const dispatches = await Promise.all(
      Array.from({ length: 3 }, () => dispatchBillingRun({ ...deps, store: new BillingStore(createDocumentClient(dynamo.config), { tableName }) }, queue, 'invoicing', { scheduledTime: RUN })),
    );
    const dispatchMs = performance.now() - dispatching;
    console.log(
      `dispatcher ×3 concurrently: due ${dispatches.map((d) => d.due).join(' / ')}, dispatched ${dispatches.map((d) => d.dispatched).join(' / ')} in ${(dispatchMs / 1000).toFixed(1)} s, ${queue.sent.calls} SendMessageBatch calls`,
    );

    const batches: WorkerBatchReport[] = [];
    const healthy = createWorkerHandler(
      () => deps,
      { maxReceiveCount: 3 },
      (report) => void batches.push(report),
    );
    let killedWrites = 0;
    const dyingDoc = createDocumentClient(dynamo.config);
    dyingDoc.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { TransactItems?: unknown[] };
        if (input.TransactItems && (killedWrites += 1) > 3) throw new Error('killed');
        return next(args);
      },
      { step: 'initialize', name: 'killAfterThreeWrites' },
    );
    const dying = createWorkerHandler(() => ({ ...deps, store: new BillingStore(dyingDoc, { tableName }) }), { maxReceiveCount: 3 });
    const draining = performance.now();
    const stats = await queue.drain(healthy, {
      batchSize,
      concurrency: workers,
      handlerFor: (invocation) =>
        invocation === 0
          ? async (event, context) => {
              await dying(event, context);
              throw new Error('Task timed out');
            }
          : healthy,
    });
    const drainMs = performance.now() - draining;

    const renewals = new Map<string, number>();
    let start: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(new ScanCommand({ TableName: tableName, FilterExpression: 'begins_with(sk, :inv)', ExpressionAttributeValues: { ':inv': 'INVOICE#' }, ExclusiveStartKey: start }));
      for (const item of page.Items ?? []) {
        const invoice = item.invoice as { workspace: string; kind: string; date: string };
        if (invoice.kind === 'renewal' && invoice.date === '2027-02-01') renewals.set(invoice.workspace, (renewals.get(invoice.workspace) ?? 0) + 1);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    const invoiced = batches.reduce((n, batch) => n + (batch.summaries.invoicing?.invoiced ?? 0), 0);
    const alreadyBilled = batches.reduce((n, batch) => n + (batch.summaries.invoicing?.alreadyBilled ?? 0), 0);
    const failures = batches.flatMap((batch) => batch.failures);
    console.log(
      `workers (${workers} concurrent, batches of ${batchSize}): ${stats.invocations} invocations (${stats.crashes} killed), ${stats.deleted} messages deleted, ${stats.itemFailures} batch item failures, in ${(drainMs / 1000).toFixed(1)} s: ${invoiced} invoiced (${(invoiced / (drainMs / 1000)).toFixed(0)} invoices/s), ${alreadyBilled} already billed`,
    );
    console.log(
      `DLQ: ${queue.deadLetters.length} messages (${[...new Set(queue.deadLetters.map((message) => `${message.body.workspace} after ${message.receiveCount} receives`))].join(', ') || 'empty'}); failures reported: ${[...new Set(failures.map((failure) => `${failure.workspace}: ${failure.error}`))].join('; ')}`,
    );

    const problems: string[] = [];
    const twice = [...renewals].filter(([, n]) => n > 1).map(([id]) => id);
    const skipped = ids.filter((id) => id !== poison && !renewals.has(id));
    if (twice.length) problems.push(`billed twice: ${twice.slice(0, 10).join(', ')}`);
    if (skipped.length) problems.push(`not billed: ${skipped.slice(0, 10).join(', ')}`);
    if (renewals.has(poison)) problems.push('the poison workspace was billed');
    // The poison workspace was dispatched three times: each of its messages ends in the DLQ.
    if (queue.deadLetters.length !== 3 || queue.deadLetters.some((message) => message.body.workspace !== poison))
      problems.push(`DLQ holds ${queue.deadLetters.length} messages, expected the 3 of ${poison}`);
    if (failures.some((failure) => failure.workspace !== poison)) problems.push('a workspace other than the poison one failed');
    console.log(
      problems.length === 0
        ? `OK: ${renewals.size} of ${count - 1} healthy workspaces billed exactly once, the poison one's 3 messages parked in the DLQ and nothing else`
        : `FAILED: ${problems.join('; ')}`,
    );
    if (problems.length > 0) process.exitCode = 1;
  } finally {
    await dynamo.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
