import { randomUUID } from 'node:crypto';
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createAccrualHandler } from '../functions/accrual/handler';
import { createIngestHandler, type AppEventEnvelope } from '../functions/ingest/handler';
import { createInvoicingHandler } from '../functions/invoicing/handler';
import { isPublisherRecord, LocalTableStream } from './local-stream';
import { createPublisherHandler } from '../functions/publisher/handler';
import { addDays, startOfDateInstant, toBillingDate } from '../shared/domain/calendar';
import { DEFAULT_SETTINGS, type Catalog, type Plan, type Workspace } from '../shared/domain/catalog';
import type { Dependencies, PublishedEvent } from '../shared/jobs/dependencies';
import type { RetryPolicy } from '../shared/jobs/retry';
import { withMiddlewares } from '../shared/runtime/middleware';
import { BillingStore, createDocumentClient } from '../shared/store/dynamo-store';
import type { LocalDynamo } from './dynamo-local';
import { seededRandom, withFaults, type FaultKind, type FaultStats } from './faulty-dynamo';
import { lambdaContext } from './simulate';

/** What to replay: a generated book of workspaces over a span of hourly runs. */
export interface FaultReplayOptions {
  workspaces: number;
  /** The first hour replayed (events start then too), an instant. */
  from: string;
  /** The last hour replayed, an instant. */
  until: string;
  /** Share of the faulty world's DynamoDB calls that fail. */
  faultRate: number;
  seed: number;
  /** Also fail ingest's calls (a throw redelivers the event); else events go in cleanly. */
  faultyIngest: boolean;
  /** Invocations of a failed run in all: Lambda retries an asynchronous invocation twice. */
  lambdaAttempts?: number;
}

/** The figures of one replay: what was injected, what the engine did about it, and how the two ledgers compare. */
export interface FaultReplayFigures {
  workspaces: number;
  hours: number;
  events: number;
  /** DynamoDB calls of the faulty world's jobs (and ingest, when faulty). */
  calls: number;
  faults: number;
  faultsAfterLanding: number;
  byKind: Record<FaultKind, number>;
  /** Job and publisher invocations in the faulty world, Lambda's retries included. */
  invocations: number;
  /** Invocations that threw and were invoked again (Lambda's asynchronous retries). */
  lambdaRetries: number;
  /** Scheduled runs that still threw after their last retry: the next hour's run caught them up. */
  leftToNextHour: number;
  /** Workspace retries after a backoff inside the runs. */
  backoffRetries: number;
  /** Deliveries of an app event after its ingest threw (Lambda's retries, then DLQ redrives). */
  redeliveries: number;
  /** Of those, deliveries beyond Lambda's two retries: the event would have waited in the DLQ. */
  dlqRedrives: number;
  invoices: number;
  prorations: number;
  rejections: number;
  /** Distinct events published (what a consumer deduplicating on `eventId` sees). */
  published: number;
  /** Extra deliveries of an already published event (same `eventId`): a publisher failing between PutEvents and its marker. */
  duplicateDeliveries: number;
  /**
   * Ingested events whose idempotency record says `duplicate` where the fault-free run says
   * `stored`: a retry found its own first attempt's work done (the ledger is the same).
   */
  outcomesRecordedAsDuplicate: number;
  /**
   * Invoices the faulty world issued in a later hour than the fault-free one (their `issuedAt`
   * later, everything else the same): their run still failed after its retries and the next
   * hour's caught them up (`leftToNextHour`).
   */
  issuedLate: number;
  /** Every difference between the two ledgers; empty when they are equal. */
  differences: string[];
  ms: number;
}

const PLANS: Plan[] = [
  { id: 'team-monthly', name: 'Team', interval: 'month', seatPrice: '30.00', seatMode: 'flexible', minimumSeats: 1, maximumSeats: null, storageGb: 100, aiCreditsPerPeriod: 0 },
  { id: 'team-min5', name: 'Team 5+', interval: 'month', seatPrice: '20.00', seatMode: 'flexible', minimumSeats: 5, maximumSeats: null, storageGb: 100, aiCreditsPerPeriod: 0 },
  { id: 'pro-quarterly', name: 'Pro', interval: 'quarter', seatPrice: '120.00', seatMode: 'flexible', minimumSeats: 1, maximumSeats: null, storageGb: 200, aiCreditsPerPeriod: 0 },
  { id: 'pro-annual', name: 'Pro annual', interval: 'year', seatPrice: '400.00', seatMode: 'flexible', minimumSeats: 1, maximumSeats: null, storageGb: 200, aiCreditsPerPeriod: 0 },
  { id: 'fixed-monthly', name: 'Fixed', interval: 'month', seatPrice: '25.00', seatMode: 'fixed', minimumSeats: 1, maximumSeats: null, storageGb: 100, aiCreditsPerPeriod: 0 },
  { id: 'biz-monthly', name: 'Business', interval: 'month', seatPrice: '45.00', seatMode: 'flexible', minimumSeats: 1, maximumSeats: null, storageGb: 500, aiCreditsPerPeriod: 0 },
];
const CATALOG: Catalog = { plans: PLANS, addons: [], creditPacks: [] };
const ZONES = ['UTC', 'America/New_York', 'Europe/Berlin', 'Asia/Kolkata', 'Pacific/Auckland', 'America/Los_Angeles'];
const BILLING_DAYS = [1, 15, 28, 31, 10];
const HOUR = 3_600_000;
const MINUTE = 60_000;

interface AppEvent {
  id: string;
  type: string;
  at: string;
  detail: Record<string, unknown>;
}

/** The generated book: workspaces with varied plans, zones, billing days and currencies, and a month of their events. */
export function generateBook(options: Pick<FaultReplayOptions, 'workspaces' | 'from' | 'until' | 'seed'>): { workspaces: Workspace[]; events: AppEvent[] } {
  const random = seededRandom(options.seed);
  const from = Date.parse(options.from);
  const until = Date.parse(options.until);
  const instant = (ms: number) => new Date(Math.floor(ms / MINUTE) * MINUTE).toISOString().replace('.000Z', 'Z');
  const workspaces: Workspace[] = [];
  const events: AppEvent[] = [];
  for (let i = 0; i < options.workspaces; i += 1) {
    const id = `ws-${String(i).padStart(3, '0')}`;
    const plan = PLANS[i % 5];
    workspaces.push({
      id,
      name: `Workspace ${i}`,
      timezone: ZONES[i % ZONES.length],
      currency: i % 4 === 3 ? 'EUR' : 'USD',
      billingDay: BILLING_DAYS[i % BILLING_DAYS.length],
      contract: 'standard',
      paymentMethod: true,
      settings: { ...DEFAULT_SETTINGS, seatDecrease: i % 3 === 2 ? 'none' : 'credit', upgradeBilling: i % 4 === 1 ? 'next-invoice' : 'immediate' },
    });
    let n = 0;
    const add = (type: string, at: number, detail: Record<string, unknown>) => events.push({ id: `ev-${id}-${n++}`, type, at: instant(at), detail: { workspace: id, ...detail } });
    // Start within the first four days, so that every workspace is billed through most of the span.
    const joinAt = from + Math.floor(random() * 4 * 24) * HOUR + Math.floor(random() * 50) * MINUTE;
    const initial = 2 + Math.floor(random() * 5);
    const members: string[] = [];
    for (let m = 1; m <= initial; m += 1) {
      add('member.joined', joinAt + m * MINUTE, { member: `u${m}`, role: m === 1 ? 'owner' : 'member' });
      members.push(`u${m}`);
    }
    add('subscription.started', joinAt + HOUR, { plan: plan.id, ...(plan.seatMode === 'fixed' ? { seats: initial } : {}) });
    // Churn: joins and removals spread over the rest of the span, in time order.
    const churn = 4 + Math.floor(random() * 8);
    const times = Array.from({ length: churn }, () => joinAt + 2 * HOUR + Math.floor(random() * (until - joinAt - 3 * HOUR))).sort((a, b) => a - b);
    let next = initial + 1;
    for (const at of times) {
      const removable = members.filter((member) => member !== 'u1');
      if (removable.length > 1 && random() < 0.4) {
        const member = removable[Math.floor(random() * removable.length)];
        members.splice(members.indexOf(member), 1);
        add('member.removed', at, { member });
      } else {
        const member = `u${next++}`;
        members.push(member);
        add('member.joined', at, { member, role: random() < 0.15 ? 'admin' : 'member' });
      }
    }
    // A few self-serve changes and cancellations, so change invoices and rejections are in the ledger too.
    const midway = joinAt + Math.floor((until - joinAt) / 2) + 17 * MINUTE;
    if (i % 7 === 2) add('plan.change_requested', midway, { plan: 'biz-monthly', requestedBy: 'u1' });
    if (i % 7 === 4) add('plan.change_requested', midway, { plan: 'pro-annual', requestedBy: 'u1' });
    if (i % 11 === 6) add('seats.purchased', midway, { seats: 2, requestedBy: 'u1' });
    if (i % 9 === 5) add('subscription.canceled', until - 7 * 24 * HOUR, { atPeriodEnd: false });
  }
  events.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.id < b.id ? -1 : 1));
  return { workspaces, events };
}

interface World {
  tableName: string;
  /** Reads back and, unless ingest is faulty, ingests: never faulty. */
  clean: BillingStore;
  deps: Dependencies;
  ingestDeps: Dependencies;
  published: PublishedEvent[];
  faults?: FaultStats;
  /** Backoff waits asked for by the jobs' retries. */
  retries: { count: number };
  raw: DynamoDBDocumentClient;
  /** The table's stream, read as the publisher's mapping reads it (never faulty: the mapping is AWS's). */
  stream: LocalTableStream;
}

/**
 * Replays the same generated month twice, on two tables, through the real handlers: once
 * fault-free, once with `faultRate` of the jobs' DynamoDB calls failing (`withFaults`; ingest's
 * too when `faultyIngest`, a throw redelivering the event).
 *
 * The faulty world runs accrual, invoicing and a publisher sweep every hour at :05, each invoked
 * again (up to `lambdaAttempts` in all) when it throws, as Lambda does; a run still failing is
 * left to the next hour. The fault-free world runs them only when the hourly schedule can find
 * work (the first firing after each zone's midnight, as the simulator does): the idle hours in
 * between cost a replay most of its time and bill nothing, and a difference of schedule must not
 * change the ledger either. At the end both outboxes are drained and the ledgers compared item
 * by item (invoices, prorations, subscriptions, balances, rejections, member history,
 * idempotency records, markers: see `normalise` for the two things that may differ) and event by
 * event (what was published, by `eventId`).
 */
export async function replayWithFaults(dynamo: Pick<LocalDynamo, 'config' | 'createTable'>, options: FaultReplayOptions): Promise<FaultReplayFigures> {
  const started = Date.now();
  const attempts = options.lambdaAttempts ?? 3;
  const book = generateBook(options);
  const clients: DynamoDBDocumentClient[] = [];
  const client = () => {
    const doc = createDocumentClient(dynamo.config);
    clients.push(doc);
    return doc;
  };
  const world = async (faulty: boolean): Promise<World> => {
    const tableName = `prorata-faults-${randomUUID()}`;
    await dynamo.createTable(tableName);
    const store = (doc: DynamoDBDocumentClient) => new BillingStore(doc, { tableName, dueShards: 2, outboxShards: 1 });
    const clean = store(client());
    const published: PublishedEvent[] = [];
    const publisher = { publish: async (events: readonly PublishedEvent[]) => void published.push(...events) };
    const retries = { count: 0 };
    // Backoff waits are counted, not waited: the replay checks what happens, not how long it takes.
    const retry: Partial<RetryPolicy> = { sleep: async () => void (retries.count += 1), random: seededRandom(options.seed + 1) };
    const injected = faulty ? withFaults(client(), { rate: options.faultRate, seed: options.seed }) : undefined;
    const deps: Dependencies = { store: injected ? store(injected.client) : clean, publisher, retry };
    await clean.putCatalog(CATALOG);
    for (const workspace of book.workspaces) await clean.putWorkspace(workspace);
    return {
      tableName,
      clean,
      deps,
      ingestDeps: options.faultyIngest ? deps : { store: clean, publisher, retry },
      published,
      faults: injected?.stats,
      retries,
      raw: client(),
      stream: new LocalTableStream(dynamo.config, tableName, { accept: isPublisherRecord }),
    };
  };

  const figures = { invocations: 0, lambdaRetries: 0, leftToNextHour: 0, redeliveries: 0, dlqRedrives: 0 };
  const worldsMade: World[] = [];
  try {
    const worlds = [await world(false), await world(true)];
    worldsMade.push(...worlds);
    const [reference, faulty] = worlds;
    let now = Date.parse(options.from);
    const clock = () => now;
    const handlers = worlds.map((w) => ({
      ingest: withMiddlewares(createIngestHandler(() => w.ingestDeps)),
      accrual: withMiddlewares(createAccrualHandler(() => w.deps, clock)),
      invoicing: withMiddlewares(createInvoicingHandler(() => w.deps, clock)),
      publisher: (at: number) => withMiddlewares(createPublisherHandler(() => w.deps, { clock: () => new Date(at) })),
    }));
    /** Invokes as Lambda does an asynchronous invocation: again after a throw, `attempts` times in all. */
    const invoke = async (w: World, run: (attempt: number) => Promise<unknown>): Promise<void> => {
      for (let attempt = 1; attempt <= attempts; attempt += 1) {
        if (w === faulty) figures.invocations += 1;
        try {
          await run(attempt);
          return;
        } catch (error) {
          if (w !== faulty) throw error;
          if (attempt < attempts) figures.lambdaRetries += 1;
        }
      }
      figures.leftToNextHour += 1;
    };
    const deliver = async (index: number, event: AppEvent): Promise<void> => {
      const envelope: AppEventEnvelope = {
        id: event.id,
        version: '0',
        account: '000000000000',
        region: 'local',
        source: 'app',
        time: event.at,
        resources: [],
        'detail-type': event.type,
        detail: event.detail,
      };
      for (let delivery = 1; ; delivery += 1) {
        try {
          await handlers[index].ingest(envelope, lambdaContext('ingest'));
          return;
        } catch (error) {
          // The reference ingests cleanly, and the faulty world's ingest too unless asked: a throw there is a defect.
          if (worlds[index] !== faulty || !options.faultyIngest || delivery >= 50) throw error;
          figures.redeliveries += 1;
          if (delivery >= attempts) figures.dlqRedrives += 1;
        }
      }
    };

    const firings = busyFirings(book.workspaces, options.from, options.until);
    let hours = 0;
    let nextEvent = 0;
    for (let hour = Date.parse(options.from) + 5 * MINUTE; hour <= Date.parse(options.until); hour += HOUR) {
      hours += 1;
      const busy = firings.has(hour);
      const scheduledTime = new Date(hour).toISOString().replace('.000Z', 'Z');
      const due: AppEvent[] = [];
      while (nextEvent < book.events.length && Date.parse(book.events[nextEvent].at) <= hour) due.push(book.events[nextEvent++]);
      await Promise.all(
        worlds.map(async (_world, index) => {
          for (const event of due) await deliver(index, event);
        }),
      );
      now = hour;
      await Promise.all(
        worlds.map(async (w, index) => {
          if (w === reference && !busy) return;
          await invoke(w, () => handlers[index].accrual({ scheduledTime }, lambdaContext('accrual')));
          await invoke(w, () => handlers[index].invoicing({ scheduledTime }, lambdaContext('invoicing')));
          // The stream hands the invoice and outbox inserts to the publisher; what it failed comes again at the next
          // delivery. Delivered at the hours where the schedule finds work (and drained at the end), not every hour:
          // when an event is announced does not change what is, and a read of DynamoDB Local's stream costs about 40 ms.
          if (busy) await w.stream.deliver((event) => handlers[index].publisher(hour)(event, lambdaContext('publisher')));
          // Lambda's retries come about one and three minutes after the first attempt: the last is past the 2-minute lease of a claim whose response was lost.
          await invoke(w, (attempt) => handlers[index].publisher(hour + (attempt === 1 ? 0 : attempt === 2 ? 1 : 3) * MINUTE)({ sweep: true }, lambdaContext('publisher')));
        }),
      );
    }
    // The publisher-sweep schedule keeps running after the span: drain what the last sweeps left.
    for (const [index, w] of worlds.entries()) {
      for (let round = 0; round < 50 && (await w.stream.deliver((event) => handlers[index].publisher(Date.parse(options.until))(event, lambdaContext('publisher')))).failed > 0; round += 1);
      for (let round = 0; round < 50 && (await w.clean.listOutbox()).length > 0; round += 1) {
        await invoke(w, () => handlers[index].publisher(Date.parse(options.until) + (round + 1) * 5 * MINUTE)({ sweep: true }, lambdaContext('publisher')));
      }
    }

    const [expected, actual] = await Promise.all(worlds.map((w) => ledger(w.raw, w.tableName)));
    const { recordedAsDuplicate: outcomesRecordedAsDuplicate, issuedLate } = normalise(expected, actual, figures.leftToNextHour > 0);
    const differences = [...compareLedgers(expected, actual), ...comparePublished(reference.published, faulty.published)];
    if ((await faulty.clean.listOutbox()).length > 0) differences.push('faulty outbox: not drained after 50 sweeps');
    const count = (prefix: string) => [...expected.keys()].filter((key) => key.split('|')[1].startsWith(prefix)).length;
    const stats = faulty.faults;
    if (!stats) throw new Error('the faulty world has no fault counters');
    return {
      workspaces: book.workspaces.length,
      hours,
      events: book.events.length,
      calls: stats.calls,
      faults: stats.faults,
      faultsAfterLanding: stats.afterLanding,
      byKind: { ...stats.byKind },
      ...figures,
      backoffRetries: faulty.retries.count,
      invoices: count('INVOICE#'),
      prorations: count('PRORATION#'),
      rejections: count('REJECTION#'),
      published: new Set(faulty.published.map((event) => event.id)).size,
      duplicateDeliveries: faulty.published.length - new Set(faulty.published.map((event) => event.id)).size,
      outcomesRecordedAsDuplicate,
      issuedLate,
      differences,
      ms: Date.now() - started,
    };
  } finally {
    for (const doc of clients) doc.destroy();
    for (const w of worldsMade) w.stream.destroy();
  }
}

/** The figures as the README quotes them. */
export function describeFigures(options: FaultReplayOptions, f: FaultReplayFigures): string {
  const kinds = Object.entries(f.byKind)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ');
  return [
    `${f.workspaces} workspaces, ${f.events} app events, ${f.hours} hourly runs of accrual, invoicing and the publisher sweep (${options.from} – ${options.until}), seed ${options.seed}`,
    `faults: ${f.faults} of ${f.calls} DynamoDB calls (${((100 * f.faults) / Math.max(1, f.calls)).toFixed(1)}%), ${f.faultsAfterLanding} after the call landed; ${kinds}${options.faultyIngest ? '; ingest included' : '; ingest fault-free'}`,
    `recovery: ${f.backoffRetries} workspace retries after a backoff, ${f.invocations} invocations with ${f.lambdaRetries} Lambda retries, ${f.leftToNextHour} runs left to the next hour, ${f.redeliveries} event redeliveries (${f.dlqRedrives} beyond Lambda's two retries)`,
    `ledger: ${f.invoices} invoices, ${f.prorations} prorations, ${f.rejections} rejections, ${f.published} events published (${f.duplicateDeliveries} duplicate deliveries, same eventId); ${f.outcomesRecordedAsDuplicate} ingest outcomes recorded as duplicate; ${f.issuedLate} invoices issued in a later hour (their run left to the next)`,
    `differences from the fault-free run: ${f.differences.length}  (${(f.ms / 1000).toFixed(1)} s)`,
  ].join('\n');
}

type Item = Record<string, unknown>;

/** Every item of a table but the outbox (compared as published events), by `pk|sk`. */
async function ledger(doc: DynamoDBDocumentClient, tableName: string): Promise<Map<string, Item>> {
  const items = new Map<string, Item>();
  let start: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start, ConsistentRead: true }));
    for (const item of out.Items ?? []) {
      if (!String(item.pk).startsWith('OUTBOX#')) items.set(`${String(item.pk)}|${String(item.sk)}`, item);
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/**
 * Puts both ledgers in the form that must be equal, and returns how many ingest outcomes were
 * recorded as `duplicate` under faults where the fault-free run recorded `stored`, and how many
 * invoices were issued late. Three things legitimately differ after faults, and only these are
 * set aside:
 *
 * * A member event's `seq` is drawn from a per-workspace counter before the event is stored; a
 *   delivery that drew one and then failed leaves a gap, so a redelivered event gets a higher
 *   number. `seq` only orders events of one workspace, so it is compared as that order (its rank)
 *   and the counter itself (`MEMBERSEQ`) is left out. The member snapshot's `seq` (the highest
 *   arrival number it folded) is compared as the rank of that event, and its `version` (how many
 *   folds wrote it: a retry after a write that landed folds once more) is left out.
 * * An ingested event's idempotency record keeps its outcome; when the first attempt's write
 *   landed but its response was lost, the retry finds the work done and records `duplicate`
 *   instead of `stored`. Both mean "applied"; any other difference of outcome is still one.
 * * An invoice's `issuedAt` is the instant of the run that issued it. When a run still failed
 *   after Lambda's retries (only then: `runsLeftToNextHour`), a later hour's run issues what it
 *   left, with that run's instant; a later `issuedAt` is then counted as issued late. An earlier
 *   one, or any other field of the invoice, is still a difference.
 */
function normalise(expected: Map<string, Item>, actual: Map<string, Item>, runsLeftToNextHour: boolean): { recordedAsDuplicate: number; issuedLate: number } {
  let recordedAsDuplicate = 0;
  let issuedLate = 0;
  if (runsLeftToNextHour) {
    for (const [key, item] of actual) {
      const reference = expected.get(key);
      if (!key.split('|')[1]?.startsWith('INVOICE#') || typeof item.issuedAt !== 'string' || typeof reference?.issuedAt !== 'string' || item.issuedAt <= reference.issuedAt) continue;
      item.issuedAt = reference.issuedAt;
      issuedLate += 1;
    }
  }
  for (const items of [expected, actual]) {
    for (const key of [...items.keys()]) if (key.endsWith('|MEMBERSEQ')) items.delete(key);
    const byWorkspace = new Map<string, Item[]>();
    for (const item of items.values()) {
      if (String(item.sk).startsWith('MEMBER#')) byWorkspace.set(String(item.pk), [...(byWorkspace.get(String(item.pk)) ?? []), item]);
    }
    const seqOf = (item: Item) => Number((item.event as { seq?: unknown }).seq);
    for (const [key, snapshot] of [...items]) {
      if (!key.endsWith('|MEMBERSNAP')) continue;
      const folded = Number((snapshot.snapshot as { seq?: unknown }).seq);
      const rank = (byWorkspace.get(String(snapshot.pk)) ?? []).filter((event) => seqOf(event) <= folded).length;
      const { version: _version, ...rest } = snapshot;
      items.set(key, { ...rest, snapshot: { ...(snapshot.snapshot as Item), seq: rank } });
    }
    for (const events of byWorkspace.values()) {
      events.sort((a, b) => seqOf(a) - seqOf(b));
      events.forEach((item, rank) => void (item.event = { ...(item.event as Item), seq: rank }));
    }
  }
  const stored = JSON.stringify({ status: 'stored' });
  const duplicate = JSON.stringify({ status: 'duplicate' });
  for (const [key, item] of actual) {
    if (!key.startsWith('IDEMPOTENCY#event:') || item.response !== duplicate || expected.get(key)?.response !== stored) continue;
    item.response = stored;
    recordedAsDuplicate += 1;
  }
  return { recordedAsDuplicate, issuedLate };
}

/**
 * The firings (epoch ms) at which the hourly schedule can find work: for each zone and date, the
 * first :05 at or after that date's midnight there. Every other hour finds nothing due.
 */
function busyFirings(workspaces: readonly Workspace[], from: string, until: string): Set<number> {
  const firings = new Set<number>();
  for (const zone of new Set(workspaces.map((workspace) => workspace.timezone))) {
    for (let date = toBillingDate(from, zone); date <= toBillingDate(until, zone); date = addDays(date, 1)) {
      const midnight = Date.parse(startOfDateInstant(date, zone));
      const firing = Math.ceil((midnight - 5 * MINUTE) / HOUR) * HOUR + 5 * MINUTE;
      if (firing <= Date.parse(until)) firings.add(firing);
    }
  }
  return firings;
}

/** JSON with sorted keys (and sets as sorted arrays), so equal items print equal. */
function canonical(value: unknown): string {
  if (value instanceof Set) return canonical([...value].map(String).sort());
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonical(inner)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

function compareLedgers(expected: Map<string, Item>, actual: Map<string, Item>): string[] {
  const differences: string[] = [];
  for (const [key, item] of expected) {
    const other = actual.get(key);
    if (other === undefined) differences.push(`missing under faults: ${key}`);
    else if (canonical(other) !== canonical(item)) differences.push(`differs: ${key}\n  fault-free: ${canonical(item)}\n  faults:     ${canonical(other)}`);
  }
  for (const key of actual.keys()) if (!expected.has(key)) differences.push(`only under faults: ${key}`);
  return differences;
}

/** Published events by `eventId`: the same set with the same content (a consumer deduplicating on it sees the same stream). */
function comparePublished(expected: readonly PublishedEvent[], actual: readonly PublishedEvent[]): string[] {
  const byId = (events: readonly PublishedEvent[]) => {
    const map = new Map<string, Set<string>>();
    for (const event of events) map.set(event.id, (map.get(event.id) ?? new Set()).add(canonical({ detailType: event.detailType, detail: event.detail })));
    return map;
  };
  const differences: string[] = [];
  const want = byId(expected);
  const got = byId(actual);
  for (const [id, versions] of want) {
    const seen = got.get(id);
    if (versions.size !== 1) differences.push(`fault-free run published ${id} with ${versions.size} contents`);
    if (!seen) differences.push(`not published under faults: ${id}`);
    else if (seen.size !== 1 || [...seen][0] !== [...versions][0]) differences.push(`published differently under faults: ${id}`);
  }
  for (const id of got.keys()) if (!want.has(id)) differences.push(`published only under faults: ${id}`);
  if (expected.length !== want.size) differences.push(`fault-free run published ${expected.length - want.size} duplicates`);
  return differences;
}
