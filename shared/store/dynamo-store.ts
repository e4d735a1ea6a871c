import { DynamoDBClient, TransactionCanceledException, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { startOfDateInstant, type IsoDate } from '../domain/calendar';
import type { Catalog, Workspace } from '../domain/catalog';
import { ConflictError } from '../domain/errors';
import { nextDueDate, type BillingStep } from '../domain/engine';
import { invoiceSeqOf, type Balance, type Invoice, type InvoiceLine } from '../domain/invoice';
import type { MemberEvent, MemberSnapshot } from '../domain/members';
import { Money } from '../domain/money';
import type { Proration } from '../domain/proration';
import type { SubscriptionState } from '../domain/subscription';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { randomUUID } from 'node:crypto';
import { cacheDocumentHandlers } from './cached-handlers';
import { attributeSizeBytes, itemSizeBytes } from './item-size';
import { keys, shardOf } from './keys';

/** A rejected event or change, kept so nothing is lost (scenario format `rejections`). */
export interface Rejection {
  at: string;
  workspace: string;
  type: string;
  reason: string;
  message: string;
  eventId: string;
  payload?: unknown;
}

/** An event waiting in the outbox to be published on EventBridge. */
export interface OutboxEntry {
  pk: string;
  sk: string;
  /** The event's stable id (`eventId` on the bus): the same on every attempt, so consumers can deduplicate. */
  id: string;
  detailType: string;
  detail: Record<string, unknown>;
  /** Set once the event is on the bus: the entry only waits to be deleted and must never be published again. */
  publishedAt?: string;
}

/**
 * How claiming an outbox entry ended: `claimed` (the caller now holds the lease and publishes),
 * `published` (already on the bus, only its deletion is left), `taken` (another publisher's lease
 * has not expired) or `gone` (published and deleted already).
 */
export type OutboxClaim = 'claimed' | 'published' | 'taken' | 'gone';

/**
 * What a request or event produced, kept under its idempotency key so a retry returns the
 * first response instead of doing the work again (`response` is the serialized result).
 */
export interface IdempotencyRecord {
  key: string;
  response: string;
  /** The request's own instant; the record expires a year and a month after it. */
  at: string;
}

/** How long an idempotency record outlives its request: longer than any redelivery or DLQ redrive. */
export const IDEMPOTENCY_TTL_SECONDS = 400 * 24 * 3600;

/** Store settings. */
export interface StoreOptions {
  tableName: string;
  /** Write shards of the due indexes. */
  dueShards?: number;
  outboxShards?: number;
}

/** The default number of due-index shards: enough to spread a million renewals on the 1st. */
export const DEFAULT_DUE_SHARDS = 16;

/** One write of a transaction, and one Put. */
type TransactItem = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>[number];
type ItemPut = NonNullable<TransactItem['Put']>;

const MAX_TRANSACTION_ITEMS = 100;
/** A transaction holds 4 MB; chunks stay under 3 MB, leaving DynamoDB's own accounting room. */
const MAX_TRANSACTION_BYTES = 3 * 1024 * 1024;
/** An invoice item bigger than this keeps its lines in page items (DynamoDB refuses items over 400 KB). */
export const INLINE_INVOICE_BYTES = 300 * 1024;
const LINE_PAGE_BYTES = 300 * 1024;
/** EventBridge refuses events over 256 KB: an invoice whose JSON is bigger is announced without its lines. */
export const MAX_EVENT_DETAIL_BYTES = 224 * 1024;

/**
 * The `Invoice Issued` detail: the invoice; or, when its JSON would not fit one EventBridge
 * event, the invoice without `lines`, with `lineCount` and `linesOmitted: true` (the stored
 * invoice keeps every line). A bigger event would fail every publish and hold up the outbox.
 */
export function invoiceEventDetail(invoice: Invoice): Record<string, unknown> {
  if (Buffer.byteLength(JSON.stringify(invoice), 'utf8') <= MAX_EVENT_DETAIL_BYTES) return { ...invoice };
  const { lines, ...header } = invoice;
  return { ...header, lineCount: lines.length, linesOmitted: true };
}

/** Splits values, in order, into runs of at most `maxCount` values and `maxBytes` bytes (a bigger value goes alone). */
function chunksOf<T>(values: readonly T[], maxCount: number, maxBytes: number, size: (value: T) => number): T[][] {
  const chunks: T[][] = [];
  let chunk: T[] = [];
  let bytes = 0;
  for (const value of values) {
    const valueBytes = size(value);
    if (chunk.length > 0 && (chunk.length >= maxCount || bytes + valueBytes > maxBytes)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(value);
    bytes += valueBytes;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/** The bytes of a transaction's puts, as DynamoDB counts them. */
function transactionBytes(items: readonly TransactItem[]): number {
  return items.reduce((total, item) => total + (item.Put?.Item ? itemSizeBytes(item.Put.Item) : 0), 0);
}

/**
 * Builds a DynamoDB document client (the only place the SDK client is configured). Without a
 * `logger` in `config` the SDK's logger middleware is removed: it runs the schema's
 * sensitive-data filter over every request and response to hand them to a no-op logger, about
 * 0.3 ms of CPU per renewal in the worker (`npm run bench`).
 */
export function createDocumentClient(config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  const client = new DynamoDBClient(config);
  if (config.logger === undefined) client.middlewareStack.remove('loggerMiddleware');
  // Each command class's middleware stack is resolved once, not per request (`cacheDocumentHandlers`).
  return cacheDocumentHandlers(DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }));
}

/** True when a DynamoDB error means a condition (or a transaction's condition) failed. */
export function isConditionFailure(error: unknown): boolean {
  if (error instanceof ConditionalCheckFailedException) return true;
  if (error instanceof TransactionCanceledException) {
    return (error.CancellationReasons ?? []).some((reason) => reason.Code === 'ConditionalCheckFailed' || reason.Code === 'TransactionConflict');
  }
  return false;
}

/**
 * How an engine-owned profile update ended: `applied`, `superseded` (a later-dated update is
 * already stored; nothing changed) or `missing` (no such workspace; nothing created).
 */
export type ProfileUpdate = 'applied' | 'superseded' | 'missing';

/** Engine-owned fields an earlier version kept inside the `workspace` map (see `migrateLegacyProfile`). */
const LEGACY_ENGINE_FIELDS = ['paymentMethod', 'failedInvoices', 'storageUsedGb'] as const;

/**
 * A workspace from its profile item: the configured `workspace` map plus the engine-owned
 * attributes beside it (`paymentMethod`, `storageUsedGb`, the `failedInvoices` string set),
 * which win over values an earlier version left inside the map.
 */
function workspaceOf(item: Record<string, unknown>): Workspace {
  const { paymentMethod, failedInvoices, storageUsedGb, ...configured } = item.workspace as Workspace;
  const failed = new Set<string>([...(failedInvoices ?? []), ...((item.failedInvoices as Set<string> | undefined) ?? [])]);
  const storage = typeof item.storageUsedGb === 'number' ? item.storageUsedGb : storageUsedGb;
  return {
    ...configured,
    paymentMethod: typeof item.paymentMethod === 'boolean' ? item.paymentMethod : paymentMethod,
    ...(failed.size > 0 ? { failedInvoices: [...failed].sort() } : {}),
    ...(storage !== undefined ? { storageUsedGb: storage } : {}),
  };
}

/** The balances as the `BALANCE` item holds them (amounts as decimal strings). */
export interface StoredBalance {
  billingCredit: string;
  aiCredits: number;
  version: number;
  /** The invoice counter of a workspace that never had a subscription (`Balance.nextInvoiceSeq`). */
  nextInvoiceSeq?: number;
  /** The first subscription took the counter over (`Balance.invoiceCounterMoved`). */
  invoiceCounterMoved?: true;
}

/** The balances from their stored form in the workspace's currency; a workspace that never had any has zero, version 0. */
export function balanceOf(stored: StoredBalance | undefined, currency: string): Balance {
  if (!stored) return { billingCredit: Money.zero(currency), aiCredits: 0, version: 0 };
  const counter = { ...(stored.nextInvoiceSeq === undefined ? {} : { nextInvoiceSeq: stored.nextInvoiceSeq }), ...(stored.invoiceCounterMoved ? { invoiceCounterMoved: true as const } : {}) };
  return { billingCredit: Money.of(stored.billingCredit, currency), aiCredits: stored.aiCredits, version: stored.version, ...counter };
}

/**
 * All persistence of the engine: the only module that talks to DynamoDB. Writes that
 * must not happen twice are conditional; an invoice and its subscription's state commit in
 * one transaction, so one invoice can never be written twice (R14).
 */
export class BillingStore {
  readonly tableName: string;
  readonly dueShards: number;
  readonly outboxShards: number;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    options: StoreOptions,
  ) {
    this.tableName = options.tableName;
    this.dueShards = options.dueShards ?? DEFAULT_DUE_SHARDS;
    this.outboxShards = options.outboxShards ?? 4;
  }

  async putCatalog(catalog: Catalog): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...keys.catalog(), catalog } }));
  }

  async getCatalog(): Promise<Catalog | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.catalog() }));
    return out.Item?.catalog as Catalog | undefined;
  }

  /**
   * Creates or updates a workspace's configured fields (name, zone, currency, billing day,
   * contract, settings: the `workspace` map) in one UpdateItem, never touching what the engine
   * owns: failed invoices and storage in use stay as they are, and the payment method is set
   * only while the profile has none (`if_not_exists`), since `payment_method.updated` events
   * own it from then on. Re-running configure is therefore safe.
   */
  async putWorkspace(workspace: Workspace): Promise<void> {
    await this.migrateLegacyProfile(workspace.id);
    const { paymentMethod, failedInvoices, storageUsedGb, ...configured } = workspace;
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.workspace(workspace.id),
        UpdateExpression: 'SET #profile = :profile, paymentMethod = if_not_exists(paymentMethod, :paymentMethod)',
        ExpressionAttributeNames: { '#profile': 'workspace' },
        ExpressionAttributeValues: { ':profile': configured, ':paymentMethod': paymentMethod },
      }),
    );
  }

  /** A workspace: its configured fields merged with the engine-owned state beside them (`workspaceOf`). */
  async getWorkspace(id: string): Promise<Workspace | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.workspace(id) }));
    return out.Item ? workspaceOf(out.Item) : undefined;
  }

  /**
   * Applies `payment_method.updated` (R15) in one conditional UpdateItem, no read: only if no
   * later-dated update was applied, so concurrent or out-of-order deliveries end on the latest.
   */
  async setPaymentMethod(id: string, present: boolean, at: string): Promise<ProfileUpdate> {
    return this.updateProfile(id, 'SET paymentMethod = :value, paymentMethodAt = :at', { ':value': present, ':at': at }, 'paymentMethodAt');
  }

  /** Applies `storage.usage_reported` (R15) like `setPaymentMethod`: the latest-dated report wins. */
  async setStorageUsage(id: string, usedGb: number, at: string): Promise<ProfileUpdate> {
    return this.updateProfile(id, 'SET storageUsedGb = :value, storageUsedAt = :at', { ':value': usedGb, ':at': at }, 'storageUsedAt');
  }

  /** Adds an invoice to the failed ones (`invoice.payment_failed`): `ADD` to a string set, so concurrent failures all stay. */
  async addFailedInvoice(id: string, invoice: string): Promise<ProfileUpdate> {
    return this.updateProfile(id, 'ADD failedInvoices :invoices', { ':invoices': new Set([invoice]) });
  }

  /** Removes a paid invoice from the failed ones (`invoice.paid`): `DELETE` from the string set. */
  async removeFailedInvoice(id: string, invoice: string): Promise<ProfileUpdate> {
    // A profile written by an earlier version may still hold it inside the map.
    await this.migrateLegacyProfile(id);
    return this.updateProfile(id, 'DELETE failedInvoices :invoices', { ':invoices': new Set([invoice]) });
  }

  /** One engine-owned profile update: conditioned on the profile existing (and, when dated, on not being older than what is stored). */
  private async updateProfile(id: string, expression: string, values: Record<string, unknown>, datedBy?: string): Promise<ProfileUpdate> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.workspace(id),
          UpdateExpression: expression,
          ConditionExpression: datedBy ? `attribute_exists(pk) AND (attribute_not_exists(${datedBy}) OR ${datedBy} <= :at)` : 'attribute_exists(pk)',
          ExpressionAttributeValues: values,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'applied';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return error.Item ? 'superseded' : 'missing';
    }
  }

  /**
   * Moves engine-owned state that an earlier version kept inside the `workspace` map to its own
   * attributes, once. Safe beside concurrent writers: `if_not_exists` keeps a newer value and
   * `ADD` unions the failed invoices; a second migration finds nothing left (condition).
   */
  private async migrateLegacyProfile(id: string): Promise<void> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.workspace(id), ConsistentRead: true }));
    const legacy = out.Item?.workspace as Partial<Workspace> | undefined;
    if (!legacy || !LEGACY_ENGINE_FIELDS.some((field) => field in legacy)) return;
    const sets: string[] = [];
    const values: Record<string, unknown> = {};
    if (typeof legacy.paymentMethod === 'boolean') {
      sets.push('paymentMethod = if_not_exists(paymentMethod, :paymentMethod)');
      values[':paymentMethod'] = legacy.paymentMethod;
    }
    if (typeof legacy.storageUsedGb === 'number') {
      sets.push('storageUsedGb = if_not_exists(storageUsedGb, :storageUsedGb)');
      values[':storageUsedGb'] = legacy.storageUsedGb;
    }
    const failed = legacy.failedInvoices ?? [];
    if (failed.length > 0) values[':failed'] = new Set(failed);
    const expression = [
      sets.length > 0 ? `SET ${sets.join(', ')}` : '',
      failed.length > 0 ? 'ADD failedInvoices :failed' : '',
      `REMOVE ${LEGACY_ENGINE_FIELDS.map((field) => `#profile.${field}`).join(', ')}`,
    ]
      .filter(Boolean)
      .join(' ');
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.workspace(id),
          UpdateExpression: expression,
          ConditionExpression: LEGACY_ENGINE_FIELDS.map((field) => `attribute_exists(#profile.${field})`).join(' OR '),
          ExpressionAttributeNames: { '#profile': 'workspace' },
          ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /**
   * Stores a member event once (keyed by its billing date and the delivering event's id): a
   * redelivery is a no-op and returns false. The arrival sequence breaks ties between events at
   * the same instant, and tells a snapshot which events arrived after it was folded.
   */
  async appendMemberEvent(ws: string, eventId: string, event: Omit<MemberEvent, 'seq'>): Promise<boolean> {
    const counter = await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.memberSeq(ws),
        UpdateExpression: 'ADD #n :one',
        ExpressionAttributeNames: { '#n': 'n' },
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const seq = Number(counter.Attributes?.n ?? 0);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.memberEvent(ws, event.date, eventId), event: { ...event, seq } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** The whole member history of a workspace (every key layout), oldest first by arrival. */
  async listMemberEvents(ws: string): Promise<MemberEvent[]> {
    return (await this.readMembers(ws)).events;
  }

  /**
   * One Query for what billing reads of a workspace besides its subscription: its member events
   * dated from `fromDate` on (every one without it, under either key layout), its member snapshot
   * and its profile, which sort together (`keys.memberRange`). A quiet workspace's snapshot,
   * empty tail and profile fit one 4 KB read unit.
   */
  async readMembers(ws: string, fromDate?: string): Promise<MemberRead> {
    const range = keys.memberRange(ws, fromDate);
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': range.pk, ':from': range.from, ':to': range.to },
    });
    const read: MemberRead = { events: [], legacyKeys: [] };
    const seen = new Set<string>();
    for (const item of items) {
      const sk = String(item.sk);
      if (sk === keys.workspace(ws).sk) read.workspace = workspaceOf(item);
      else if (sk === keys.memberSnapshot(ws).sk) read.snapshot = { ...(item.snapshot as MemberSnapshot), version: Number(item.version) };
      else if (sk.startsWith(keys.memberPrefix())) {
        const event = item.event as MemberEvent;
        if (!MEMBER_EVENT_KEY.test(sk)) read.legacyKeys.push({ sk, event });
        // A move to the dated key that stopped halfway leaves the event under both keys.
        const identity = `${event.seq}#${event.member}#${event.at}#${event.type}`;
        if (seen.has(identity)) continue;
        seen.add(identity);
        read.events.push(event);
      }
    }
    read.events.sort((a, b) => a.seq - b.seq);
    return read;
  }

  /**
   * Writes a workspace's member snapshot, conditioned on the version it was folded from (none:
   * no snapshot yet), so a fold from a read older than another's refold (after a late event)
   * never overwrites it. Events still under the key layout before snapshots and dated after the
   * snapshot's cutoff are moved to their dated key first (the lazy migration: a tail read by date
   * would not find them); older ones stay, read only by a whole-history read.
   */
  async putMemberSnapshot(ws: string, snapshot: MemberSnapshot, previousVersion: number, legacy: ReadonlyArray<{ sk: string; event: MemberEvent }> = []): Promise<void> {
    for (const { sk, event } of legacy) {
      if (event.date <= snapshot.cutoff) continue;
      const eventId = sk.slice(keys.memberPrefix().length);
      await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...keys.memberEvent(ws, event.date, eventId), event } }));
      await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: keys.workspace(ws).pk, sk } }));
    }
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.memberSnapshot(ws), snapshot: { cutoff: snapshot.cutoff, seq: snapshot.seq, members: snapshot.members }, version: previousVersion + 1 },
          ConditionExpression: previousVersion === 0 ? 'attribute_not_exists(pk)' : 'version = :previous',
          ...(previousVersion === 0 ? {} : { ExpressionAttributeValues: { ':previous': previousVersion } }),
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new ConflictError(`member snapshot of ${ws} changed concurrently`);
      throw error;
    }
  }

  /** The workspace's active subscription, if any (one at a time). */
  async getActiveSubscription(ws: string): Promise<SubscriptionState | undefined> {
    return (await this.getSubscriptions(ws)).active;
  }

  /**
   * The workspace's active subscription and, without one, its latest ended one (`previous`, the
   * holder of its invoice counter, `invoiceCounterOf`), from one query.
   */
  async getSubscriptions(ws: string): Promise<{ active?: SubscriptionState; previous?: SubscriptionState }> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.workspace(ws).pk, ':prefix': keys.subscriptionPrefix() },
    });
    const states = items.map(subscriptionOf);
    const active = states.find((state) => state.status === 'active');
    if (active) return { active };
    const previous = states.sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0))[0];
    return previous ? { previous } : {};
  }

  /**
   * The prorations numbered from `billedProrationSeq` up to, not including, `nextProrationSeq`:
   * exactly those the subscription has committed and not billed. Anything numbered higher is
   * left by a failed chunked write (`writeStep`) and is never read; the next write overwrites it.
   */
  async listUnbilledProrations(subscription: SubscriptionState): Promise<Proration[]> {
    if (subscription.nextProrationSeq <= subscription.billedProrationSeq) return [];
    const { pk, sk } = keys.proration(subscription.workspace, subscription.id, subscription.billedProrationSeq);
    const last = keys.proration(subscription.workspace, subscription.id, subscription.nextProrationSeq - 1).sk;
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': pk, ':from': sk, ':to': last },
    });
    return items.map((item) => item.proration as Proration);
  }

  async getBalance(ws: string, currency: string): Promise<Balance> {
    return balanceOf(await this.getStoredBalance(ws), currency);
  }

  /** The balances item as stored (none: never written), read before the currency is known (`balanceOf`). */
  async getStoredBalance(ws: string): Promise<StoredBalance | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.balance(ws) }));
    return out.Item?.balance as StoredBalance | undefined;
  }

  /**
   * One worker batch's renewal reads in one `BatchGetItem` (100 keys a request): the catalog and,
   * per workspace, the subscription its due entry names and its balances item, read as the
   * one-workspace path reads them (eventually consistent; a stale read fails its write's condition
   * and the caller re-plans from fresh reads). A workspace is in `workspaces` only when both its
   * keys were answered (a key left unprocessed under throttling is read the usual way instead);
   * `catalog` is undefined when the catalog was not answered or is not configured.
   */
  async readRenewalBatch(requests: ReadonlyArray<{ workspace: string; subscriptionId: string }>): Promise<RenewalBatchRead> {
    const unique = [...new Map(requests.map((request) => [request.workspace, request])).values()];
    const wanted = [keys.catalog(), ...unique.flatMap((request) => [keys.subscription(request.workspace, request.subscriptionId), keys.balance(request.workspace)])];
    const found = new Map<string, Record<string, unknown>>();
    const answered = new Set<string>();
    const id = (key: { pk: unknown; sk: unknown }) => `${String(key.pk)}|${String(key.sk)}`;
    for (let start = 0; start < wanted.length; start += BATCH_GET_KEYS) {
      const chunk = wanted.slice(start, start + BATCH_GET_KEYS);
      const out = await this.doc.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: chunk } } }));
      const unprocessed = new Set((out.UnprocessedKeys?.[this.tableName]?.Keys ?? []).map((key) => id(key as { pk: unknown; sk: unknown })));
      for (const key of chunk) if (!unprocessed.has(id(key))) answered.add(id(key));
      for (const item of out.Responses?.[this.tableName] ?? []) found.set(id(item as { pk: unknown; sk: unknown }), item);
    }
    const read: RenewalBatchRead = { workspaces: new Map() };
    if (answered.has(id(keys.catalog()))) read.catalog = found.get(id(keys.catalog()))?.catalog as Catalog | undefined;
    for (const request of unique) {
      const subscriptionKey = id(keys.subscription(request.workspace, request.subscriptionId));
      const balanceKey = id(keys.balance(request.workspace));
      if (!answered.has(subscriptionKey) || !answered.has(balanceKey)) continue;
      const subscription = found.get(subscriptionKey);
      read.workspaces.set(request.workspace, {
        subscription: subscription ? subscriptionOf(subscription) : undefined,
        storedBalance: found.get(balanceKey)?.balance as StoredBalance | undefined,
      });
    }
    return read;
  }

  async listInvoices(ws: string): Promise<Invoice[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.workspace(ws).pk, ':prefix': keys.invoicePrefix() },
    });
    return Promise.all(items.map((item) => this.invoiceOf(ws, item)));
  }

  /**
   * The invoice a stream record's image holds (`publisherInsertOf`), its lines read back from
   * their pages when it has them: what the publisher announces.
   */
  async invoiceFromImage(image: InvoiceImage): Promise<Invoice> {
    return this.invoiceOf(image.workspace, image.item);
  }

  /** An invoice from its item, its lines read back from their pages when it has them (`invoicePuts`). */
  private async invoiceOf(ws: string, item: Record<string, unknown>): Promise<Invoice> {
    const invoice = item.invoice as Invoice;
    if (typeof item.linePages !== 'number') return invoice;
    const pages = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.workspace(ws).pk, ':prefix': keys.invoiceLinesPrefix(invoice.id) },
      ConsistentRead: true,
    });
    // Pages past the count are a failed attempt's leftovers.
    return { ...invoice, lines: pages.slice(0, item.linePages).flatMap((page) => page.lines as InvoiceLine[]) };
  }

  async recordRejection(rejection: Rejection): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.rejection(rejection.workspace, rejection.at, rejection.eventId), rejection },
      }),
    );
  }

  async listRejections(ws: string): Promise<Rejection[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.workspace(ws).pk, ':prefix': keys.rejectionPrefix() },
    });
    return items.map((item) => item.rejection as Rejection);
  }

  /**
   * Marks a workspace as needing accrual once the day `date` has ended in its zone. The
   * marker keeps the earliest due instant, so several events in a day are one entry.
   */
  async markAccrualDue(workspace: Workspace, date: IsoDate, nextDay: IsoDate): Promise<void> {
    const dueInstant = startOfDateInstant(nextDay, workspace.timezone);
    const index = keys.dueIndex('ACCRUE', workspace.id, dueInstant, this.dueShards);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.accrualMarker(workspace.id), ...index, date },
          ConditionExpression: 'attribute_not_exists(pk) OR gsi1sk > :sk',
          ExpressionAttributeValues: { ':sk': index.gsi1sk },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /** Removes an accrual marker unless a newer event moved it meanwhile. */
  async clearAccrualMarker(ws: string, seenSortKey: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: keys.accrualMarker(ws),
          ConditionExpression: 'gsi1sk = :sk',
          ExpressionAttributeValues: { ':sk': seenSortKey },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /**
   * Workspaces whose index entry is due at or before `instant`, across every shard: the
   * renewal/true-up index (`DUE`) or the accrual markers (`ACCRUE`). Reads only what is due.
   */
  async findDue(kind: 'DUE' | 'ACCRUE', instant: string): Promise<Array<{ workspace: string; sortKey: string }>> {
    const shards = Array.from({ length: this.dueShards }, (_, shard) => shard);
    const results = await Promise.all(
      shards.map((shard) =>
        this.queryAll({
          TableName: this.tableName,
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk <= :until',
          ExpressionAttributeValues: { ':pk': keys.duePartition(kind, shard), ':until': `${instant}#\uffff` },
        }),
      ),
    );
    return results.flat().map((item) => dueEntryOf(String(item.gsi1sk)));
  }

  /**
   * One page of one due-index shard: the workspaces whose entry is due at or before `instant`,
   * oldest first, with only the sort key read (`<due instant>#<workspace>`: it carries both), and
   * the cursor of the next page (`undefined` after the last). The dispatcher pages every shard
   * this way, so it never holds more than a page per shard whatever the number due.
   */
  async findDuePage(kind: 'DUE' | 'ACCRUE', shard: number, instant: string, cursor: DuePageCursor | undefined, limit: number): Promise<DuePage> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk <= :until',
        ExpressionAttributeValues: { ':pk': keys.duePartition(kind, shard), ':until': `${instant}#\uffff` },
        // The table's sort key is in every index entry: a renewal's names its subscription.
        ProjectionExpression: 'gsi1sk, sk',
        ExclusiveStartKey: cursor,
        Limit: limit,
      }),
    );
    const entries = (out.Items ?? []).map((item) => dueEntryOf(String(item.gsi1sk), typeof item.sk === 'string' ? item.sk : undefined));
    return { entries, cursor: out.LastEvaluatedKey };
  }

  /**
   * Applies the pure core's steps in order, each conditioned on the subscription's previous
   * version. A step that fits one transaction (100 items, 4 MB) is one transaction; a bigger one
   * (hundreds of prorations after late events, an invoice whose lines need pages) is written in
   * chunks under a claim and then committed (`writeStep`), so no number of prorations or lines
   * can make a workspace's step unwritable. A concurrent writer makes it throw `ConflictError`;
   * the caller reloads and re-plans, and then finds the work done.
   */
  async applySteps(workspace: Workspace, steps: readonly BillingStep[], issuedAt: string, options: { once?: IdempotencyRecord } = {}): Promise<void> {
    for (const [index, step] of steps.entries()) {
      const once = options.once && index === steps.length - 1 ? options.once : undefined;
      const stored = step.kind === 'invoice' || step.kind === 'purchase' ? this.invoicePuts(workspace.id, step.invoice, issuedAt) : undefined;
      if (step.kind === 'invoice' && stored && stored.pages.length === 0 && !once && this.writesInvoiceFirst(step)) {
        await this.writeInvoiceFirst(workspace, step, stored.invoice);
        continue;
      }
      const items: TransactItem[] = step.subscription ? [{ Put: this.subscriptionPut(workspace, step.subscription) }] : [];
      // The request's idempotency record commits with its last write: both land or neither does.
      if (once) items.push({ Put: this.idempotencyPut(once) });
      // A subscription write that issues no invoice checks that none waits at the subscription's
      // next number for its commit (`writeInvoiceFirst`): it would overwrite that invoice's state.
      if ((step.kind === 'accrual' || step.kind === 'advance') && step.subscription.version > 1) items.push(this.noInvoiceWaiting(workspace.id, step.subscription));
      // Prorations and line pages are read only through what commits after them: the subscription's
      // proration numbers, the invoice's page count.
      const dependents: ItemPut[] = [];
      if (step.kind === 'accrual') dependents.push(...step.prorations.map((proration) => this.prorationPut(workspace.id, proration)));
      if (stored && (step.kind === 'invoice' || step.kind === 'purchase')) {
        dependents.push(...stored.pages);
        // Every item here costs 2 WRU per KB (transactional): a quiet renewal is subscription and
        // invoice (`npm run capacity`). The invoice item is its own outbox: the table's stream
        // hands its INSERT to the publisher (`publisherInsertOf`), so no entry is written for it
        // and none is claimed or deleted. The invoice's number was taken from the counter on an
        // item written here under its version (the subscription; without an active one, the
        // latest ended subscription or the balance: `invoiceCounterOf`), so it costs no extra item
        // and a concurrent writer loses on the version instead of reusing the number.
        items.push({ Put: stored.invoice }, ...(step.kind === 'invoice' && step.balanceUnchanged ? [] : [{ Put: this.balancePut(workspace.id, step.balance) }]));
        // A new subscription takes the invoice counter over from the previous one (`handoff`).
        if (step.kind === 'invoice' && step.handoff) items.push({ Put: this.subscriptionPut(workspace, step.handoff) });
      }
      await this.writeStep(workspace, step.subscription, items, dependents);
    }
  }

  /**
   * Writes one step: in one transaction when it fits; otherwise its `dependents` in chunks,
   * then `items` (the subscription first) in one last transaction. The chunks go under a claim:
   * a random token set on the subscription only while it still has the version the step was
   * planned from, and required, with that version, by every chunk and by the last transaction.
   * So no chunk lands once another writer has committed or claimed since, and what a chunk
   * overwrites was never committed: proration numbers at or above that version's
   * `nextProrationSeq`, pages of an invoice not issued yet. A failed attempt's chunks are
   * overwritten by the retry's, or lie past what the committed subscription or invoice counts
   * and are never read (`listUnbilledProrations`, `invoiceOf`).
   */
  private async writeStep(workspace: Workspace, subscription: SubscriptionState | undefined, items: TransactItem[], dependents: ItemPut[]): Promise<void> {
    const single = [...items, ...dependents.map((put) => ({ Put: put }))];
    if (single.length <= MAX_TRANSACTION_ITEMS && transactionBytes(single) <= MAX_TRANSACTION_BYTES) {
      await this.transact(workspace.id, single);
      return;
    }
    // Only accrual and invoice steps of a subscription that exists get this big.
    if (!subscription || subscription.version < 2) throw new Error(`a step of ${single.length} items needs a stored subscription to claim`);
    const claim = randomUUID();
    const key = keys.subscription(workspace.id, subscription.id);
    const held = { ':previous': subscription.version - 1, ':claim': claim };
    try {
      await this.doc.send(
        new UpdateCommand({ TableName: this.tableName, Key: key, UpdateExpression: 'SET writeClaim = :claim', ConditionExpression: 'version = :previous', ExpressionAttributeValues: held }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new ConflictError(`workspace ${workspace.id} changed concurrently`);
      throw error;
    }
    const check: TransactItem = { ConditionCheck: { TableName: this.tableName, Key: key, ConditionExpression: 'version = :previous AND writeClaim = :claim', ExpressionAttributeValues: held } };
    for (const chunk of chunksOf(dependents, MAX_TRANSACTION_ITEMS - 1, MAX_TRANSACTION_BYTES, (put) => itemSizeBytes(put.Item ?? {}))) {
      await this.transact(workspace.id, [check, ...chunk.map((put) => ({ Put: put }))]);
    }
    await this.transact(workspace.id, [{ Put: this.subscriptionPut(workspace, subscription, claim) }, ...items.slice(1)]);
  }

  private async transact(ws: string, items: TransactItem[]): Promise<void> {
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // An invoice written first may be waiting for its subscription (`writeInvoiceFirst`) at the
      // number this transaction wanted: complete it, so that the re-plan starts from its state.
      for (const item of items) {
        const key = item.Put?.Item ?? item.ConditionCheck?.Key;
        if (key && String(key.sk).startsWith(keys.invoicePrefix())) await this.completeWaitingInvoice({ pk: key.pk, sk: key.sk });
      }
      throw new ConflictError(`workspace ${ws} changed concurrently`);
    }
  }

  /**
   * Whether an invoice step is written invoice first instead of in a transaction: a quiet renewal
   * or true-up (no balance moved, no counter handed over) of a stored subscription that holds the
   * invoice counter. These are nearly all the writes of the 1st.
   */
  private writesInvoiceFirst(step: Extract<BillingStep, { kind: 'invoice' }>): boolean {
    return step.balanceUnchanged === true && !step.handoff && step.subscription.version > 1 && invoiceSeqOf(step.invoice.number) === step.subscription.nextInvoiceSeq - 1;
  }

  /**
   * Writes an invoice step as two conditional writes instead of one transaction (issue 10: 5 WRU
   * in all against 8): the invoice, under its number, carrying the subscription item it commits
   * and the version that item replaces (`commit`); then that subscription item, conditioned on
   * the version. Standard writes cost half a transaction's, and the due entry's move in the index
   * is a standard write too. What the transaction gave is kept by the number key and the commit:
   *
   * - the invoice's write fails if any invoice holds its number, so two invoices planned from one
   *   subscription version cannot both be written (the other writers' transactions hold an
   *   invoice at the next number or check that none is there: `noInvoiceWaiting`);
   * - a crash between the two writes leaves the invoice waiting for its commit, and whoever next
   *   wants that number (the retry, the next hourly run finding the workspace still due, any
   *   change or accrual) finds it there and completes the commit from it before re-planning
   *   (`completeWaitingInvoice`): the invoice that was written is the one that counts.
   *
   * Either write failing its condition is a conflict: the caller reloads and re-plans, and then
   * finds the work done. The invoice is announced from its stream record as soon as it is written.
   */
  private async writeInvoiceFirst(workspace: Workspace, step: Extract<BillingStep, { kind: 'invoice' }>, invoice: ItemPut): Promise<void> {
    const subscription = this.subscriptionPut(workspace, step.subscription);
    const key = keys.invoice(workspace.id, invoiceSeqOf(step.invoice.number));
    // The commit is only ever read back whole, so it is kept as one JSON string: a nested map
    // would be marshalled attribute by attribute a second time on every renewal (`npm run bench`).
    const commit: InvoiceCommit = { subscription: subscription.Item, previousVersion: step.subscription.version - 1 };
    const item = { ...invoice.Item, ...key, commit: JSON.stringify(commit) };
    try {
      await this.doc.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // The number is taken: by this invoice (an earlier attempt, a concurrent twin) or another one.
      await this.completeWaitingInvoice(key);
      throw new ConflictError(`workspace ${workspace.id}: invoice number ${step.invoice.number} is taken`);
    }
    try {
      await this.doc.send(new PutCommand(subscription));
    } catch (error) {
      if (isConditionFailure(error)) throw new ConflictError(`workspace ${workspace.id} changed concurrently`);
      throw error;
    }
  }

  /**
   * Completes the commit an invoice written first carries (`writeInvoiceFirst`), if its
   * subscription still has the version the commit replaces: the subscription as planned with the
   * invoice. Anything else (no invoice there, no commit in it, the version already moved on)
   * leaves it as it is: versions only grow, so a commit applies once or never.
   */
  private async completeWaitingInvoice(key: { pk: unknown; sk: unknown }): Promise<void> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
    const stored = out.Item?.commit;
    // A map: written by the version before the commit was kept as JSON.
    const commit = (typeof stored === 'string' ? JSON.parse(stored) : stored) as InvoiceCommit | undefined;
    if (!commit) return;
    try {
      await this.doc.send(
        new PutCommand({ TableName: this.tableName, Item: commit.subscription, ConditionExpression: 'version = :previous', ExpressionAttributeValues: { ':previous': commit.previousVersion } }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /** The check that no invoice written first waits at the subscription's next number (see `writeInvoiceFirst`). */
  private noInvoiceWaiting(ws: string, subscription: SubscriptionState): TransactItem {
    return { ConditionCheck: { TableName: this.tableName, Key: keys.invoice(ws, subscription.nextInvoiceSeq), ConditionExpression: 'attribute_not_exists(pk)' } };
  }

  /**
   * A proration, without a condition of its own: it is only written beside the subscription's
   * version condition (or under a claim that requires it), and numbers at or above that
   * version's `nextProrationSeq` were never committed, so all it can overwrite is an orphan.
   */
  private prorationPut(ws: string, proration: Proration): ItemPut {
    return { TableName: this.tableName, Item: { ...keys.proration(ws, proration.subscription, proration.seq), proration } };
  }

  /**
   * The invoice item, with its lines in it; or, when that would come near DynamoDB's 400 KB item
   * limit, without them and with `linePages`, its lines in page items of their own.
   */
  private invoicePuts(ws: string, invoice: Invoice, issuedAt: string): { invoice: ItemPut; pages: ItemPut[] } {
    const key = keys.invoice(ws, invoiceSeqOf(invoice.number));
    const whole = { ...key, invoice, issuedAt };
    const condition = 'attribute_not_exists(pk)';
    if (itemSizeBytes(whole) <= INLINE_INVOICE_BYTES) return { invoice: { TableName: this.tableName, Item: whole, ConditionExpression: condition }, pages: [] };
    const { lines, ...header } = invoice;
    const pages = chunksOf(lines, Number.POSITIVE_INFINITY, LINE_PAGE_BYTES, (line) => 1 + attributeSizeBytes(line)).map((page, index) => ({
      TableName: this.tableName,
      Item: { ...keys.invoiceLines(ws, invoice.id, index), lines: page },
    }));
    return { invoice: { TableName: this.tableName, Item: { ...key, invoice: header, linePages: pages.length, issuedAt }, ConditionExpression: condition }, pages };
  }

  /**
   * Writes a subscription on its own (ingest marking a late event, a cancellation), conditioned on
   * its version, and on no invoice waiting at its next number for its commit (`writeInvoiceFirst`).
   */
  async putSubscription(workspace: Workspace, subscription: SubscriptionState): Promise<void> {
    await this.transact(workspace.id, [{ Put: this.subscriptionPut(workspace, subscription) }, this.noInvoiceWaiting(workspace.id, subscription)]);
  }

  /**
   * Writes the balances alone (AI credit consumption), conditioned on their version; with
   * `once`, together with that request's idempotency record in one transaction.
   */
  async putBalance(ws: string, balance: Balance, once?: IdempotencyRecord): Promise<void> {
    try {
      if (once) await this.doc.send(new TransactWriteCommand({ TransactItems: [{ Put: this.balancePut(ws, balance) }, { Put: this.idempotencyPut(once) }] }));
      else await this.doc.send(new PutCommand(this.balancePut(ws, balance)));
    } catch (error) {
      if (isConditionFailure(error)) throw new ConflictError(`balance of ${ws} changed concurrently`);
      throw error;
    }
  }

  /**
   * Publishes an engine event through the outbox (warnings, rejections; an invoice whose
   * announcement from the stream failed). `order` sorts entries of one instant (an invoice's date).
   */
  async enqueueEvent(id: string, detailType: string, detail: Record<string, unknown>, createdAt: string, order = ''): Promise<void> {
    await this.doc.send(new PutCommand({ ...this.outboxPut(id, detailType, detail, createdAt, order), ConditionExpression: 'attribute_not_exists(pk)' })).catch((error: unknown) => {
      if (!isConditionFailure(error)) throw error;
    });
  }

  /** Outbox entries not yet published, oldest first (the sweeper's and the simulator's view). */
  async listOutbox(): Promise<OutboxEntry[]> {
    const shards = Array.from({ length: this.outboxShards }, (_, shard) => shard);
    const results = await Promise.all(
      shards.map((shard) =>
        this.queryAll({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': keys.outboxPartition(shard) },
        }),
      ),
    );
    return results
      .flat()
      .map((item) => ({ ...outboxEntryOf(item), ...(typeof item.publishedAt === 'string' ? { publishedAt: item.publishedAt } : {}) }))
      .sort((a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0));
  }

  /**
   * Claims an outbox entry before publishing it, so the stream publisher and a sweep never both
   * put it on the bus: one conditional write, won only while the entry exists, is not published
   * and holds no unexpired lease. A claimant that dies leaves a lease that expires at `leaseUntil`
   * (epoch ms), after which anyone may claim the entry again.
   */
  async claimOutbox(entry: { pk: string; sk: string }, claimant: string, now: number, leaseUntil: number): Promise<OutboxClaim> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: entry.pk, sk: entry.sk },
          UpdateExpression: 'SET claimedBy = :claimant, claimedUntil = :until',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(publishedAt) AND (attribute_not_exists(claimedUntil) OR claimedUntil < :now)',
          ExpressionAttributeValues: { ':claimant': claimant, ':until': leaseUntil, ':now': now },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'claimed';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // The losing write returns the item as it was, which says why without another read.
      if (!error.Item) return 'gone';
      return error.Item.publishedAt ? 'published' : 'taken';
    }
  }

  /**
   * Records that the claimant put the entry on the bus, before it is deleted: if the delete then
   * fails, the marker (not the entry's absence) is what stops every later run from publishing it
   * again. False when the claimant's lease was taken over (it expired mid-publish).
   */
  async markOutboxPublished(entry: { pk: string; sk: string }, claimant: string, publishedAt: string): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: entry.pk, sk: entry.sk },
          UpdateExpression: 'SET publishedAt = :publishedAt',
          ConditionExpression: 'claimedBy = :claimant AND attribute_not_exists(publishedAt)',
          ExpressionAttributeValues: { ':claimant': claimant, ':publishedAt': publishedAt },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Gives a claim back after a failed publish, so the next attempt need not wait for the lease to expire. */
  async releaseOutbox(entry: { pk: string; sk: string }, claimant: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: entry.pk, sk: entry.sk },
          UpdateExpression: 'REMOVE claimedBy, claimedUntil',
          ConditionExpression: 'claimedBy = :claimant AND attribute_not_exists(publishedAt)',
          ExpressionAttributeValues: { ':claimant': claimant },
        }),
      );
    } catch (error) {
      // Someone else holds it now, or it is gone: nothing of ours to give back.
      if (!isConditionFailure(error)) throw error;
    }
  }

  /**
   * Deletes an outbox entry: one marked published; or, with `claimant`, one that claimant holds and
   * has just put on the bus (so a publish costs a claim and a delete, no mark). Never an entry that
   * nobody has published (it would be lost), nor one whose claim was taken over.
   */
  async deleteOutbox(entry: { pk: string; sk: string }, claimant?: string): Promise<void> {
    const condition = claimant ? 'attribute_exists(publishedAt) OR attribute_not_exists(pk) OR claimedBy = :claimant' : 'attribute_exists(publishedAt) OR attribute_not_exists(pk)';
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: entry.pk, sk: entry.sk },
          ConditionExpression: condition,
          ...(claimant ? { ExpressionAttributeValues: { ':claimant': claimant } } : {}),
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new ConflictError(`outbox entry ${entry.sk} is not published yet`);
      throw error;
    }
  }

  /** The subscription's put, conditioned on its previous version (and, for a chunked step, on still holding `claim`). */
  private subscriptionPut(workspace: Workspace, subscription: SubscriptionState, claim?: string) {
    const due = nextDueDate(subscription);
    const index = due ? keys.dueIndex('DUE', workspace.id, startOfDateInstant(due, workspace.timezone), this.dueShards) : {};
    const previous = subscription.version - 1;
    return {
      TableName: this.tableName,
      Item: { ...keys.subscription(workspace.id, subscription.id), ...index, state: subscription, version: subscription.version },
      ConditionExpression: previous === 0 ? 'attribute_not_exists(pk)' : claim ? 'version = :previous AND writeClaim = :claim' : 'version = :previous',
      ...(previous === 0 ? {} : { ExpressionAttributeValues: { ':previous': previous, ...(claim ? { ':claim': claim } : {}) } }),
    };
  }

  /** The first response recorded under an idempotency key, if any (strongly consistent). */
  async getIdempotency(key: string): Promise<IdempotencyRecord | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.idempotency(key), ConsistentRead: true }));
    return out.Item ? { key, response: String(out.Item.response), at: String(out.Item.at) } : undefined;
  }

  /** Records a response under its key unless one is recorded already (the first one wins). */
  async putIdempotency(record: IdempotencyRecord): Promise<void> {
    await this.doc.send(new PutCommand(this.idempotencyPut(record))).catch((error: unknown) => {
      if (!isConditionFailure(error)) throw error;
    });
  }

  private idempotencyPut(record: IdempotencyRecord) {
    return {
      TableName: this.tableName,
      Item: { ...keys.idempotency(record.key), response: record.response, at: record.at, ttl: Math.floor(Date.parse(record.at) / 1000) + IDEMPOTENCY_TTL_SECONDS },
      ConditionExpression: 'attribute_not_exists(pk)',
    };
  }

  private balancePut(ws: string, balance: Balance) {
    const stored: StoredBalance = {
      billingCredit: balance.billingCredit.toString(),
      aiCredits: balance.aiCredits,
      version: balance.version,
      nextInvoiceSeq: balance.nextInvoiceSeq,
      invoiceCounterMoved: balance.invoiceCounterMoved,
    };
    const previous = balance.version - 1;
    return {
      TableName: this.tableName,
      Item: { ...keys.balance(ws), balance: stored, version: stored.version },
      ConditionExpression: previous === 0 ? 'attribute_not_exists(pk)' : 'version = :previous',
      ...(previous === 0 ? {} : { ExpressionAttributeValues: { ':previous': previous } }),
    };
  }

  private outboxPut(id: string, detailType: string, detail: Record<string, unknown>, createdAt: string, order: string) {
    return {
      TableName: this.tableName,
      Item: { ...keys.outbox(shardOf(id, this.outboxShards), createdAt, order, id), id, detailType, detail },
    };
  }

  private async queryAll(input: QueryCommandInput): Promise<Array<Record<string, unknown>>> {
    const items: Array<Record<string, unknown>> = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
      items.push(...((out.Items ?? []) as Array<Record<string, unknown>>));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }
}

/** An invoice item as a stream record carries it: its workspace, its item, and when it was issued. */
export interface InvoiceImage {
  workspace: string;
  item: Record<string, unknown>;
  issuedAt: string;
}

/**
 * What a DynamoDB stream record means to the publisher, its image unmarshalled once: an invoice
 * item inserted (the trigger of `Invoice Issued`), an outbox entry inserted, or nothing (any other
 * item, and any later modification or removal).
 */
export function publisherInsertOf(record: { eventName?: string; dynamodb?: { NewImage?: Record<string, unknown> } }): { invoice: InvoiceImage } | { outbox: OutboxEntry } | undefined {
  if (record.eventName !== 'INSERT' || !record.dynamodb?.NewImage) return undefined;
  const item = unmarshall(record.dynamodb.NewImage as Parameters<typeof unmarshall>[0]);
  if (String(item.pk).startsWith('OUTBOX#')) return { outbox: outboxEntryOf(item) };
  const workspace = keys.workspaceOf(String(item.pk));
  if (workspace === undefined || !String(item.sk).startsWith(keys.invoicePrefix()) || typeof item.invoice !== 'object') return undefined;
  return { invoice: { workspace, item, issuedAt: String(item.issuedAt) } };
}

function outboxEntryOf(item: Record<string, unknown>): OutboxEntry {
  return { pk: String(item.pk), sk: String(item.sk), id: String(item.id), detailType: String(item.detailType), detail: item.detail as Record<string, unknown> };
}

/** What `BillingStore.readMembers` found: the profile, the snapshot (with its item version) and the events read. */
export interface MemberRead {
  workspace?: Workspace;
  snapshot?: MemberSnapshot & { version: number };
  /** Events read, each once, in arrival order. */
  events: MemberEvent[];
  /** Events read under the key layout from before snapshots (`MEMBER#<eventId>`), to move. */
  legacyKeys: Array<{ sk: string; event: MemberEvent }>;
}

/** A member event's key since snapshots: `MEMBER#<billing date>#<event id>`. */
const MEMBER_EVENT_KEY = /^MEMBER#\d{4}-\d{2}-\d{2}#/;

/** Where a due-index page ends: DynamoDB's `LastEvaluatedKey`, opaque to callers. */
export type DuePageCursor = Record<string, unknown>;

/** A due workspace as the index holds it: its id and the index sort key (`<due instant>#<workspace>`). */
export interface DueEntry {
  workspace: string;
  sortKey: string;
  /** The subscription a renewal entry belongs to (its item is the index entry); none for an accrual marker. */
  subscriptionId?: string;
}

/** What `readRenewalBatch` read for one workspace. */
export interface PrefetchedReads {
  /** The subscription under the key asked, as stored (undefined: no such item). */
  subscription?: SubscriptionState;
  /** The balances item (undefined: never written). */
  storedBalance?: StoredBalance;
}

/** A worker batch's reads (`BillingStore.readRenewalBatch`). */
export interface RenewalBatchRead {
  catalog?: Catalog;
  workspaces: Map<string, PrefetchedReads>;
}

/** What an invoice written first commits (`writeInvoiceFirst`): the subscription item, and the version it replaces. */
interface InvoiceCommit {
  subscription: Record<string, unknown>;
  previousVersion: number;
}

/** DynamoDB's limit of keys per `BatchGetItem`. */
const BATCH_GET_KEYS = 100;

/** A subscription from its item; one stored before invoices were numbered starts its numbers at 1. */
function subscriptionOf(item: Record<string, unknown>): SubscriptionState {
  const state = item.state as Omit<SubscriptionState, 'nextInvoiceSeq'> & { nextInvoiceSeq?: number };
  return { ...state, nextInvoiceSeq: state.nextInvoiceSeq ?? 1 };
}

/** One page of a due-index shard (`BillingStore.findDuePage`). */
export interface DuePage {
  entries: DueEntry[];
  cursor: DuePageCursor | undefined;
}

function dueEntryOf(sortKey: string, tableSortKey?: string): DueEntry {
  const subscriptionId = keys.subscriptionIdOf(tableSortKey);
  return { workspace: sortKey.split('#').slice(1).join('#'), sortKey, ...(subscriptionId !== undefined ? { subscriptionId } : {}) };
}
