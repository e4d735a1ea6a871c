import '../../simulator/quiet';
import type { Context, DynamoDBStreamEvent, SQSRecord } from 'aws-lambda';
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TransactGetItemsCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type AttributeValue,
  type BatchGetItemCommandInput,
  type BatchWriteItemCommandInput,
  type DeleteItemCommandInput,
  type GetItemCommandInput,
  type PutItemCommandInput,
  type QueryCommandInput,
  type TransactGetItemsCommandInput,
  type TransactWriteItemsCommandInput,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { createPublisherHandler } from '../../functions/publisher/handler';
import type { WorkMessage } from '../../shared/contracts/work-message';
import type { Dependencies, PublishedEvent } from '../../shared/jobs/dependencies';
import { dispatchBillingRun, type DispatchReport, type WorkQueue } from '../../shared/jobs/fan-out';
import { powertoolsMetrics } from '../../shared/runtime/metrics';
import { createWorkerHandler, type WorkerBatchReport } from '../../shared/runtime/worker-handler';
import { BillingStore, createDocumentClient } from '../../shared/store/dynamo-store';
import { keys } from '../../shared/store/keys';
import { meterCapacity, type CapacityReading } from '../../simulator/capacity-meter';
import { callParent, serveRoles, type Role } from './ipc';
import { BENCH_RUN, cloneText } from './seed';

/**
 * The bench's child processes (`scripts/bench/ipc.ts` starts them): one role each, so the CPU
 * time and the peak RSS each reports are that role's alone. Every DynamoDB client here is metered
 * (`ReturnConsumedCapacity` on every call, `simulator/capacity-meter.ts`).
 */

/** A DynamoDB call as the store sent it: the low-level command's name and its (marshalled) input as JSON. */
export interface RecordedCall {
  command: string;
  input: string;
}

/** What every role measures about its own process. */
export interface ProcessFigures {
  /** Wall time of the role's work, ms. */
  ms: number;
  /** User + system CPU time of the process during that work, ms. */
  cpuMs: number;
  /** Peak resident set size of the process over its whole life, MB. */
  peakRssMb: number;
  /** Resident set size when the role started (Node, the loader and the imports), MB. */
  startRssMb: number;
  /** Heap in use after the work and a full garbage collection, MB: what the work kept (grows with N only if something leaks). */
  retainedHeapMb: number;
  capacity: CapacityReading;
  /** Bytes the role wrote to stdout (its Lambda log lines: Powertools logs and EMF metrics). */
  logBytes: number;
}

/** The dispatcher's input: where the table is. */
export interface DispatcherInput {
  config: DynamoDBClientConfig;
  tableName: string;
}
/** What the dispatcher did (its bounded report) and cost. */
export interface DispatcherResult extends ProcessFigures {
  report: DispatchReport;
}

/** The worker's input: `workers` pollers (the mapping's `MaximumConcurrency`) of `batchSize` messages. */
export interface WorkerInput {
  config: DynamoDBClientConfig;
  tableName: string;
  workers: number;
  batchSize: number;
  maxReceiveCount: number;
  /** Workspaces whose DynamoDB calls are recorded, for the raw floor to replay. */
  sampleIds: string[];
}
/** What the workers billed, their invocations, cost, and the sample workspaces' recorded calls. */
export interface WorkerResult extends ProcessFigures {
  invocations: number;
  crashes: number;
  itemFailures: number;
  invoiced: number;
  invoices: number;
  alreadyBilled: number;
  failed: number;
  failures: string[];
  recorded: Record<string, RecordedCall[]>;
}

/** The raw floor's input: replay each sample's calls for fresh workspaces, `concurrency` workspaces at a time. */
export interface FloorInput {
  config: DynamoDBClientConfig;
  tableName: string;
  concurrency: number;
  dueShards: number;
  samples: Array<{ id: string; calls: RecordedCall[] }>;
  ids: string[];
  /** Fresh workspaces billed first, untimed, to warm the process up. */
  warmupIds: string[];
  /** Only the writes (`TransactWriteItems`, `PutItem`, …), as issue 10 defines the floor; else every call. */
  writesOnly: boolean;
}
/** What a raw floor sent and cost. */
export interface FloorResult extends ProcessFigures {
  workspaces: number;
  calls: number;
  /** Calls sent again after a server error (DynamoDB Local under load). */
  retries: number;
}

/** The publisher's input: `sample` renewals' invoice items as stream records, `concurrency` stream batches at once. */
export interface PublisherInput {
  config: DynamoDBClientConfig;
  tableName: string;
  sample: number;
  batchSize: number;
  concurrency: number;
}
/** What the publisher published (and its EventBridge chunks) and cost. */
export interface PublisherResult extends ProcessFigures {
  records: number;
  invocations: number;
  published: number;
  eventBytes: number;
  /** EventBridge bills each 64 KB chunk of an event as one event. */
  eventChunks: number;
  failedBatches: number;
}

const WRITE_COMMANDS = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand', 'TransactWriteItemsCommand']);

type Input = Record<string, unknown>;
/** The low-level commands a replay may need, by the name the middleware saw. */
const COMMANDS: Record<string, (client: DynamoDBClient, input: Input) => Promise<unknown>> = {
  GetItemCommand: (client, input) => client.send(new GetItemCommand(input as unknown as GetItemCommandInput)),
  QueryCommand: (client, input) => client.send(new QueryCommand(input as unknown as QueryCommandInput)),
  BatchGetItemCommand: (client, input) => client.send(new BatchGetItemCommand(input as unknown as BatchGetItemCommandInput)),
  TransactGetItemsCommand: (client, input) => client.send(new TransactGetItemsCommand(input as unknown as TransactGetItemsCommandInput)),
  PutItemCommand: (client, input) => client.send(new PutItemCommand(input as unknown as PutItemCommandInput)),
  UpdateItemCommand: (client, input) => client.send(new UpdateItemCommand(input as unknown as UpdateItemCommandInput)),
  DeleteItemCommand: (client, input) => client.send(new DeleteItemCommand(input as unknown as DeleteItemCommandInput)),
  BatchWriteItemCommand: (client, input) => client.send(new BatchWriteItemCommand(input as unknown as BatchWriteItemCommandInput)),
  TransactWriteItemsCommand: (client, input) => client.send(new TransactWriteItemsCommand(input as unknown as TransactWriteItemsCommandInput)),
};

/**
 * The partition key a marshalled request addresses (`Key`, `Item`, a transaction's first item,
 * a query's `:pk`), or undefined when it has none of those (the recorder then searches the input).
 */
function partitionOf(input: Input): string | undefined {
  type Marshalled = { pk?: { S?: string } } | undefined;
  const direct = (input.Key as Marshalled)?.pk?.S ?? (input.Item as Marshalled)?.pk?.S ?? (input.ExpressionAttributeValues as Record<string, { S?: string }> | undefined)?.[':pk']?.S;
  if (direct !== undefined) return direct;
  const first = (input.TransactItems as Array<Record<string, { Item?: Marshalled; Key?: Marshalled }>> | undefined)?.[0];
  const action = first ? Object.values(first)[0] : undefined;
  return action?.Item?.pk?.S ?? action?.Key?.pk?.S;
}

const startRss = process.memoryUsage().rss;
let logBytes = 0;

/** Counts what the role logs instead of printing it: the bench's own output is the parent's. */
function countStdout(): void {
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    logBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof process.stdout.write;
}

async function measured<T>(meter: { reading(): CapacityReading }, work: () => Promise<T>): Promise<{ value: T; figures: ProcessFigures }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const value = await work();
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  // The parent starts children with --expose-gc.
  (globalThis as { gc?: () => void }).gc?.();
  return {
    value,
    figures: {
      ms,
      cpuMs: (used.user + used.system) / 1000,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      startRssMb: startRss / 1024 / 1024,
      retainedHeapMb: process.memoryUsage().heapUsed / 1024 / 1024,
      capacity: meter.reading(),
      logBytes,
    },
  };
}

/** The real dispatcher, its queue the parent's (one `send` call per `SendMessageBatch`). */
async function dispatch(input: DispatcherInput): Promise<DispatcherResult> {
  const doc = createDocumentClient(input.config);
  const meter = meterCapacity(doc);
  const deps: Dependencies = { store: new BillingStore(doc, { tableName: input.tableName }), publisher: { publish: async () => undefined } };
  const queue: WorkQueue = { sendBatch: (messages: readonly WorkMessage[]) => callParent<{ failed: number[] }>('send', messages) };
  const { value, figures } = await measured(meter, () => dispatchBillingRun(deps, queue, 'invoicing', { scheduledTime: BENCH_RUN }));
  return { ...figures, report: value };
}

/**
 * The real worker handler (Powertools batch, its logs and EMF metrics on and counted), invoked
 * the way the event source mapping does: `workers` pollers each receive up to `batchSize`
 * messages from the parent's queue, invoke it, and delete what it did not report failed.
 */
async function work(input: WorkerInput): Promise<WorkerResult> {
  countStdout();
  const doc = createDocumentClient(input.config);
  const meter = meterCapacity(doc);
  const samples = new Set(input.sampleIds);
  const recorded: Record<string, RecordedCall[]> = Object.fromEntries(input.sampleIds.map((id) => [id, []]));
  if (samples.size > 0) {
    // Records the calls naming a sample workspace (keys and invoice ids hold its id), as DynamoDB
    // receives them: marshalled. The batch's shared reads (the catalog and every renewal's
    // subscription and balances, one BatchGetItem) belong to no one workspace and are not replayed.
    doc.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'BatchGetItemCommand') return next(args);
        // Cheap first: the workspace partition the call addresses; the whole input only when that is not found.
        const pk = partitionOf(args.input as Input);
        const id = pk === undefined ? input.sampleIds.find((sample) => JSON.stringify(args.input).includes(sample)) : samples.has(pk.slice(3)) ? pk.slice(3) : undefined;
        if (id !== undefined) {
          const { ClientRequestToken: _token, ...rest } = args.input as Input;
          recorded[id].push({ command: String(context.commandName), input: JSON.stringify(rest) });
        }
        return next(args);
      },
      // At the build step the document client has marshalled the input (its marshalling runs just before serialization).
      { step: 'build', name: 'benchRecorder' },
    );
  }
  const deps: Dependencies = { store: new BillingStore(doc, { tableName: input.tableName }), publisher: { publish: async () => undefined } };
  const batches: WorkerBatchReport[] = [];
  const handler = createWorkerHandler(
    () => deps,
    { maxReceiveCount: input.maxReceiveCount, metrics: powertoolsMetrics() },
    (report) => void batches.push(report),
  );
  const context = { functionName: 'prorata-worker', awsRequestId: 'bench', getRemainingTimeInMillis: () => 120_000 } as Context;
  const stats = { invocations: 0, crashes: 0, itemFailures: 0 };
  const poll = async (): Promise<void> => {
    for (;;) {
      const { records, depth } = await callParent<{ records: SQSRecord[]; depth: number }>('receive', input.batchSize);
      if (records.length === 0) {
        if (depth === 0) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
        continue;
      }
      stats.invocations += 1;
      let failed: Set<string>;
      try {
        const response = await handler({ Records: records }, context);
        failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
      } catch {
        stats.crashes += 1;
        continue;
      }
      stats.itemFailures += failed.size;
      await callParent(
        'delete',
        records.filter((record) => !failed.has(record.messageId)).map((record) => record.receiptHandle),
      );
    }
  };
  const { figures } = await measured(meter, () => Promise.all(Array.from({ length: input.workers }, poll)));
  const sum = (pick: (report: WorkerBatchReport) => number) => batches.reduce((total, report) => total + pick(report), 0);
  return {
    ...figures,
    ...stats,
    invoiced: sum((report) => report.summaries.invoicing?.invoiced ?? 0),
    invoices: sum((report) => report.summaries.invoicing?.invoices ?? 0),
    alreadyBilled: sum((report) => report.summaries.invoicing?.alreadyBilled ?? 0),
    failed: sum((report) => report.summaries.invoicing?.failed ?? 0),
    failures: batches.flatMap((report) => report.failures.map((failure) => `${failure.workspace}: ${failure.error}`)).slice(0, 10),
    recorded,
  };
}

/**
 * The raw floor: for each fresh workspace, the calls a sample workspace's renewal sent (its id
 * replaced, its due-index shard recomputed), one after another as the worker sends them, as bare
 * low-level SDK calls: no store, no core, no marshalling of documents, no Powertools.
 */
async function floor(input: FloorInput): Promise<FloorResult> {
  // The bare SDK at its fastest: each command's middleware stack resolved once (`cacheMiddleware`,
  // as the store's client does it), no logger middleware.
  const client = new DynamoDBClient({ ...input.config, cacheMiddleware: true });
  client.middlewareStack.remove('loggerMiddleware');
  const meter = meterCapacity(client);
  const plans = input.samples.map((sample) => ({ id: sample.id, calls: sample.calls.filter((call) => !input.writesOnly || WRITE_COMMANDS.has(call.command)) }));
  // Every request is built before the timing: the floor is the SDK and DynamoDB Local, not the cloning.
  const requestsOf = (ids: readonly string[]) =>
    ids.map((id, index) => {
      const plan = plans[index % plans.length];
      return plan.calls.map((call) => {
        const build = COMMANDS[call.command];
        if (!build) throw new Error(`the floor cannot replay ${call.command}`);
        return { command: call.command, build, request: JSON.parse(cloneText(call.input, plan.id, id, input.dueShards)) as Input };
      });
    });
  let calls = 0;
  let retries = 0;
  const replay = async (workspaces: ReturnType<typeof requestsOf>) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: input.concurrency }, async () => {
        while (next < workspaces.length) {
          for (const { command, build, request } of workspaces[next++]) {
            // As the worker does (its retry policy), a call DynamoDB Local fails under load is sent again.
            for (let attempt = 1; ; attempt += 1) {
              try {
                await build(client, request);
                break;
              } catch (error) {
                const fault = (error as { $fault?: string; name?: string }) ?? {};
                if (attempt >= 5 || (fault.$fault !== 'server' && fault.name !== 'TransactionConflictException'))
                  throw new Error(`the floor's ${command} failed: ${String(error)}: ${JSON.stringify(request).slice(0, 3000)}`);
                retries += 1;
                await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt));
              }
            }
            calls += 1;
          }
        }
      }),
    );
  };
  // A warm-up on workspaces of its own, untimed and unmetered: the worker it is compared with is warm too.
  await replay(requestsOf(input.warmupIds));
  meter.reset();
  calls = 0;
  retries = 0;
  const measuredRequests = requestsOf(input.ids);
  const { figures } = await measured(meter, () => replay(measuredRequests));
  return { ...figures, workspaces: input.ids.length, calls, retries };
}

/**
 * The real publisher handler on `sample` renewals' invoice items, delivered as the table's stream
 * delivers them (INSERT records, `batchSize` a batch); EventBridge is a stub that counts the events
 * and their 64 KB chunks. Reading the items (the stream's job, free on AWS) is not metered.
 */
async function publish(input: PublisherInput): Promise<PublisherResult> {
  countStdout();
  const reader = new DynamoDBClient(input.config);
  const images: Array<Record<string, AttributeValue>> = [];
  // The renewals' invoice items, as their INSERT records carry them (the stream is the outbox).
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await reader.send(
      new ScanCommand({
        TableName: input.tableName,
        FilterExpression: 'begins_with(sk, :invoice) AND #invoice.#kind = :renewal',
        ExpressionAttributeNames: { '#invoice': 'invoice', '#kind': 'kind' },
        ExpressionAttributeValues: { ':invoice': { S: keys.invoicePrefix() }, ':renewal': { S: 'renewal' } },
        ExclusiveStartKey: start,
      }),
    );
    images.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start && images.length < input.sample);
  const records = images
    .slice(0, input.sample)
    .map((image, index) => ({ eventName: 'INSERT', eventID: String(index), dynamodb: { Keys: { pk: image.pk, sk: image.sk }, NewImage: image, SequenceNumber: String(index) } }));
  const doc = createDocumentClient(input.config);
  const meter = meterCapacity(doc);
  const bus = { published: 0, bytes: 0, chunks: 0 };
  const publisher = {
    publish: async (events: readonly PublishedEvent[]) => {
      for (const event of events) {
        const bytes = Buffer.byteLength(JSON.stringify(event.detail)) + Buffer.byteLength(event.detailType) + 'prorata'.length;
        bus.published += 1;
        bus.bytes += bytes;
        bus.chunks += Math.ceil(bytes / 65_536);
      }
    },
  };
  const handler = createPublisherHandler(() => ({ store: new BillingStore(doc, { tableName: input.tableName }), publisher }));
  const batches: Array<typeof records> = [];
  for (let i = 0; i < records.length; i += input.batchSize) batches.push(records.slice(i, i + input.batchSize));
  let next = 0;
  let failedBatches = 0;
  const { figures } = await measured(meter, () =>
    Promise.all(
      Array.from({ length: input.concurrency }, async () => {
        while (next < batches.length) {
          const response = (await handler({ Records: batches[next++] } as unknown as DynamoDBStreamEvent)) as { batchItemFailures?: unknown[] };
          if ((response.batchItemFailures ?? []).length > 0) failedBatches += 1;
        }
      }),
    ),
  );
  return { ...figures, records: records.length, invocations: batches.length, published: bus.published, eventBytes: bus.bytes, eventChunks: bus.chunks, failedBatches };
}

serveRoles(async (role: Role, input: unknown) => {
  switch (role) {
    case 'dispatcher':
      return dispatch(input as DispatcherInput);
    case 'worker':
      return work(input as WorkerInput);
    case 'floor':
      return floor(input as FloorInput);
    case 'publisher':
      return publish(input as PublisherInput);
  }
});
