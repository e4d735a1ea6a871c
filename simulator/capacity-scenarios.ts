import { createPublisherHandler } from '../functions/publisher/handler';
import { isPublisherRecord, LocalTableStream } from './local-stream';
import { BatchWriteCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { addDays, eachDate } from '../shared/domain/calendar';
import type { MemberEvent } from '../shared/domain/members';
import { keys } from '../shared/store/keys';
import { parseAppEvent } from '../shared/contracts/events';
import { DEFAULT_SETTINGS, type Catalog, type Plan } from '../shared/domain/catalog';
import { runBillingJob, type JobName } from '../shared/jobs/billing-jobs';
import type { Dependencies } from '../shared/jobs/dependencies';
import { ingestEvent } from '../shared/jobs/ingest';
import { sweepOutbox, type PublishRun } from '../shared/jobs/publish';
import { BillingStore, createDocumentClient } from '../shared/store/dynamo-store';
import { itemSizeBytes } from '../shared/store/item-size';
import { meterCapacity, subtractReadings, type CapacityMeter, type CapacityReading, type Units } from './capacity-meter';
import type { LocalDynamo } from './dynamo-local';

/** One measured operation: capacity per workspace (the run's fixed reads taken out), and what the run's fixed part cost. */
export interface OperationCost extends Units {
  /** Requests per workspace. */
  calls: number;
  /** The reading behind it, for all the workspaces together (fixed part taken out). */
  detail: CapacityReading;
}

/** What `measureCapacity` found. */
export interface CapacityFigures {
  workspaces: number;
  /** A renewal of a monthly plan with no seat change in the month (steady state: the second renewal). */
  quietRenewal: OperationCost;
  /**
   * Publishing that renewal's `Invoice Issued`: the publisher handler on the invoice item's stream
   * record (nothing to claim, mark or delete: the item is its own outbox).
   */
  quietRenewalPublish: OperationCost;
  /**
   * A quiet monthly renewal of a workspace whose member history holds `historyMonths` months of a
   * member joining or leaving every day before the subscription (the same invoices as `quietRenewal`).
   */
  quietRenewalWithHistory: OperationCost;
  historyMonths: number;
  /** The same with one month of that churn: the history-independent reads compare the two. */
  quietRenewalWithMonthOfHistory: OperationCost;
  /** A monthly renewal billing one proration (a member joined mid-month). */
  renewalWithProrations: OperationCost;
  /** A monthly true-up of an annual plan billing one proration. */
  trueUp: OperationCost;
  /** The accrual of one changed day (one proration). */
  accrualStep: OperationCost;
  /** Ingesting one member event into a subscribed workspace. */
  memberEvent: OperationCost;
  /** A scheduled run's own reads, whatever the number of workspaces: the catalog and every due-index shard. */
  runFixed: Units & { calls: number };
  /** The largest item of each kind seen in the scenarios, in bytes as DynamoDB counts them. */
  itemBytes: Record<string, number>;
}

const MONTHLY: Plan = { id: 'team-monthly', name: 'Team', interval: 'month', seatPrice: '70.00', seatMode: 'flexible', minimumSeats: 1, maximumSeats: null, storageGb: 100, aiCreditsPerPeriod: 0 };
const ANNUAL: Plan = { ...MONTHLY, id: 'team-annual', interval: 'year', seatPrice: '700.00' };
const CATALOG: Catalog = { plans: [MONTHLY, ANNUAL], addons: [], creditPacks: [] };

/** The item kind of a key: the sort key's prefix (`SUB`, `INVOICE`, …), or the partition's for outbox and idempotency items. */
export function itemKindOf(item: Record<string, unknown>): string {
  const pk = String(item.pk);
  if (pk.startsWith('OUTBOX#')) return 'OUTBOX';
  if (pk.startsWith('IDEMPOTENCY#')) return 'IDEMPOTENCY';
  return String(item.sk).split('#')[0];
}

interface Table {
  deps: Dependencies;
  meter: CapacityMeter;
  doc: DynamoDBDocumentClient;
  tableName: string;
}

async function openTable(dynamo: LocalDynamo, tableName: string): Promise<Table> {
  await dynamo.createTable(tableName);
  const doc = createDocumentClient(dynamo.config);
  const meter = meterCapacity(doc);
  // One due shard: shards only spread partitions, but with a handful of workspaces each non-empty
  // shard's 0.5 RRU minimum would be charged to a few renewals instead of thousands.
  return { deps: { store: new BillingStore(doc, { tableName, dueShards: 1 }), publisher: { publish: async () => undefined } }, meter, doc, tableName };
}

let eventSeq = 0;

/** A publisher run on a fixed clock (leases never expire mid-measurement). */
function publishRun(): PublishRun {
  return { claimant: `capacity-${++eventSeq}`, clock: () => new Date('2027-02-01T00:06:00Z') };
}

async function deliver(deps: Dependencies, workspace: string, type: string, at: string, detail: Record<string, unknown>): Promise<void> {
  await ingestEvent(deps, parseAppEvent(`cap-${++eventSeq}`, type, at, { at, workspace, ...detail }));
}

/** `count` workspaces of three members each on `plan`, subscribed on 2026-12-23 (first invoice at once). */
async function subscribeAll(table: Table, count: number, plan: Plan): Promise<string[]> {
  await table.deps.store.putCatalog(CATALOG);
  const ids = Array.from({ length: count }, (_, index) => `ws-${String(index).padStart(4, '0')}`);
  for (const id of ids) {
    await table.deps.store.putWorkspace({ id, name: id, timezone: 'UTC', currency: 'USD', billingDay: 1, contract: 'standard', paymentMethod: true, settings: DEFAULT_SETTINGS });
    for (let member = 1; member <= 3; member += 1) await deliver(table.deps, id, 'member.joined', '2026-12-23T09:00:00Z', { member: `u${member}`, role: member === 1 ? 'owner' : 'member' });
    await deliver(table.deps, id, 'subscription.started', '2026-12-23T10:00:00Z', { plan: plan.id });
  }
  return ids;
}

/**
 * Writes `months` months of daily churn (a member joining one day, leaving the next) ending the
 * day before 2026-12-23, straight into the table, as ingest would have stored it.
 */
async function seedHistory(table: Table, workspace: string, months: number): Promise<void> {
  const first = addDays('2026-12-22', -Math.round(months * 30.44));
  const events: MemberEvent[] = eachDate(first, '2026-12-22').map((date, day) => ({
    type: day % 2 === 0 ? 'member.joined' : 'member.removed',
    member: `churn${Math.floor(day / 2)}`,
    role: 'member',
    at: `${date}T10:00:00Z`,
    date,
    seq: 1000 + day,
  }));
  for (let start = 0; start < events.length; start += 25) {
    const puts = events.slice(start, start + 25).map((event, index) => ({ PutRequest: { Item: { ...keys.memberEvent(workspace, event.date, `history-${start + index}`), event } } }));
    await table.doc.send(new BatchWriteCommand({ RequestItems: { [table.tableName]: puts } }));
  }
}

/** Meters `work`; the reading of `fixed` (the same run with nothing due) is taken out before dividing by `per`. */
async function measure(table: Table, per: number, work: () => Promise<void>, fixed?: CapacityReading): Promise<OperationCost> {
  table.meter.reset();
  await work();
  const detail = fixed ? subtractReadings(table.meter.reading(), fixed) : table.meter.reading();
  return { rru: detail.rru / per, wru: detail.wru / per, calls: detail.calls / per, detail };
}

async function run(table: Table, job: JobName, scheduledTime: string, expectFailures = 0): Promise<void> {
  const report = await runBillingJob(table.deps, job, { scheduledTime });
  if (report.failed.length !== expectFailures) throw new Error(`${job} at ${scheduledTime}: ${JSON.stringify(report.failed)}`);
}

/** A run with nothing due: what every run costs before its first workspace. */
async function fixedPart(table: Table, job: JobName, scheduledTime: string): Promise<CapacityReading> {
  table.meter.reset();
  await run(table, job, scheduledTime);
  return table.meter.reading();
}

async function largestItems(table: Table, into: Record<string, number>): Promise<void> {
  let start: Record<string, unknown> | undefined;
  do {
    const out = await table.doc.send(new ScanCommand({ TableName: table.tableName, ExclusiveStartKey: start }));
    for (const item of out.Items ?? []) {
      const kind = itemKindOf(item);
      into[kind] = Math.max(into[kind] ?? 0, itemSizeBytes(item));
      // What the keys-only due index holds for it: the table's keys and its own.
      if (typeof item.gsi1pk === 'string') into['gsi1 entry'] = Math.max(into['gsi1 entry'] ?? 0, itemSizeBytes({ pk: item.pk, sk: item.sk, gsi1pk: item.gsi1pk, gsi1sk: item.gsi1sk }));
    }
    start = out.LastEvaluatedKey;
  } while (start);
}

/**
 * Measures, against DynamoDB Local, the capacity each billing operation consumes per workspace
 * (every call metered by `meterCapacity`), over `workspaces` workspaces per scenario, each
 * scenario in its own table: quiet monthly renewals, renewals and true-ups with a proration,
 * an accrual step, a member event; and the largest item of each kind. What a scheduled run
 * reads once (the catalog, each due shard) is reported apart, as it is shared by every
 * workspace due in that run.
 */
export async function measureCapacity(dynamo: LocalDynamo, workspaces = 10, prefix = `capacity-${Date.now()}`, historyMonths = 36): Promise<CapacityFigures> {
  const itemBytes: Record<string, number> = {};
  const tables: Table[] = [];
  const streams: LocalTableStream[] = [];
  try {
    // Quiet: the second renewal (Feb 1) is the steady state; the first one (Jan 1) follows the stub.
    const quiet = await openTable(dynamo, `${prefix}-quiet`);
    tables.push(quiet);
    await subscribeAll(quiet, workspaces, MONTHLY);
    await run(quiet, 'invoicing', '2027-01-01T00:05:00Z');
    const fixedInvoicing = await fixedPart(quiet, 'invoicing', '2027-01-15T00:05:00Z');
    // The publisher as its stream mapping invokes it: the invoices' inserts, in batches.
    const stream = new LocalTableStream(dynamo.config, quiet.tableName, { accept: isPublisherRecord });
    streams.push(stream);
    let announced = 0;
    const publisher = createPublisherHandler(() => ({ store: quiet.deps.store, publisher: { publish: async (events) => void (announced += events.length) } }));
    await stream.deliver(publisher);
    await sweepOutbox(quiet.deps, publishRun());
    const quietRenewal = await measure(quiet, workspaces, () => run(quiet, 'invoicing', '2027-02-01T00:05:00Z'), fixedInvoicing);
    announced = 0;
    const quietRenewalPublish = await measure(quiet, workspaces, async () => {
      await stream.deliver(publisher);
      if (announced !== workspaces) throw new Error(`published ${announced} of ${workspaces} renewals`);
    });

    // The same, after a month and after years of member churn before the subscription: the
    // snapshot folds it, so both read the same few items.
    const withHistory = async (name: string, months: number): Promise<OperationCost> => {
      const old = await openTable(dynamo, `${prefix}-${name}`);
      tables.push(old);
      const oldIds = await subscribeAll(old, workspaces, MONTHLY);
      for (const id of oldIds) await seedHistory(old, id, months);
      await run(old, 'invoicing', '2027-01-01T00:05:00Z');
      const fixedOld = await fixedPart(old, 'invoicing', '2027-01-15T00:05:00Z');
      return measure(old, workspaces, () => run(old, 'invoicing', '2027-02-01T00:05:00Z'), fixedOld);
    };
    const quietRenewalWithMonthOfHistory = await withHistory('month', 1);
    const quietRenewalWithHistory = await withHistory('history', historyMonths);

    // A member joins on the 10th: one member event, one accrual step, then a renewal billing it.
    const changed = await openTable(dynamo, `${prefix}-prorations`);
    tables.push(changed);
    const changedIds = await subscribeAll(changed, workspaces, MONTHLY);
    await run(changed, 'invoicing', '2027-01-01T00:05:00Z');
    const memberEvent = await measure(changed, workspaces, async () => {
      for (const id of changedIds) await deliver(changed.deps, id, 'member.joined', '2027-01-10T15:00:00Z', { member: 'u4', role: 'member' });
    });
    const fixedAccrual = await fixedPart(changed, 'accrual', '2027-01-05T00:05:00Z');
    const accrualStep = await measure(changed, workspaces, () => run(changed, 'accrual', '2027-01-11T00:05:00Z'), fixedAccrual);
    const fixedChanged = await fixedPart(changed, 'invoicing', '2027-01-15T00:05:00Z');
    const renewalWithProrations = await measure(changed, workspaces, () => run(changed, 'invoicing', '2027-02-01T00:05:00Z'), fixedChanged);

    // Annual: a member joins on the 10th, the Feb 1 true-up bills it.
    const annual = await openTable(dynamo, `${prefix}-true-up`);
    tables.push(annual);
    const annualIds = await subscribeAll(annual, workspaces, ANNUAL);
    await run(annual, 'invoicing', '2027-01-01T00:05:00Z');
    for (const id of annualIds) await deliver(annual.deps, id, 'member.joined', '2027-01-10T15:00:00Z', { member: 'u4', role: 'member' });
    await run(annual, 'accrual', '2027-01-11T00:05:00Z');
    const fixedAnnual = await fixedPart(annual, 'invoicing', '2027-01-15T00:05:00Z');
    const trueUp = await measure(annual, workspaces, () => run(annual, 'invoicing', '2027-02-01T00:05:00Z'), fixedAnnual);

    for (const table of tables) await largestItems(table, itemBytes);
    return {
      workspaces,
      quietRenewal,
      quietRenewalPublish,
      quietRenewalWithHistory,
      historyMonths,
      quietRenewalWithMonthOfHistory,
      renewalWithProrations,
      trueUp,
      accrualStep,
      memberEvent,
      runFixed: { rru: fixedInvoicing.rru, wru: fixedInvoicing.wru, calls: fixedInvoicing.calls },
      itemBytes,
    };
  } finally {
    for (const table of tables) table.doc.destroy();
    for (const stream of streams) stream.destroy();
  }
}

/**
 * `measureCapacity`'s figures as the lines `npm run capacity` and `npm run bench` print: per
 * workspace, each operation's WRU and RRU, its requests, and the base table's and index's shares;
 * the run's fixed reads; the largest item of each kind.
 */
export function formatCapacity(figures: CapacityFigures): string[] {
  const n = figures.workspaces;
  const row = (name: string, cost: OperationCost) => {
    const ops = Object.entries(cost.detail.byOperation)
      .map(([op, units]) => `${op} ×${(units.calls / n).toFixed(1)}`)
      .join(', ');
    const targets = Object.entries(cost.detail.byTarget)
      .map(([target, units]) => `${target.split('/')[1] ?? 'table'} ${(units.wru / n).toFixed(1)} WRU ${(units.rru / n).toFixed(1)} RRU`)
      .join(', ');
    return `${name.padEnd(28)} ${cost.wru.toFixed(1).padStart(5)} WRU ${cost.rru.toFixed(1).padStart(5)} RRU  ${ops}  [${targets}]`;
  };
  const allIn = figures.quietRenewal.wru + figures.quietRenewalPublish.wru;
  return [
    `capacity per workspace, DynamoDB Local, ${n} workspaces per scenario`,
    row('quiet monthly renewal', figures.quietRenewal),
    row('  + publishing its event', figures.quietRenewalPublish),
    `${'  = all in'.padEnd(28)} ${allIn.toFixed(1).padStart(5)} WRU ${figures.quietRenewal.rru.toFixed(1).padStart(5)} RRU  (renewal and the publisher's writes; the publisher's stream path reads nothing)`,
    row('quiet, 1 month of churn', figures.quietRenewalWithMonthOfHistory),
    row(`quiet, ${figures.historyMonths} months of churn`, figures.quietRenewalWithHistory),
    row('renewal with a proration', figures.renewalWithProrations),
    row('true-up (annual plan)', figures.trueUp),
    row('accrual step (1 proration)', figures.accrualStep),
    row('member event (ingest)', figures.memberEvent),
    `each scheduled run, once: ${figures.runFixed.rru.toFixed(1)} RRU in ${figures.runFixed.calls} requests (catalog and due index; 16 shards in the stack: 16 queries), shared by every workspace due`,
    `largest item of each kind (bytes): ${Object.entries(figures.itemBytes)
      .sort()
      .map(([kind, bytes]) => `${kind} ${bytes}`)
      .join(', ')}`,
  ];
}
