import { fnv1a } from '../domain/hash';

/**
 * The one key builder for the single table. Every item's `pk`/`sk` (and the due index's
 * `gsi1pk`/`gsi1sk`) is made here, so the layout is documented and changed in one place.
 *
 * | item                 | pk               | sk                               | gsi1pk             | gsi1sk              |
 * |----------------------|------------------|----------------------------------|--------------------|---------------------|
 * | catalog              | CATALOG          | CATALOG                          |                    |                     |
 * | workspace profile    | WS#<ws>          | PROFILE                          |                    |                     |
 * | member event         | WS#<ws>          | MEMBER#<date>#<eventId>          |                    |                     |
 * | member seq counter   | WS#<ws>          | MEMBERSEQ                        |                    |                     |
 * | member snapshot      | WS#<ws>          | MEMBERSNAP                       |                    |                     |
 * | subscription         | WS#<ws>          | SUB#<subscriptionId>             | DUE#<shard>        | <dueInstant>#<ws>   |
 * | accrual marker       | WS#<ws>          | ACCRUE                           | ACCRUE#<shard>     | <dueInstant>#<ws>   |
 * | proration            | WS#<ws>          | PRORATION#<sub>#<seq, 8 digits>  |                    |                     |
 * | invoice              | WS#<ws>          | INVOICE#<seq, 10 digits>         |                    |                     |
 * | invoice line page    | WS#<ws>          | LINES#<invoiceId>#<page, 4 dig.> |                    |                     |
 * | balance              | WS#<ws>          | BALANCE                          |                    |                     |
 * | rejection            | WS#<ws>          | REJECTION#<at>#<eventId>         |                    |                     |
 * | outbox entry         | OUTBOX#<shard>   | <createdAt>#<order>#<id>         |                    |                     |
 * | idempotency record   | IDEMPOTENCY#<key>| IDEMPOTENCY                      |                    |                     |
 */
export const keys = {
  catalog: () => ({ pk: 'CATALOG', sk: 'CATALOG' }),
  workspace: (ws: string) => ({ pk: wsPk(ws), sk: 'PROFILE' }),
  /** The workspace a `WS#<ws>` partition key belongs to; undefined for any other partition. */
  workspaceOf: (pk: string) => (pk.startsWith('WS#') ? pk.slice('WS#'.length) : undefined),
  /**
   * A member event, under its billing date so that "the events after a snapshot" is one key
   * range (`memberRange`). Stored before snapshots it was `MEMBER#<eventId>`: those are read by
   * a whole-history read only, and moved to this key when the first snapshot is folded.
   */
  memberEvent: (ws: string, date: string, eventId: string) => ({ pk: wsPk(ws), sk: `MEMBER#${date}#${eventId}` }),
  memberPrefix: () => 'MEMBER#',
  memberSeq: (ws: string) => ({ pk: wsPk(ws), sk: 'MEMBERSEQ' }),
  memberSnapshot: (ws: string) => ({ pk: wsPk(ws), sk: 'MEMBERSNAP' }),
  /**
   * The sort-key range of one Query that reads a workspace's member events dated from `fromDate`
   * (all of them without it), its snapshot, its arrival counter and its profile: nothing else
   * sorts between `MEMBER#` and `PROFILE` (`MEMBERSEQ` < `MEMBERSNAP` < `PROFILE`).
   */
  memberRange: (ws: string, fromDate?: string) => ({ pk: wsPk(ws), from: fromDate ? `MEMBER#${fromDate}` : 'MEMBER#', to: 'PROFILE' }),
  subscription: (ws: string, subscriptionId: string) => ({ pk: wsPk(ws), sk: `SUB#${subscriptionId}` }),
  subscriptionPrefix: () => 'SUB#',
  /** The subscription id of a `SUB#<id>` sort key; undefined for any other (or none). */
  subscriptionIdOf: (sk: string | undefined) => (sk?.startsWith('SUB#') ? sk.slice('SUB#'.length) : undefined),
  accrualMarker: (ws: string) => ({ pk: wsPk(ws), sk: 'ACCRUE' }),
  proration: (ws: string, subscriptionId: string, seq: number) => ({ pk: wsPk(ws), sk: `${prorationPrefix(subscriptionId)}${String(seq).padStart(8, '0')}` }),
  prorationPrefix,
  /**
   * An invoice, under its sequence number (`<prefix>-<seq>`), so that one number can hold one
   * invoice only: a write that would give a second invoice the number fails its condition even
   * without a transaction around it. Stored before that, an invoice was `INVOICE#<invoiceId>`
   * (ids start with `inv_`, so the two never meet); both are read by the `INVOICE#` prefix.
   */
  invoice: (ws: string, seq: number) => ({ pk: wsPk(ws), sk: `INVOICE#${String(seq).padStart(10, '0')}` }),
  invoicePrefix: () => 'INVOICE#',
  /** A page of an invoice's lines, for an invoice too big for one item (`BillingStore.invoicePuts`). */
  invoiceLines: (ws: string, invoiceId: string, page: number) => ({ pk: wsPk(ws), sk: `LINES#${invoiceId}#${String(page).padStart(4, '0')}` }),
  invoiceLinesPrefix: (invoiceId: string) => `LINES#${invoiceId}#`,
  balance: (ws: string) => ({ pk: wsPk(ws), sk: 'BALANCE' }),
  rejection: (ws: string, at: string, eventId: string) => ({ pk: wsPk(ws), sk: `REJECTION#${at}#${eventId}` }),
  rejectionPrefix: () => 'REJECTION#',
  outbox: (shard: number, createdAt: string, order: string, id: string) => ({
    pk: `OUTBOX#${shard}`,
    sk: `${createdAt}#${order}#${id}`,
  }),
  outboxPartition: (shard: number) => `OUTBOX#${shard}`,
  /** One partition per key: an ingested event's envelope id or a change's idempotency key. */
  idempotency: (key: string) => ({ pk: `IDEMPOTENCY#${key}`, sk: 'IDEMPOTENCY' }),
  /** The due index: write-sharded so a million subscriptions due on the 1st spread over partitions. */
  dueIndex: (kind: 'DUE' | 'ACCRUE', ws: string, dueInstant: string, shards: number) => ({
    gsi1pk: `${kind}#${shardOf(ws, shards)}`,
    gsi1sk: `${dueInstant}#${ws}`,
  }),
  duePartition: (kind: 'DUE' | 'ACCRUE', shard: number) => `${kind}#${shard}`,
};

function wsPk(ws: string): string {
  return `WS#${ws}`;
}

function prorationPrefix(subscriptionId: string): string {
  return `PRORATION#${subscriptionId}#`;
}

/** A stable shard for a workspace (FNV-1a), so its index entry always lands in the same partition. */
export function shardOf(id: string, shards: number): number {
  return fnv1a(id) % shards;
}
