import '../simulator/quiet';
import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import { parseArgs } from 'node:util';
import type { WorkMessage } from '../shared/contracts/work-message';
import { DEFAULT_DUE_SHARDS } from '../shared/store/dynamo-store';
import { FUNCTION_MEMORY_MB } from '../infra/billing-function';
import {
  DEFAULT_DUE_INDEX_WARM_THROUGHPUT,
  DEFAULT_TABLE_WARM_THROUGHPUT,
  DEFAULT_WORKER_SIZING,
  defaultWorkerConcurrency,
  PUBLISHER_STREAM_BATCH_SIZE,
  WORK_MAX_RECEIVE_COUNT,
  WORKER_BATCH_SIZE,
} from '../infra/prorata-stack';
import type { CapacityReading } from '../simulator/capacity-meter';
import { formatCapacity, measureCapacity } from '../simulator/capacity-scenarios';
import { startLocalDynamo } from '../simulator/dynamo-local';
import { InProcessQueue } from '../simulator/in-process-queue';
import { AWS_LATENCY_MS, costPerRenewals, PRICING, projectPeriodStart, RENEWALS, type Deployment, type Measured } from './bench/aws-model';
import type { DispatcherResult, FloorResult, PublisherResult, WorkerResult } from './bench/child';
import { formatCoreSpeed, measureCoreSpeed } from './core-bench';
import { runRole } from './bench/ipc';
import { BENCH_RUN, benchId, seedWorkspaces } from './bench/seed';

/**
 * `npm run bench [-- --workspaces N] [--workers W] [--json]`: what the period start costs and how
 * fast it goes, in one run (README, "Cost and scale"). On DynamoDB Local (in memory, a free port):
 *
 * 1. the pure core's speed on a quiet renewal (this process);
 * 2. N workspaces seeded (`scripts/bench/seed.ts`: cloned from one the real ingest path wrote);
 * 3. the real dispatcher in a child process, sending one message per due workspace to the queue,
 *    which lives in this process (the in-process queue with SQS's semantics: no SQS-compatible
 *    server installs from the registries this project can use, see `simulator/in-process-queue.ts`);
 * 4. the real worker handler in another child, `W` pollers of `WORKER_BATCH_SIZE` messages (the
 *    event source mapping's `MaximumConcurrency`; `LOCAL_WORKERS` unless `--workers`);
 * 5. the raw floor in a third: what the worker sent for 20 sample workspaces (billed first, alone),
 *    replayed for fresh ones as bare SDK calls at the same concurrency (writes only, and every
 *    call), half before the job and half after;
 * 6. the real publisher handler on the renewals' invoice items, as the stream's INSERT batches;
 *
 * and from the measurements, the AWS cost per 1M renewals and the minutes the 1st takes with the
 * stack's warm throughput and worker concurrency (`scripts/bench/aws-model.ts`). Every DynamoDB
 * call is metered with `ReturnConsumedCapacity`. Exits non-zero if a workspace was not billed
 * exactly once.
 */

/** The command line, parsed strictly: an unknown flag or a positional argument is an error. */
function parseFlags() {
  return parseArgs({
    options: {
      workspaces: { type: 'string', default: '5000' },
      workers: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  }).values;
}

function positiveInteger(name: string, raw: string, max: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) throw new Error(`--${name}: must be an integer from 1 to ${max}, got ${raw}`);
  return value;
}

/**
 * Worker pollers on DynamoDB Local (`--workers` to change): the stack's default (89 × 10 = 890
 * workspaces in flight) only queues up on a 2-core machine, where DynamoDB Local saturates at a
 * few dozen requests in flight; the AWS projection uses the stack's figure, not this one.
 */
const LOCAL_WORKERS = 4;
/** Fresh workspaces each raw floor bills (at most): its figure is a rate. */
const FLOOR_WORKSPACES = 600;
/** Workspaces each floor process bills untimed first (its warm-up). */
const FLOOR_WARMUP = 100;
/** Workspaces whose calls the floor replays. */
const SAMPLES = 20;
/** Renewal invoices the publisher is measured on (its figures are per invoice). */
const PUBLISHER_SAMPLE = 500;
/** Stream batches the publisher handles at once (the table's stream shards). */
const PUBLISHER_CONCURRENCY = 4;
/** Workspaces per scenario of the capacity per operation (`measureCapacity`; `npm run capacity` uses 10). */
const CAPACITY_WORKSPACES = 3;

interface Row {
  figure: string;
  value: number;
  unit: string;
  /** `≤`/`≥` and the bound, or none for a figure shown for context. */
  target?: { op: '≤' | '≥'; bound: number };
  note?: string;
}

const status = (row: Row) => (row.target ? ((row.target.op === '≤' ? row.value <= row.target.bound : row.value >= row.target.bound) ? 'OK' : 'MISS') : '');

/** Units per invoice of a reading, the base table's and the index's writes apart. */
function unitsOf(reading: CapacityReading, tableName: string, invoices: number) {
  const target = (name: string) => reading.byTarget[name] ?? { rru: 0, wru: 0 };
  return {
    tableWru: target(tableName).wru / invoices,
    indexWru: target(`${tableName}/gsi1`).wru / invoices,
    rru: reading.rru / invoices,
    wru: reading.wru / invoices,
  };
}

/** Two runs of a floor as one: their workspaces, calls, times and units summed. */
function addFloors(a: FloorResult, b: FloorResult): FloorResult {
  return {
    ...b,
    ms: a.ms + b.ms,
    cpuMs: a.cpuMs + b.cpuMs,
    peakRssMb: Math.max(a.peakRssMb, b.peakRssMb),
    workspaces: a.workspaces + b.workspaces,
    calls: a.calls + b.calls,
    retries: a.retries + b.retries,
    capacity: { ...b.capacity, rru: a.capacity.rru + b.capacity.rru, wru: a.capacity.wru + b.capacity.wru, calls: a.capacity.calls + b.capacity.calls },
  };
}

function callsPerInvoice(reading: CapacityReading, invoices: number): Record<string, number> {
  return Object.fromEntries(Object.entries(reading.byOperation).map(([operation, units]) => [operation, units.calls / invoices]));
}

const fixed = (value: number, digits = 1) => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

async function main(): Promise<void> {
  const flags = parseFlags();
  const count = positiveInteger('workspaces', flags.workspaces ?? '5000', 200_000);
  const workers = flags.workers === undefined ? LOCAL_WORKERS : positiveInteger('workers', flags.workers, 1000);
  const batchSize = WORKER_BATCH_SIZE;
  const floorCount = Math.min(FLOOR_WORKSPACES, Math.ceil(count / 2));
  const log = (line: string) => {
    if (!flags.json) console.error(line);
  };
  const runStarted = performance.now();

  const coreSpeed = measureCoreSpeed({ iterations: 20_000, rounds: 3 });
  for (const line of formatCoreSpeed(coreSpeed)) log(line);
  // The middle round, not the best: the machine may be shared, and one lucky round is not the rate.
  const core = { renewalsPerSecond: coreSpeed.renewalsPerSecond[Math.floor(coreSpeed.renewalsPerSecond.length / 2)] };

  // Capacity per operation and item sizes, in a DynamoDB Local of their own: their 36 months of
  // member churn slowed the job's DynamoDB Local threefold when they shared one.
  const capacityStarted = performance.now();
  const capacityDynamo = await startLocalDynamo();
  const capacity = await measureCapacity(capacityDynamo, CAPACITY_WORKSPACES, `bench-capacity-${randomUUID()}`).finally(() => capacityDynamo.stop());
  log(`capacity per operation: ${CAPACITY_WORKSPACES} workspaces per scenario in ${fixed((performance.now() - capacityStarted) / 1000)} s`);
  const historyRatio = (pick: (cost: typeof capacity.quietRenewal) => number) => pick(capacity.quietRenewalWithHistory) / pick(capacity.quietRenewalWithMonthOfHistory);
  const dynamo = await startLocalDynamo();
  try {
    const tableName = `bench-${randomUUID()}`;
    await dynamo.createTable(tableName);
    const jobIds = Array.from({ length: count }, (_, i) => benchId('j', i));
    const sampleIds = Array.from({ length: SAMPLES }, (_, i) => benchId('s', i));
    // Each floor runs half before the job and half after it, so a change of the machine's load
    // during the run weighs on both; the second halves are seeded after the dispatch, which must
    // not find them due.
    const half = Math.ceil(floorCount / 2);
    const floorIds = (set: string, from: number) => Array.from({ length: half }, (_, i) => benchId(set, from + i));
    // Each floor process first bills workspaces of its own, untimed, to warm up.
    const warmupIds = (run: number) => Array.from({ length: FLOOR_WARMUP }, (_, i) => benchId('w', run * FLOOR_WARMUP + i));
    const seeded = await seedWorkspaces(dynamo, tableName, [...jobIds, ...sampleIds, ...floorIds('f', 0), ...floorIds('r', 0), ...warmupIds(0), ...warmupIds(1)]);
    log(`seeded ${seeded.workspaces} workspaces (${seeded.itemsPerWorkspace} items each, BatchWriteItem) in ${fixed(seeded.ms / 1000)} s`);

    // The queue: SQS's semantics in this process; the children send, receive and delete through it.
    const queue = new InProcessQueue({ visibilityTimeoutMs: 600_000, maxReceiveCount: WORK_MAX_RECEIVE_COUNT });
    let queueCalls = { send: 0, receive: 0, delete: 0 };
    const handlers = {
      send: (messages: unknown) => {
        queueCalls.send += 1;
        return queue.sendBatch(messages as WorkMessage[]);
      },
      receive: (max: unknown) => {
        const records = queue.receive(max as number);
        if (records.length > 0) queueCalls.receive += 1;
        return { records, depth: queue.depth };
      },
      delete: (receipts: unknown) => {
        // The mapping deletes a batch's successes with one DeleteMessageBatch.
        queueCalls.delete += 1;
        for (const receipt of receipts as string[]) queue.delete(receipt);
      },
    };
    const config = dynamo.config;
    const workerInput = { config, tableName, workers, batchSize, maxReceiveCount: WORK_MAX_RECEIVE_COUNT };
    const workerEnv = { POWERTOOLS_LOG_LEVEL: 'INFO' };

    // The samples: billed first by the same worker, which records their calls for the floors.
    for (let i = 0; i < sampleIds.length; i += 10) {
      await queue.sendBatch(
        sampleIds.slice(i, i + 10).map((workspace) => ({
          job: 'invoicing',
          workspace,
          sortKey: `${seeded.dueAt}#${workspace}`,
          subscriptionId: seeded.subscriptionIdFor(workspace),
          scheduledTime: BENCH_RUN,
        })),
      );
    }
    const recording = await runRole<WorkerResult>('worker', { ...workerInput, sampleIds }, handlers, workerEnv);
    const samples = sampleIds.map((id) => ({ id, calls: recording.recorded[id] ?? [] }));
    if (recording.invoiced !== SAMPLES || samples.some((sample) => sample.calls.length === 0))
      throw new Error(`the sample workspaces were not all billed and recorded (${recording.invoiced} of ${SAMPLES})`);
    queueCalls = { send: 0, receive: 0, delete: 0 };

    const floorInput = { config, tableName, concurrency: workers * batchSize, dueShards: DEFAULT_DUE_SHARDS, samples };
    const floorWritesBefore = await runRole<FloorResult>('floor', { ...floorInput, ids: floorIds('f', 0), warmupIds: warmupIds(0), writesOnly: true });
    const floorAllBefore = await runRole<FloorResult>('floor', { ...floorInput, ids: floorIds('r', 0), warmupIds: warmupIds(1), writesOnly: false });

    const dispatcher = await runRole<DispatcherResult>('dispatcher', { config, tableName }, handlers);
    log(`dispatcher: ${dispatcher.report.dispatched} of ${dispatcher.report.due} due dispatched in ${fixed(dispatcher.ms / 1000)} s`);
    const worker = await runRole<WorkerResult>('worker', { ...workerInput, sampleIds: [] }, handlers, workerEnv);
    log(`workers: ${worker.invoiced} invoiced in ${fixed(worker.ms / 1000)} s (${worker.invocations} invocations, ${worker.alreadyBilled} already billed, ${worker.failed} failed)`);

    const problems: string[] = [];
    if (dispatcher.report.dispatched !== count) problems.push(`dispatched ${dispatcher.report.dispatched} of ${count}`);
    if (worker.invoiced !== count || worker.invoices !== count) problems.push(`invoiced ${worker.invoiced} workspaces (${worker.invoices} invoices) of ${count}`);
    if (worker.failed > 0 || worker.crashes > 0) problems.push(`${worker.failed} failed, ${worker.crashes} crashed: ${worker.failures.join('; ')}`);
    if (queue.depth > 0 || queue.deadLetters.length > 0) problems.push(`queue left ${queue.depth} messages, ${queue.deadLetters.length} dead letters`);
    if (problems.length > 0) throw new Error(`the job did not bill every workspace exactly once: ${problems.join('; ')}`);

    const floorSeed = await seedWorkspaces(dynamo, tableName, [...floorIds('f', half), ...floorIds('r', half), ...warmupIds(2), ...warmupIds(3)]);
    const floorWrites = addFloors(floorWritesBefore, await runRole<FloorResult>('floor', { ...floorInput, ids: floorIds('f', half), warmupIds: warmupIds(2), writesOnly: true }));
    const floorAll = addFloors(floorAllBefore, await runRole<FloorResult>('floor', { ...floorInput, ids: floorIds('r', half), warmupIds: warmupIds(3), writesOnly: false }));
    log(`raw floor: writes only ${fixed(floorWrites.ms / 1000)} s, every call ${fixed(floorAll.ms / 1000)} s for ${floorWrites.workspaces} workspaces each, half before the job, half after`);

    const publisher = await runRole<PublisherResult>(
      'publisher',
      { config, tableName, sample: Math.min(count, PUBLISHER_SAMPLE), batchSize: PUBLISHER_STREAM_BATCH_SIZE, concurrency: PUBLISHER_CONCURRENCY },
      {},
      { POWERTOOLS_LOG_LEVEL: 'INFO' },
    );
    if (publisher.records === 0 || publisher.published !== publisher.records || publisher.failedBatches > 0)
      throw new Error(`the publisher published ${publisher.published} of ${publisher.records} entries (${publisher.failedBatches} failed batches)`);
    log(`publisher: ${publisher.published} events in ${fixed(publisher.ms / 1000)} s`);

    // --- figures ------------------------------------------------------------------------------
    const invoices = worker.invoiced;
    const jobRate = invoices / (worker.ms / 1000);
    const floorWritesRate = floorWrites.workspaces / (floorWrites.ms / 1000);
    const floorAllRate = floorAll.workspaces / (floorAll.ms / 1000);
    const dispatcherUnits = unitsOf(dispatcher.capacity, tableName, invoices);
    const workerUnits = unitsOf(worker.capacity, tableName, invoices);
    const publisherUnits = unitsOf(publisher.capacity, tableName, publisher.published);
    const job = { tableWru: dispatcherUnits.tableWru + workerUnits.tableWru, indexWru: dispatcherUnits.indexWru + workerUnits.indexWru, rru: dispatcherUnits.rru + workerUnits.rru };
    const measured: Measured = {
      job,
      publisher: publisherUnits,
      workerCallsPerInvoice: callsPerInvoice(worker.capacity, invoices),
      publisherCallsPerInvoice: callsPerInvoice(publisher.capacity, publisher.published),
      workerCpuMsPerInvoice: worker.cpuMs / invoices,
      publisherCpuMsPerInvoice: publisher.cpuMs / publisher.published,
      queueRequestsPerInvoice: (queueCalls.send + queueCalls.receive + queueCalls.delete) / invoices,
      eventChunksPerInvoice: publisher.eventChunks / publisher.published,
      logBytesPerInvoice: worker.logBytes / invoices + publisher.logBytes / publisher.published,
    };
    const deployment: Deployment = {
      memoryMb: FUNCTION_MEMORY_MB,
      workerBatchSize: batchSize,
      workerConcurrency: defaultWorkerConcurrency(),
      publisherBatchSize: PUBLISHER_STREAM_BATCH_SIZE,
      tableWarmWrites: DEFAULT_TABLE_WARM_THROUGHPUT.writeUnitsPerSecond ?? 0,
      indexWarmWrites: DEFAULT_DUE_INDEX_WARM_THROUGHPUT.writeUnitsPerSecond ?? 0,
      headroom: DEFAULT_WORKER_SIZING.headroom,
    };
    const projection = projectPeriodStart(measured, deployment);
    const cost = costPerRenewals(measured, deployment, projection);
    const totalUsd = cost.reduce((sum, line) => sum + line.usd, 0);

    const rows: Row[] = [
      {
        figure: 'job: invoices/s (the workers, after the dispatch)',
        value: jobRate,
        unit: '/s',
        note: `${invoices} invoices in ${fixed(worker.ms / 1000)} s, ${workers} workers × ${batchSize}; dispatch ${fixed(dispatcher.ms / 1000)} s before`,
      },
      {
        figure: 'raw floor, writes only: invoices/s',
        value: floorWritesRate,
        unit: '/s',
        note: `${fixed(floorWrites.calls / floorWrites.workspaces)} call per workspace, ${workers * batchSize} at once`,
      },
      { figure: 'job / raw floor (writes only)', value: jobRate / floorWritesRate, unit: '×', target: { op: '≥', bound: 0.8 } },
      { figure: 'raw floor, every call: invoices/s', value: floorAllRate, unit: '/s', note: `${fixed(floorAll.calls / floorAll.workspaces)} calls per workspace` },
      { figure: 'job / raw floor (every call)', value: jobRate / floorAllRate, unit: '×' },
      {
        figure: 'WRU per invoice, job (table + index)',
        value: job.tableWru + job.indexWru,
        unit: 'WRU',
        target: { op: '≤', bound: 6 },
        note: `table ${fixed(job.tableWru, 2)}, index ${fixed(job.indexWru, 2)}`,
      },
      { figure: 'RRU per invoice, job (due-index queries amortised)', value: job.rru, unit: 'RRU', target: { op: '≤', bound: 2 }, note: `dispatcher ${fixed(dispatcherUnits.rru, 3)}` },
      { figure: 'WRU per invoice, publisher (invoice inserts off the stream)', value: publisherUnits.tableWru + publisherUnits.indexWru, unit: 'WRU' },
      { figure: 'RRU per invoice, publisher', value: publisherUnits.rru, unit: 'RRU' },
      {
        figure: 'worker CPU ms per invoice',
        value: measured.workerCpuMsPerInvoice,
        unit: 'ms',
        target: { op: '≤', bound: 2.5 },
        note: `bare SDK floor: ${fixed(floorAll.cpuMs / floorAll.workspaces, 2)} ms`,
      },
      {
        figure: 'peak RSS, worker process',
        value: worker.peakRssMb,
        unit: 'MB',
        target: { op: '≤', bound: FUNCTION_MEMORY_MB },
        note: `${workers} pollers × ${batchSize} in one process; ${fixed(worker.startRssMb, 0)} MB at start, ${fixed(worker.retainedHeapMb, 0)} MB heap kept`,
      },
      {
        figure: 'peak RSS, dispatcher process',
        value: dispatcher.peakRssMb,
        unit: 'MB',
        target: { op: '≤', bound: FUNCTION_MEMORY_MB },
        note: `${fixed(dispatcher.startRssMb, 0)} MB at start, ${fixed(dispatcher.retainedHeapMb, 0)} MB heap kept`,
      },
      {
        figure: `quiet renewal after ${capacity.historyMonths} months of daily churn ÷ after 1 month: RRU`,
        value: historyRatio((cost) => cost.rru),
        unit: '×',
        target: { op: '≤', bound: 1.1 },
        note: `${fixed(capacity.quietRenewalWithHistory.rru, 2)} against ${fixed(capacity.quietRenewalWithMonthOfHistory.rru, 2)} RRU`,
      },
      {
        figure: `the same: WRU`,
        value: historyRatio((cost) => cost.wru),
        unit: '×',
        target: { op: '≤', bound: 1.1 },
        note: `${fixed(capacity.quietRenewalWithHistory.wru, 2)} against ${fixed(capacity.quietRenewalWithMonthOfHistory.wru, 2)} WRU`,
      },
      {
        figure: `the same: requests`,
        value: historyRatio((cost) => cost.calls),
        unit: '×',
        target: { op: '≤', bound: 1.1 },
        note: `${fixed(capacity.quietRenewalWithHistory.calls, 1)} against ${fixed(capacity.quietRenewalWithMonthOfHistory.calls, 1)}`,
      },
      { figure: 'pure core: quiet renewals/s (one core)', value: core.renewalsPerSecond, unit: '/s', target: { op: '≥', bound: 50_000 } },
      { figure: `AWS cost per 1M renewals, all in (${PRICING.region}, prices of ${PRICING.date})`, value: totalUsd, unit: '$', target: { op: '≤', bound: 6 } },
      {
        figure: `minutes to renew 1M on AWS (${deployment.tableWarmWrites.toLocaleString('en-US')} WRU/s warm, ${deployment.workerConcurrency} workers)`,
        value: projection.minutes,
        unit: 'min',
        target: { op: '≤', bound: 20 },
        note: `bottleneck: ${projection.bottleneck}`,
      },
    ];

    const result = {
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? '?', loadAverage: os.loadavg().map((load) => Number(load.toFixed(2))), node: process.version },
      workspaces: count,
      workers,
      batchSize,
      seconds: (performance.now() - runStarted) / 1000,
      rows: rows.map((row) => ({ ...row, status: status(row) || undefined })),
      cost: cost.map((line) => ({ ...line, usd: Number(line.usd.toFixed(4)) })),
      projection: { ...projection, renewals: RENEWALS, assumedLatencyMs: AWS_LATENCY_MS, deployment },
      measured,
      seeding: { beforeTheJob: seeded, floorsAfterTheJob: floorSeed },
      queue: { ...queueCalls, inProcess: true },
      processes: {
        dispatcher: {
          ms: dispatcher.ms,
          cpuMs: dispatcher.cpuMs,
          peakRssMb: dispatcher.peakRssMb,
          startRssMb: dispatcher.startRssMb,
          retainedHeapMb: dispatcher.retainedHeapMb,
          report: dispatcher.report,
        },
        worker: {
          ms: worker.ms,
          cpuMs: worker.cpuMs,
          peakRssMb: worker.peakRssMb,
          startRssMb: worker.startRssMb,
          retainedHeapMb: worker.retainedHeapMb,
          invocations: worker.invocations,
          logBytes: worker.logBytes,
        },
        floorWrites: {
          ms: floorWrites.ms,
          cpuMs: floorWrites.cpuMs,
          peakRssMb: floorWrites.peakRssMb,
          calls: floorWrites.calls,
          retries: floorWrites.retries,
          wruPerWorkspace: floorWrites.capacity.wru / floorWrites.workspaces,
        },
        floorAll: {
          ms: floorAll.ms,
          cpuMs: floorAll.cpuMs,
          peakRssMb: floorAll.peakRssMb,
          calls: floorAll.calls,
          retries: floorAll.retries,
          wruPerWorkspace: floorAll.capacity.wru / floorAll.workspaces,
          rruPerWorkspace: floorAll.capacity.rru / floorAll.workspaces,
        },
        publisher: { ms: publisher.ms, cpuMs: publisher.cpuMs, peakRssMb: publisher.peakRssMb, published: publisher.published, eventBytes: publisher.eventBytes, logBytes: publisher.logBytes },
      },
      capacity: { dispatcher: dispatcher.capacity, worker: worker.capacity, publisher: publisher.capacity },
      perOperation: capacity,
    };
    if (flags.json) {
      console.log(JSON.stringify(result, null, 2));
      return;
    }
    printTable(rows);
    console.log('');
    for (const line of formatCapacity(capacity)) console.log(line);
    console.log('');
    console.log(`AWS cost per 1M renewals (scripts/pricing.json, ${PRICING.region}, ${PRICING.date}):`);
    for (const line of cost) console.log(`  ${line.name.padEnd(20)} $${line.usd.toFixed(3).padStart(7)}   ${line.formula}`);
    console.log(`  ${'total'.padEnd(20)} $${totalUsd.toFixed(3).padStart(7)}`);
    console.log('');
    const limits = projection.limits;
    console.log(
      `1M on AWS: table ${fixed(limits.table, 0)}/s (${deployment.tableWarmWrites} WRU/s × ${deployment.headroom} ÷ ${fixed(job.tableWru + publisherUnits.tableWru, 2)} WRU), ` +
        `index ${fixed(limits.index, 0)}/s (${deployment.indexWarmWrites} WRU/s × ${deployment.headroom} ÷ ${fixed(job.indexWru + publisherUnits.indexWru, 2)} WRU), ` +
        `workers ${fixed(limits.workers, 0)}/s (${deployment.workerConcurrency} × ${batchSize} ÷ ${fixed(projection.workerBatchMs, 0)} ms a batch at ${JSON.stringify(AWS_LATENCY_MS)} ms per request) → ${fixed(projection.minutes)} min, bound by the ${projection.bottleneck}`,
    );
    console.log(
      `machine: ${result.machine.cpus} cores (${result.machine.model}), load ${result.machine.loadAverage.join(' ')}; DynamoDB Local in memory; queue in-process; ${fixed(result.seconds, 0)} s in all`,
    );
  } finally {
    await dynamo.stop();
  }
}

function printTable(rows: readonly Row[]): void {
  const cells = rows.map((row) => [
    row.figure,
    `${fixed(row.value, row.value >= 100 ? 0 : 2)} ${row.unit}`,
    row.target ? `${row.target.op} ${row.target.bound.toLocaleString('en-US')}` : '',
    status(row),
    row.note ?? '',
  ]);
  const header = ['figure', 'measured', 'target', '', 'how'];
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((cell) => cell[column].length)));
  const line = (cell: string[]) =>
    cell
      .map((text, column) => (column === 1 ? text.padStart(widths[column]) : text.padEnd(widths[column])))
      .join('  ')
      .trimEnd();
  console.log(line(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const cell of cells) console.log(line(cell));
}

main().catch((error: unknown) => {
  // A wrong flag is the user's mistake: its message says which, without a stack.
  const usage = error instanceof Error && ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') || error.message.startsWith('--'));
  console.error(usage ? `npm run bench: ${(error as Error).message}\nusage: npm run bench [-- --workspaces N] [--workers W] [--json]` : error);
  process.exit(1);
});
