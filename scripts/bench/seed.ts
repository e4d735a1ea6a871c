import { randomUUID } from 'node:crypto';
import { BatchWriteItemCommand, DynamoDBClient, ScanCommand, type AttributeValue, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { parseAppEvent } from '../../shared/contracts/events';
import { DEFAULT_SETTINGS, type Catalog, type Plan, type Workspace } from '../../shared/domain/catalog';
import type { Dependencies } from '../../shared/jobs/dependencies';
import { ingestEvent } from '../../shared/jobs/ingest';
import { BillingStore, createDocumentClient } from '../../shared/store/dynamo-store';
import { keys, shardOf } from '../../shared/store/keys';
import type { LocalDynamo } from '../../simulator/dynamo-local';

/** The bench's plan: monthly, $30.00 a seat, flexible seats. */
const plan: Plan = { id: 'pro', name: 'Pro', interval: 'month', seatPrice: '30.00', seatMode: 'flexible', minimumSeats: 1, maximumSeats: null, storageGb: 0, aiCreditsPerPeriod: 0 };
/** The catalog every seeded workspace subscribes from. */
export const BENCH_CATALOG: Catalog = { plans: [plan], addons: [], creditPacks: [] };
/** Members of each seeded workspace, all joined before the subscription started. */
export const BENCH_MEMBERS = 2;
/** When the seeded subscriptions started; the bench renews them at `BENCH_RUN`. */
const STARTED_AT = '2027-01-01T09:00:00Z';
/** The scheduled run that renews every seeded workspace (its period starts on 2027-02-01). */
export const BENCH_RUN = '2027-02-01T00:05:00Z';

/**
 * The id the template workspace is seeded under. Every id the bench makes has the same length
 * (`benchId`), so a clone's items are byte for byte as big as the template's.
 */
const TEMPLATE_ID = 'ws-t-0000000';

/** The id of the `index`-th workspace of a set (`j` the job's, `f`/`r` the floors'): the template's length. */
export function benchId(set: string, index: number): string {
  return `ws-${set}-${String(index).padStart(7, '0')}`;
}

const workspace = (id: string): Workspace => ({ id, name: id, timezone: 'UTC', currency: 'USD', billingDay: 1, contract: 'standard', paymentMethod: true, settings: DEFAULT_SETTINGS });

type Item = Record<string, AttributeValue>;

/**
 * Marshalled DynamoDB JSON (items, or a request's input) of workspace `from` made `to`'s: the id
 * replaced everywhere (keys, invoice ids, attributes) and every due-index partition key
 * recomputed, since the index is write-sharded by workspace id. Both ids must have one length
 * for the clone to be as big as the original.
 */
export function cloneText(text: string, from: string, to: string, dueShards: number): string {
  if (from.length !== to.length) throw new Error(`cannot clone ${from} as ${to}: the ids differ in length`);
  return text
    .split(from)
    .join(to)
    .replace(/("gsi1pk":\{"S":"[A-Z]+#)\d+(")/g, `$1${shardOf(to, dueShards)}$2`);
}

/** What seeding took. */
export interface SeedReport {
  workspaces: number;
  items: number;
  ms: number;
  /** Items per workspace, as the store wrote them for the template. */
  itemsPerWorkspace: number;
  /** The instant the seeded subscriptions are due (their due-index entry is `<dueAt>#<workspace>`). */
  dueAt: string;
  /** A seeded workspace's subscription id (the template's, cloned), as the dispatcher puts it in a work message. */
  subscriptionIdFor: (workspace: string) => string;
}

/**
 * Seeds the workspaces fast and still exactly as the store writes them: one template workspace
 * (`BENCH_MEMBERS` members, a monthly subscription started on 2027-01-01 with its first invoice)
 * goes through the real ingest path into a scratch table; its items are read back and cloned
 * for every id (the id replaced in keys and attributes, the due-index shard recomputed for the
 * new id), then written with `BatchWriteItem`, 25 a call, `concurrency` calls at a time. Whatever
 * the store's item layout becomes, the clones follow it. The engine's outbox and idempotency
 * records of the template (other partitions) are not cloned: a renewal never reads them.
 */
export async function seedWorkspaces(dynamo: LocalDynamo, tableName: string, ids: readonly string[], concurrency = 16): Promise<SeedReport> {
  const started = performance.now();
  const scratch = `bench-template-${randomUUID()}`;
  await dynamo.createTable(scratch);
  const store = new BillingStore(createDocumentClient(dynamo.config), { tableName: scratch });
  const deps: Dependencies = { store, publisher: { publish: async () => undefined } };
  await store.putCatalog(BENCH_CATALOG);
  await store.putWorkspace(workspace(TEMPLATE_ID));
  for (let m = 0; m < BENCH_MEMBERS; m += 1) {
    await ingestEvent(deps, parseAppEvent(`join-${TEMPLATE_ID}-${m}`, 'member.joined', '2027-01-01T08:00:00Z', { workspace: TEMPLATE_ID, member: `m${m}`, role: m === 0 ? 'owner' : 'member' }));
  }
  const outcome = await ingestEvent(deps, parseAppEvent(`start-${TEMPLATE_ID}`, 'subscription.started', STARTED_AT, { workspace: TEMPLATE_ID, plan: 'pro' }));
  if (outcome.status !== 'stored') throw new Error(`the template subscription was not started: ${JSON.stringify(outcome)}`);

  const client = new DynamoDBClient(dynamo.config);
  const template: Item[] = [];
  let catalog: Item | undefined;
  let start: Item | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: scratch, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) {
      if (item.pk?.S === keys.workspace(TEMPLATE_ID).pk) template.push(item);
      else if (item.pk?.S === keys.catalog().pk) catalog = item;
    }
    start = page.LastEvaluatedKey;
  } while (start);
  if (!catalog || template.length === 0) throw new Error('the template workspace left no items to clone');
  const dueItem = template.find((item) => item.gsi1pk?.S?.startsWith('DUE#'));
  const dueAt = dueItem?.gsi1sk?.S?.split('#')[0];
  if (!dueAt) throw new Error('the template subscription has no due-index entry');
  const templateSubscription = keys.subscriptionIdOf(dueItem?.sk?.S);
  if (!templateSubscription) throw new Error('the template due-index entry is not a subscription');

  const text = JSON.stringify(template);
  const requests: WriteRequest[] = [{ PutRequest: { Item: catalog } }];
  for (const id of ids) {
    for (const item of JSON.parse(cloneText(text, TEMPLATE_ID, id, store.dueShards)) as Item[]) requests.push({ PutRequest: { Item: item } });
  }
  const batches: WriteRequest[][] = [];
  for (let i = 0; i < requests.length; i += 25) batches.push(requests.slice(i, i + 25));
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < batches.length) {
        let pending = batches[next++];
        for (let attempt = 0; pending.length > 0; attempt += 1) {
          if (attempt > 10) throw new Error('BatchWriteItem kept leaving items unprocessed');
          const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }));
          pending = out.UnprocessedItems?.[tableName] ?? [];
          if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 20 * (attempt + 1)));
        }
      }
    }),
  );
  client.destroy();
  return {
    workspaces: ids.length,
    items: requests.length,
    ms: performance.now() - started,
    itemsPerWorkspace: template.length,
    dueAt,
    subscriptionIdFor: (id) => cloneText(templateSubscription, TEMPLATE_ID, id, store.dueShards),
  };
}
