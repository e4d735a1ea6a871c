import { lambdaContext as simulatorLambdaContext } from '../../simulator/simulate';
/**
 * Shared helpers for the integration tests: one DynamoDB Local per test file, a fresh table
 * per test, a BillingStore with a recording publisher, catalog/workspace fixtures and event
 * delivery through the real ingest path.
 */
import type { Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startLocalDynamo, type LocalDynamo } from '../../simulator/dynamo-local';
import { BillingStore, createDocumentClient } from '../../shared/store/dynamo-store';
import { DEFAULT_SETTINGS, type Catalog, type Plan, type Workspace } from '../../shared/domain/catalog';
import type { Dependencies, PublishedEvent } from '../../shared/jobs/dependencies';
import { ingestEvent, type IngestOutcome } from '../../shared/jobs/ingest';
import { parseAppEvent } from '../../shared/contracts/events';
import type { AppEventEnvelope } from '../../functions/ingest/handler';
import type { Invoice } from '../../shared/domain/invoice';
import { createPublisherHandler } from '../../functions/publisher/handler';
import { sweepOutbox } from '../../shared/jobs/publish';
import { isPublisherRecord, LocalTableStream, type StreamDelivery } from '../../simulator/local-stream';

/** Aloware's plan: $70 per seat per month, flexible seats (billing-rules.md R6, R9). */
export const UPRO_MONTHLY: Plan = {
  id: 'upro-monthly',
  name: 'uPro',
  interval: 'month',
  seatPrice: '70.00',
  seatMode: 'flexible',
  minimumSeats: 1,
  maximumSeats: null,
  storageGb: 100,
  aiCreditsPerPeriod: 0,
};

/** An annual uPro plan, $700 per seat per year (an upgrade from monthly). */
export const UPRO_ANNUAL: Plan = { ...UPRO_MONTHLY, id: 'upro-annual', interval: 'year', seatPrice: '700.00' };

/** A catalog with the uPro monthly plan only. */
export function makeCatalog(plans: Plan[] = [UPRO_MONTHLY]): Catalog {
  return { plans, addons: [], creditPacks: [] };
}

/** A UTC USD workspace on calendar billing with the default settings. */
export function makeWorkspace(overrides: Partial<Workspace> = {}): Workspace {
  return {
    id: 'acme',
    name: 'Acme',
    timezone: 'UTC',
    currency: 'USD',
    billingDay: 1,
    contract: 'standard',
    paymentMethod: true,
    settings: DEFAULT_SETTINGS,
    ...overrides,
  };
}

/** A test's world: one fresh table, a store on it, and what its publisher received. */
export interface World {
  tableName: string;
  store: BillingStore;
  deps: Dependencies;
  published: PublishedEvent[];
  /** Another store on the same table (its own client), as a concurrent Lambda would have. */
  newStore(): BillingStore;
  /** Dependencies around another store on the same table, publishing to the same recorder. */
  newDeps(): Dependencies;
  /**
   * Dependencies whose store "crashes" (throws, as a Lambda timing out would stop) instead of
   * sending the transaction that would write its (n+1)-th invoice: everything before commits.
   */
  crashingDeps(invoicesBeforeCrash: number): Dependencies;
  /** Every item in the table (to prove a run wrote nothing). */
  scan(): Promise<Array<Record<string, unknown>>>;
  /** A document client on the table's endpoint, to write items as an earlier version did. */
  rawClient: DynamoDBDocumentClient;
  /** A fresh document client on the table's endpoint (destroyed with the world), to meter or fault a store of its own. */
  newClient(): DynamoDBDocumentClient;
  /** DynamoDB Local's endpoint, for child processes (`npm run configure`). */
  endpoint: string;
  /** The table's stream, as the publisher's event source mapping reads it. */
  stream: LocalTableStream;
  /**
   * Publishes what AWS would have published by now: the stream's new records through the real
   * publisher handler (invoices, outbox entries), then a sweep of the outbox. With `deps`, the
   * publisher runs on those (a failing bus, a faulty store).
   */
  publishAll(deps?: Dependencies): Promise<StreamDelivery>;
}

/**
 * One DynamoDB Local per test file. Call `setupDynamo()` at the top level of a test file:
 * it registers beforeAll/afterAll and returns an accessor for fresh worlds.
 */
export function setupDynamo(): { world(): Promise<World> } {
  let dynamo: LocalDynamo | undefined;
  const clients: DynamoDBDocumentClient[] = [];
  const streams: LocalTableStream[] = [];

  beforeAll(async () => {
    dynamo = await startLocalDynamo();
  }, 60000);

  afterAll(async () => {
    for (const client of clients.splice(0)) client.destroy();
    for (const stream of streams.splice(0)) stream.destroy();
    await dynamo?.stop();
  }, 30000);

  return {
    async world(): Promise<World> {
      if (!dynamo) throw new Error('DynamoDB Local is not running');
      const local = dynamo;
      const tableName = `prorata-it-${randomUUID()}`;
      await local.createTable(tableName);
      const client = () => {
        const doc = createDocumentClient(local.config);
        clients.push(doc);
        return doc;
      };
      const published: PublishedEvent[] = [];
      const publisher = { publish: async (events: readonly PublishedEvent[]) => void published.push(...events) };
      const newStore = () => new BillingStore(client(), { tableName });
      const store = newStore();
      const scanClient = client();
      const stream = new LocalTableStream(local.config, tableName, { accept: isPublisherRecord });
      streams.push(stream);
      const deps: Dependencies = { store, publisher };
      return {
        tableName,
        store,
        deps,
        stream,
        async publishAll(using = deps) {
          const delivery = await stream.deliver(createPublisherHandler(() => using));
          await sweepOutbox(using);
          return delivery;
        },
        published,
        rawClient: scanClient,
        newClient: client,
        endpoint: local.endpoint,
        newStore,
        newDeps: () => ({ store: newStore(), publisher }),
        crashingDeps(invoicesBeforeCrash: number) {
          const doc = client();
          let invoices = 0;
          doc.middlewareStack.add(
            (next) => async (args) => {
              const input: unknown = args.input;
              if (writesInvoice(input)) {
                invoices += 1;
                if (invoices > invoicesBeforeCrash) throw new Error(`simulated crash before writing invoice ${invoices}`);
              }
              return next(args);
            },
            { step: 'initialize', name: 'simulatedCrash' },
          );
          return { store: new BillingStore(doc, { tableName }), publisher };
        },
        async scan() {
          const items: Array<Record<string, unknown>> = [];
          let start: Record<string, unknown> | undefined;
          do {
            const out = await scanClient.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start, ConsistentRead: true }));
            items.push(...((out.Items ?? []) as Array<Record<string, unknown>>));
            start = out.LastEvaluatedKey;
          } while (start);
          return items.sort((a, b) => `${String(a.pk)}|${String(a.sk)}`.localeCompare(`${String(b.pk)}|${String(b.sk)}`));
        },
      };
    },
  };
}

/** True for a transaction that puts an invoice item, or the invoice-first PutItem of a quiet renewal (a command's input). */
export function writesInvoice(input: unknown): boolean {
  if (typeof input !== 'object' || input === null) return false;
  if ('Item' in input && !('TransactItems' in input)) {
    const item = input.Item as { sk?: unknown } | undefined;
    return typeof item?.sk === 'string' && item.sk.startsWith('INVOICE#') && 'ConditionExpression' in input;
  }
  if (!('TransactItems' in input) || !Array.isArray(input.TransactItems)) return false;
  return input.TransactItems.some((item: unknown) => {
    const put = typeof item === 'object' && item !== null && 'Put' in item ? (item.Put as { Item?: { sk?: unknown } } | undefined) : undefined;
    return typeof put?.Item?.sk === 'string' && put.Item.sk.startsWith('INVOICE#');
  });
}

/**
 * `count` UTC workspaces `<prefix>-000`…, one owner each (joined Dec 1 at 08:00), subscribed to
 * `upro-monthly` on Dec 1 at 09:00 (first invoice $70.00, renewal due Jan 1): the fan-out tests' book.
 */
export async function seedMonthlyWorkspaces(w: World, count: number, prefix = 'ws'): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);
  await seed(
    w.store,
    ids.map((id) => makeWorkspace({ id, name: id })),
  );
  for (let start = 0; start < ids.length; start += 16) {
    await Promise.all(
      ids.slice(start, start + 16).map(async (id) => {
        await deliver(w.deps, 'member.joined', '2026-12-01T08:00:00Z', { workspace: id, member: 'u1', role: 'owner' }, `join-${id}`);
        await deliver(w.deps, 'subscription.started', '2026-12-01T09:00:00Z', { workspace: id, plan: 'upro-monthly' }, `start-${id}`);
      }),
    );
  }
  return ids;
}

/** Puts the catalog and the workspaces. */
export async function seed(store: BillingStore, workspaces: Workspace[] = [makeWorkspace()], catalog: Catalog = makeCatalog()): Promise<void> {
  await store.putCatalog(catalog);
  for (const workspace of workspaces) await store.putWorkspace(workspace);
}

let eventCounter = 0;

/** Delivers one app event through validation and the ingest job (as the ingest Lambda does). */
export async function deliver(deps: Dependencies, type: string, at: string, detail: Record<string, unknown>, id = `evt-${++eventCounter}`): Promise<IngestOutcome> {
  return ingestEvent(deps, parseAppEvent(id, type, at, { at, ...detail }));
}

/** `n` members joining `workspace` at `at` (u1 is the owner), then the subscription starting at `startAt`. */
export async function subscribe(deps: Dependencies, workspace: string, joinAt: string, startAt: string, members = 3, plan = UPRO_MONTHLY.id): Promise<void> {
  for (let i = 1; i <= members; i += 1) {
    const outcome = await deliver(deps, 'member.joined', joinAt, { workspace, member: `u${i}`, role: i === 1 ? 'owner' : 'member' });
    expect(outcome).toEqual({ status: 'stored' });
  }
  expect(await deliver(deps, 'subscription.started', startAt, { workspace, plan })).toEqual({ status: 'stored' });
}

/** An EventBridge envelope as the app's bus delivers it to the ingest function. */
export function envelope(id: string, detailType: string, time: string, detail: Record<string, unknown>): AppEventEnvelope {
  return { id, version: '0', account: '000000000000', region: 'local', source: 'app', time, resources: [], 'detail-type': detailType, detail };
}

/** A fake Lambda context (the simulator's). */
export function lambdaContext(name = 'test'): Context {
  return simulatorLambdaContext(name);
}

/** The `Invoice Issued` events the publisher received, as invoices. */
export function issued(published: readonly PublishedEvent[]): Invoice[] {
  return published.filter((event) => event.detailType === 'Invoice Issued').map((event) => event.detail as unknown as Invoice);
}

/** A compact view of invoices for assertions: kind, date, amount due. */
export function summary(invoices: readonly Invoice[]): Array<{ kind: string; date: string; amountDue: string }> {
  return invoices.map((invoice) => ({ kind: invoice.kind, date: invoice.date, amountDue: invoice.amountDue }));
}

/** Invoices stored for a workspace, in date order (then issue kind), whatever the key order. */
export async function storedInvoices(store: BillingStore, workspace: string): Promise<Invoice[]> {
  const invoices = await store.listInvoices(workspace);
  return [...invoices].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}
