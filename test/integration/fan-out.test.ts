/**
 * The fanned-out scheduled run against DynamoDB Local: the dispatcher pages the due index and
 * queues one message per workspace, workers bill them through an in-process queue with SQS's
 * semantics (visibility timeout, receive count, redrive to a DLQ, batch item failures). Each test
 * proves one guarantee of the fan-out: several workers finish a run, a dispatcher delivered three
 * times bills once, a worker killed mid-batch loses and duplicates nothing, a poison workspace is
 * parked in the DLQ alone.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createInvoicingDispatcher } from '../../functions/invoicing/handler';
import type { Dependencies } from '../../shared/jobs/dependencies';
import { dispatchBillingRun, type DispatchReport } from '../../shared/jobs/fan-out';
import { IncompleteDispatchError } from '../../shared/runtime/job-handler';
import { METRIC, type MetricPoint } from '../../shared/runtime/metrics';
import { createWorkerHandler, type WorkerBatchReport } from '../../shared/runtime/worker-handler';
import { keys } from '../../shared/store/keys';
import { InProcessQueue } from '../../simulator/in-process-queue';
import { lambdaContext, seedMonthlyWorkspaces, setupDynamo, type World } from './harness';

const dynamo = setupDynamo();

const RENEWAL_RUN = '2027-01-01T00:05:00Z';

/** The fan-out tests' book: `count` monthly workspaces renewing on Jan 1 (`seedMonthlyWorkspaces`). */
const seedWorkspaces = (w: World, count: number) => seedMonthlyWorkspaces(w, count);

/** The renewal invoices stored per workspace on the run's date. */
async function renewalsPerWorkspace(w: World): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const item of await w.scan()) {
    if (!String(item.sk).startsWith('INVOICE#')) continue;
    const invoice = item.invoice as { workspace: string; kind: string; date: string };
    if (invoice.kind === 'renewal' && invoice.date === '2027-01-01') counts.set(invoice.workspace, (counts.get(invoice.workspace) ?? 0) + 1);
  }
  return counts;
}

function expectEachBilledOnce(counts: Map<string, number>, ids: readonly string[]): void {
  expect([...counts.keys()].sort()).toEqual([...ids].sort());
  expect([...counts.values()].every((n) => n === 1)).toBe(true);
}

function worker(deps: Dependencies, batches: WorkerBatchReport[] = [], metrics?: (points: readonly MetricPoint[]) => void) {
  return createWorkerHandler(
    () => deps,
    { maxReceiveCount: 3, metrics },
    (report) => void batches.push(report),
  );
}

function total(batches: readonly WorkerBatchReport[], key: 'invoiced' | 'alreadyBilled' | 'failed' | 'invoices'): number {
  return batches.reduce((n, batch) => n + (batch.summaries.invoicing?.[key] ?? 0), 0);
}

describe('fan-out: dispatcher and workers over a queue (DynamoDB Local)', () => {
  test('a run over more workspaces than one batch is paged, queued and finished by several workers, each billed once', async () => {
    const w = await dynamo.world();
    const ids = await seedWorkspaces(w, 25);
    const queue = new InProcessQueue({ visibilityTimeoutMs: 60_000 });
    const points: MetricPoint[] = [];
    const dispatcher = createInvoicingDispatcher(
      () => w.deps,
      () => queue,
      () => Date.parse('2027-01-01T00:07:00Z'),
      (batch) => void points.push(...batch),
    );

    const report = (await dispatcher({ scheduledTime: RENEWAL_RUN })) as DispatchReport;
    expect(report).toEqual({ job: 'invoicing', at: RENEWAL_RUN, due: 25, dispatched: 25, notDispatched: 0, notDispatchedWorkspaces: [], oldestDueAt: '2027-01-01T00:00:00Z', retries: 0 });
    expect(queue.sent).toEqual({ calls: expect.any(Number), messages: 25 });
    // Ten messages per SendMessageBatch at most, per shard page.
    expect(queue.sent.calls).toBeGreaterThanOrEqual(3);
    // The oldest due workspace was due at midnight, 7 minutes before the dispatcher ran.
    expect(points).toContainEqual({ name: METRIC.oldestDueAge, unit: 'Seconds', value: 420, dimensions: { job: 'invoicing' } });
    expect(points).toContainEqual({ name: METRIC.workspacesDue, unit: 'Count', value: 25, dimensions: { job: 'invoicing' } });

    const batches: WorkerBatchReport[] = [];
    const workerPoints: MetricPoint[] = [];
    const stats = await queue.drain(
      worker(w.deps, batches, (batch) => void workerPoints.push(...batch)),
      { batchSize: 10, concurrency: 3, context: lambdaContext('worker') },
    );
    expect(stats).toMatchObject({ crashes: 0, deleted: 25, itemFailures: 0 });
    expect(stats.invocations).toBeGreaterThanOrEqual(3);
    expectEachBilledOnce(await renewalsPerWorkspace(w), ids);
    expect(total(batches, 'invoiced')).toBe(25);
    expect(workerPoints.filter((point) => point.name === METRIC.amountInvoiced).reduce((sum, point) => sum + point.value, 0)).toBeCloseTo(25 * 70, 2);
    expect(workerPoints.some((point) => point.name === METRIC.amountInvoiced && point.dimensions.currency === 'USD')).toBe(true);
    // The dispatcher's report and the workers' batch reports carry counts, never invoices.
    expect(JSON.stringify(report)).not.toContain('lines');
    expect(JSON.stringify(batches)).not.toContain('lines');

    // The index moved on: a dispatcher run of the same hour finds nothing due.
    expect(await dispatchBillingRun(w.deps, queue, 'invoicing', { scheduledTime: RENEWAL_RUN }, { pageSize: 7 })).toMatchObject({ due: 0, dispatched: 0 });
  }, 120_000);

  test('the dispatcher delivered three times concurrently (paging one key at a time) bills each workspace once', async () => {
    const w = await dynamo.world();
    const ids = await seedWorkspaces(w, 20);
    const queue = new InProcessQueue({ visibilityTimeoutMs: 60_000 });
    const reports = await Promise.all(Array.from({ length: 3 }, () => dispatchBillingRun(w.newDeps(), queue, 'invoicing', { scheduledTime: RENEWAL_RUN }, { pageSize: 1 })));
    expect(reports.map((report) => report.dispatched)).toEqual([20, 20, 20]);

    const batches: WorkerBatchReport[] = [];
    await queue.drain(worker(w.newDeps(), batches), { batchSize: 10, concurrency: 3 });
    expectEachBilledOnce(await renewalsPerWorkspace(w), ids);
    expect(total(batches, 'invoiced')).toBe(20);
    expect(total(batches, 'alreadyBilled')).toBe(40);
    expect(total(batches, 'failed')).toBe(0);
  }, 120_000);

  test('a worker killed mid-batch after some writes is redelivered: nothing billed twice or skipped', async () => {
    const w = await dynamo.world();
    const ids = await seedWorkspaces(w, 15);
    const queue = new InProcessQueue({ visibilityTimeoutMs: 3_000 });
    await dispatchBillingRun(w.deps, queue, 'invoicing', { scheduledTime: RENEWAL_RUN });

    // The first invocation writes 4 renewals, then its store dies (the rest of its batch fails) and
    // the invocation is killed before the mapping deletes anything, as a timeout would.
    const healthy = worker(w.newDeps());
    const dying = worker(w.crashingDeps(4));
    const stats = await queue.drain(healthy, {
      batchSize: 10,
      concurrency: 2,
      handlerFor: (invocation) =>
        invocation === 0
          ? async (event, context) => {
              await dying(event, context);
              throw new Error('Task timed out');
            }
          : healthy,
    });
    expect(stats.crashes).toBe(1);
    expect(queue.deadLetters).toEqual([]);
    expectEachBilledOnce(await renewalsPerWorkspace(w), ids);
  }, 120_000);

  test('a poison workspace is retried alone and parked in the DLQ with its id and error; the 29 others are billed', async () => {
    const w = await dynamo.world();
    const ids = await seedWorkspaces(w, 30);
    const poison = ids[17];
    // Bad data: the subscription names a plan the catalog does not have (a permanent error).
    const [subscription] = (await w.scan()).filter((item) => item.pk === keys.workspace(poison).pk && String(item.sk).startsWith('SUB#'));
    await w.rawClient.send(
      new UpdateCommand({
        TableName: w.tableName,
        Key: { pk: subscription.pk, sk: subscription.sk },
        UpdateExpression: 'SET #state.planId = :ghost',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':ghost': 'ghost-plan' },
      }),
    );

    const queue = new InProcessQueue({ visibilityTimeoutMs: 3_000, maxReceiveCount: 3 });
    await dispatchBillingRun(w.deps, queue, 'invoicing', { scheduledTime: RENEWAL_RUN });
    const batches: WorkerBatchReport[] = [];
    const stats = await queue.drain(worker(w.deps, batches), { batchSize: 10, concurrency: 3 });

    expect(queue.deadLetters).toEqual([{ messageId: expect.any(String), body: expect.objectContaining({ job: 'invoicing', workspace: poison }), receiveCount: 3 }]);
    // Reported alone, once per receive, with its error.
    expect(stats.itemFailures).toBe(3);
    expect(batches.flatMap((batch) => batch.failures)).toEqual(
      Array.from({ length: 3 }, () => ({ messageId: queue.deadLetters[0].messageId, workspace: poison, error: expect.stringContaining('ghost-plan') })),
    );
    expectEachBilledOnce(
      await renewalsPerWorkspace(w),
      ids.filter((id) => id !== poison),
    );
  }, 120_000);

  test('a message SQS refuses is resent; one it keeps refusing fails the dispatch after the others are sent', async () => {
    const w = await dynamo.world();
    const ids = await seedWorkspaces(w, 12);
    const queue = new InProcessQueue();
    const refusedOnce = new Set<string>();
    queue.refuse = (message) => {
      if (message.workspace === ids[3] && !refusedOnce.has(message.workspace)) {
        refusedOnce.add(message.workspace);
        return true;
      }
      return message.workspace === ids[5];
    };
    const deps: Dependencies = { ...w.deps, retry: { sleep: async () => undefined } };
    const dispatcher = createInvoicingDispatcher(
      () => deps,
      () => queue,
      () => Date.parse('2027-01-01T00:06:00Z'),
    );
    const error = await dispatcher({ scheduledTime: RENEWAL_RUN }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(IncompleteDispatchError);
    expect((error as IncompleteDispatchError).report).toMatchObject({ due: 12, dispatched: 11, notDispatched: 1, notDispatchedWorkspaces: [ids[5]] });
    expect((error as IncompleteDispatchError).report.retries).toBeGreaterThanOrEqual(6);
    expect(queue.depth).toBe(11);
  }, 120_000);

  test('a malformed work message is refused naming the field, as a batch item failure; the rest of the batch is billed', async () => {
    const w = await dynamo.world();
    await seedWorkspaces(w, 1);
    const batches: WorkerBatchReport[] = [];
    const record = (messageId: string, body: string) => ({
      messageId,
      receiptHandle: messageId,
      body,
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'local', ApproximateFirstReceiveTimestamp: '0' },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:local:000000000000:work',
      awsRegion: 'local',
    });
    const response = await worker(w.deps, batches)(
      {
        Records: [
          record('m1', JSON.stringify({ job: 'invoicing', workspace: 'ws-000', sortKey: '2027-01-01T00:00:00Z#ws-000', scheduledTime: RENEWAL_RUN })),
          record('m2', JSON.stringify({ job: 'invoicing', sortKey: 'x', scheduledTime: RENEWAL_RUN })),
          record('m3', 'not json'),
        ],
      },
      lambdaContext('worker'),
    );
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }, { itemIdentifier: 'm3' }] });
    expect(batches[0].failures).toEqual([
      { messageId: 'm2', error: expect.stringMatching(/^ValidationError: body\.workspace: /) },
      { messageId: 'm3', error: 'ValidationError: body: is not JSON' },
    ]);
    expect(batches[0].summaries.invoicing).toMatchObject({ invoiced: 1, invoices: 1, amounts: { USD: '70.00' } });
  }, 120_000);

  test('on demand: one workspace is billed at once with its invoices; a dry run of all returns counts and amounts only', async () => {
    const w = await dynamo.world();
    await seedWorkspaces(w, 3);
    const queue = new InProcessQueue();
    const dispatcher = createInvoicingDispatcher(
      () => w.deps,
      () => queue,
      () => Date.parse('2027-01-01T10:00:00Z'),
    );
    const dry = await dispatcher({ asOf: '2027-01-01', dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, workspaces: [], summary: { workspaces: 3, invoiced: 3, invoices: 3, failed: 0, amounts: { USD: '210.00' } } });
    const one = await dispatcher({ asOf: '2027-01-01', workspace: 'ws-001' });
    expect(one).toMatchObject({ workspaces: [{ workspace: 'ws-001', invoices: [expect.objectContaining({ kind: 'renewal', amountDue: '70.00' })] }] });
    expect(queue.depth).toBe(0);
    // Without a workspace and not dry: dispatched to the workers like a scheduled run.
    expect(await dispatcher({ asOf: '2027-01-01' })).toMatchObject({ due: 2, dispatched: 2 });
    await queue.drain(worker(w.deps));
    expect((await renewalsPerWorkspace(w)).size).toBe(3);
  }, 120_000);
});
