import type { AttributeValue, ConsumedCapacity, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { itemSizeBytes } from '../shared/store/item-size';

/** Read and write capacity units, as DynamoDB bills them. */
export interface Units {
  rru: number;
  wru: number;
}

/** What a meter has summed so far: in total, per operation (`TransactWriteItems`, `Query`…) and per table or index. */
export interface CapacityReading extends Units {
  calls: number;
  byOperation: Record<string, Units & { calls: number }>;
  /** `<table>` for the base table, `<table>/<index>` for a global or local secondary index. */
  byTarget: Record<string, Units>;
}

/** A meter on a client: read it, or zero it between the operations being measured. */
export interface CapacityMeter {
  reading(): CapacityReading;
  reset(): void;
}

/** Operations that return write units; every other one that reports capacity is a read. */
const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand', 'TransactWriteItemsCommand', 'ExecuteStatementCommand']);

/** Operations that accept `ReturnConsumedCapacity`. */
const METERED = new Set([
  'GetItemCommand',
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'QueryCommand',
  'ScanCommand',
  'BatchGetItemCommand',
  'BatchWriteItemCommand',
  'TransactGetItemsCommand',
  'TransactWriteItemsCommand',
]);

const ATTRIBUTE_TYPES = new Set(['S', 'N', 'B', 'BOOL', 'NULL', 'M', 'L', 'SS', 'NS', 'BS']);

/** An item's size, whether the middleware sees it marshalled (`{ S: … }`) or as the document client's plain values. */
function sizeOf(item: Record<string, unknown>): number {
  const marshalled = Object.values(item).every((value) => typeof value === 'object' && value !== null && Object.keys(value).length === 1 && ATTRIBUTE_TYPES.has(Object.keys(value)[0]));
  return itemSizeBytes(marshalled ? unmarshall(item as Record<string, AttributeValue>) : item);
}

/**
 * What DynamoDB bills the base table for a `TransactWriteItems`: two write units per KB of each
 * item (one to prepare, one to commit). DynamoDB Local reports 2 for a whole transaction whatever
 * its items, so the meter prices the request itself. A put is priced by its new item (an older,
 * bigger one would cost more); an update, delete or condition check at its 1 KB minimum.
 */
export function transactionTableUnits(input: unknown): number {
  const items = (input as { TransactItems?: Array<Record<string, { Item?: Record<string, unknown> } | undefined>> }).TransactItems ?? [];
  return items.reduce((total, item) => {
    const put = item.Put?.Item;
    return total + 2 * (put ? Math.max(1, Math.ceil(sizeOf(put) / 1024)) : 1);
  }, 0);
}

function empty(): CapacityReading {
  return { rru: 0, wru: 0, calls: 0, byOperation: {}, byTarget: {} };
}

/** Adds one response's `ConsumedCapacity` entries to the reading. */
function record(reading: CapacityReading, operation: string, reported: readonly ConsumedCapacity[], input: unknown): void {
  const consumed = operation === 'TransactWriteItemsCommand' ? reported.map((entry) => priceTransaction(entry, transactionTableUnits(input))) : reported;
  const kind = operation.replace(/Command$/, '');
  const op = (reading.byOperation[kind] ??= { rru: 0, wru: 0, calls: 0 });
  op.calls += 1;
  reading.calls += 1;
  const write = WRITES.has(operation);
  const add = (target: string, units: number | undefined, read: number | undefined, written: number | undefined) => {
    // DynamoDB reports split units when it knows them, else only the total for the operation's kind.
    const r = read ?? (write ? 0 : (units ?? 0));
    const w = written ?? (write ? (units ?? 0) : 0);
    const entry = (reading.byTarget[target] ??= { rru: 0, wru: 0 });
    entry.rru += r;
    entry.wru += w;
  };
  for (const entry of consumed) {
    const table = entry.TableName ?? '?';
    const indexes = { ...entry.GlobalSecondaryIndexes, ...entry.LocalSecondaryIndexes };
    const indexNames = Object.keys(indexes);
    if (entry.Table || indexNames.length > 0) {
      if (entry.Table) add(table, entry.Table.CapacityUnits, entry.Table.ReadCapacityUnits, entry.Table.WriteCapacityUnits);
      for (const name of indexNames) add(`${table}/${name}`, indexes[name].CapacityUnits, indexes[name].ReadCapacityUnits, indexes[name].WriteCapacityUnits);
    } else {
      add(table, entry.CapacityUnits, entry.ReadCapacityUnits, entry.WriteCapacityUnits);
    }
    const r = entry.ReadCapacityUnits ?? (write ? 0 : (entry.CapacityUnits ?? 0));
    const w = entry.WriteCapacityUnits ?? (write ? (entry.CapacityUnits ?? 0) : 0);
    op.rru += r;
    op.wru += w;
    reading.rru += r;
    reading.wru += w;
  }
}

/**
 * A transaction's reported capacity with the base table's share replaced by what DynamoDB bills
 * (`transactionTableUnits`). The indexes' shares stay as DynamoDB Local reports them: it doubles
 * index writes made inside a transaction (a moved due-index entry is 4 there, 2 from a PutItem),
 * which the meter keeps as the upper bound.
 */
function priceTransaction(entry: ConsumedCapacity, tableUnits: number): ConsumedCapacity {
  const indexUnits = Object.values(entry.GlobalSecondaryIndexes ?? {}).reduce((total, index) => total + (index.CapacityUnits ?? 0), 0);
  return { ...entry, CapacityUnits: tableUnits + indexUnits, WriteCapacityUnits: undefined, Table: { CapacityUnits: tableUnits } };
}

function copy(reading: CapacityReading): CapacityReading {
  return {
    rru: reading.rru,
    wru: reading.wru,
    calls: reading.calls,
    byOperation: Object.fromEntries(Object.entries(reading.byOperation).map(([key, value]) => [key, { ...value }])),
    byTarget: Object.fromEntries(Object.entries(reading.byTarget).map(([key, value]) => [key, { ...value }])),
  };
}

/**
 * Meters a DynamoDB client (`DynamoDBClient` or a `DynamoDBDocumentClient` around one): every
 * call that can report capacity is sent with `ReturnConsumedCapacity: 'INDEXES'` (the total
 * plus each index's share; DynamoDB Local reports it like the service) and its units are summed
 * per operation and per table or index; a transaction's base-table share is priced from its
 * items (`transactionTableUnits`), as DynamoDB Local under-reports it. The middleware runs below the document client's
 * marshalling, so it sees the low-level commands either client sends. Responses are not changed
 * beyond carrying `ConsumedCapacity`. For measurement (the capacity script, the bench, tests),
 * never in the Lambdas: the engine's cost must not depend on being watched.
 */
export function meterCapacity(client: DynamoDBClient | DynamoDBDocumentClient): CapacityMeter {
  let reading = empty();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = String(context.commandName ?? '');
      if (!METERED.has(operation)) return next(args);
      const input = args.input as { ReturnConsumedCapacity?: string };
      if (input.ReturnConsumedCapacity === undefined || input.ReturnConsumedCapacity === 'NONE') input.ReturnConsumedCapacity = 'INDEXES';
      const result = await next(args);
      const output = result.output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] };
      const consumed = output.ConsumedCapacity;
      record(reading, operation, consumed === undefined ? [] : Array.isArray(consumed) ? consumed : [consumed], args.input);
      return result;
    },
    { step: 'initialize', name: 'prorataCapacityMeter', override: true },
  );
  return {
    reading: () => copy(reading),
    reset: () => void (reading = empty()),
  };
}

/** The difference of two readings (`after − before`), to measure one operation inside a longer run. */
export function subtractReadings(after: CapacityReading, before: CapacityReading): CapacityReading {
  const result = copy(after);
  result.rru -= before.rru;
  result.wru -= before.wru;
  result.calls -= before.calls;
  for (const [key, value] of Object.entries(before.byOperation)) {
    const entry = (result.byOperation[key] ??= { rru: 0, wru: 0, calls: 0 });
    entry.rru -= value.rru;
    entry.wru -= value.wru;
    entry.calls -= value.calls;
    if (entry.calls === 0 && entry.rru === 0 && entry.wru === 0) delete result.byOperation[key];
  }
  for (const [key, value] of Object.entries(before.byTarget)) {
    const entry = (result.byTarget[key] ??= { rru: 0, wru: 0 });
    entry.rru -= value.rru;
    entry.wru -= value.wru;
    if (entry.rru === 0 && entry.wru === 0) delete result.byTarget[key];
  }
  return result;
}
