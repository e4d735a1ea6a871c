import { DescribeTableCommand, DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { lambdaRecordOf } from '../shared/runtime/stream-records';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';

/** A stream consumer as Lambda invokes it: a batch in, the records to retry out. */
export type StreamHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | unknown>;

/** What one `deliver` did. */
export interface StreamDelivery {
  /** Records handed to the handler and not reported failed. */
  delivered: number;
  /** Records the handler reported failed (or all of a batch it threw on): delivered again next time. */
  failed: number;
}

/**
 * The table's DynamoDB stream read from DynamoDB Local, delivered to a handler the way Lambda's
 * event source mapping does on AWS: in order, in batches (`batchSize`, the stack's), each record
 * until the handler stops reporting it failed (`ReportBatchItemFailures`); a handler that throws
 * fails its whole batch. What the stream carries is what landed in the table, so a write whose
 * response was lost is delivered too, as on AWS. The checkpoint per shard lives in this object:
 * one reader per consumer, as one mapping per function.
 */
export class LocalTableStream {
  private readonly db: DynamoDBClient;
  private readonly streams: DynamoDBStreamsClient;
  /** Per shard, the sequence number of the last record the handler took. */
  private readonly checkpoints = new Map<string, string>();
  /** Per shard, the iterator after the last record read, while everything read was taken (saves two calls a read). */
  private readonly iterators = new Map<string, string>();
  /** The shards, listed again only once one of them has closed (its children appear then). */
  private shardList?: string[];
  private streamArn?: string;

  constructor(
    config: DynamoDBClientConfig,
    private readonly tableName: string,
    private readonly options: { batchSize?: number; accept?: (record: DynamoDBRecord) => boolean } = {},
  ) {
    this.db = new DynamoDBClient(config);
    this.streams = new DynamoDBStreamsClient(config);
  }

  /**
   * Hands every record after the checkpoints to `handler`, batch by batch, and advances past
   * what it took. Stops at a shard's first failed record (as the mapping retries from there), so
   * `failed` records come again on the next call.
   */
  async deliver(handler: StreamHandler): Promise<StreamDelivery> {
    const result: StreamDelivery = { delivered: 0, failed: 0 };
    this.shardList ??= await this.shards();
    for (const shard of this.shardList) {
      const accept = this.options.accept ?? (() => true);
      const batchSize = this.options.batchSize ?? 25;
      const all = await this.readShard(shard);
      // Records the mapping's filter drops never reach the handler, and are not retried.
      const records = all.filter(accept);
      const lastRead = all.at(-1)?.dynamodb?.SequenceNumber;
      if (records.length === 0 && lastRead) this.checkpoints.set(shard, lastRead);
      for (let start = 0; start < records.length; start += batchSize) {
        const batch = records.slice(start, start + batchSize);
        const failedFrom = await this.invoke(handler, batch);
        const taken = failedFrom === undefined ? batch : batch.slice(0, failedFrom);
        result.delivered += taken.length;
        const last = taken.at(-1)?.dynamodb?.SequenceNumber;
        if (last) this.checkpoints.set(shard, last);
        if (failedFrom !== undefined) {
          result.failed += batch.length - failedFrom;
          this.iterators.delete(shard);
          break;
        }
        // Filtered records after the batch's last one are taken with it.
        if (start + batchSize >= records.length && lastRead) this.checkpoints.set(shard, lastRead);
      }
    }
    return result;
  }

  /** The stream's ARN and its shards (what an on-failure message names). */
  async describe(): Promise<{ streamArn: string; shards: string[] }> {
    const shards = await this.shards();
    return { streamArn: this.streamArn ?? '', shards };
  }

  /** Closes the clients. */
  destroy(): void {
    this.db.destroy();
    this.streams.destroy();
  }

  private async shards(): Promise<string[]> {
    this.streamArn ??= (await this.db.send(new DescribeTableCommand({ TableName: this.tableName }))).Table?.LatestStreamArn;
    if (!this.streamArn) throw new Error(`table ${this.tableName} has no stream: create it with createTable (shared/store/table.ts)`);
    const shards: string[] = [];
    let start: string | undefined;
    do {
      const out = await this.streams.send(new DescribeStreamCommand({ StreamArn: this.streamArn, ExclusiveStartShardId: start }));
      shards.push(...(out.StreamDescription?.Shards ?? []).flatMap((shard) => (shard.ShardId ? [shard.ShardId] : [])));
      start = out.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    return shards;
  }

  private async readShard(shard: string): Promise<DynamoDBRecord[]> {
    const cached = this.iterators.get(shard);
    try {
      return await this.readShardFrom(shard, cached);
    } catch (error) {
      // A kept iterator expires after 15 minutes: start again from the checkpoint.
      if (!cached || (error as Error).name !== 'ExpiredIteratorException') throw error;
      this.iterators.delete(shard);
      return this.readShardFrom(shard, undefined);
    }
  }

  private async readShardFrom(shard: string, cached: string | undefined): Promise<DynamoDBRecord[]> {
    const after = this.checkpoints.get(shard);
    let iterator =
      cached ??
      (
        await this.streams.send(
          new GetShardIteratorCommand({
            StreamArn: this.streamArn,
            ShardId: shard,
            ShardIteratorType: after ? 'AFTER_SEQUENCE_NUMBER' : 'TRIM_HORIZON',
            ...(after ? { SequenceNumber: after } : {}),
          }),
        )
      ).ShardIterator;
    this.iterators.delete(shard);
    const records: DynamoDBRecord[] = [];
    // An open shard always returns a next iterator: read until a page comes back empty.
    while (iterator) {
      const out = await this.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      const page = out.Records ?? [];
      records.push(...page.map(lambdaRecordOf));
      iterator = out.NextShardIterator;
      if (!iterator) this.shardList = undefined;
      else if (page.length === 0) this.iterators.set(shard, iterator);
      if (page.length === 0) break;
    }
    return records;
  }

  /** Invokes the handler on one batch; returns the index of its first failed record, if any. */
  private async invoke(handler: StreamHandler, batch: DynamoDBRecord[]): Promise<number | undefined> {
    let response: unknown;
    try {
      response = await handler({ Records: batch });
    } catch {
      return 0;
    }
    const failures = (response as Partial<DynamoDBBatchResponse> | undefined)?.batchItemFailures ?? [];
    if (failures.length === 0) return undefined;
    const failed = new Set(failures.map((failure) => failure.itemIdentifier));
    const index = batch.findIndex((record) => failed.has(record.dynamodb?.SequenceNumber ?? ''));
    return Math.max(index, 0);
  }
}

/**
 * The publisher mapping's filter (`infra/prorata-stack.ts`): inserts of invoice items
 * (`sk` under `INVOICE#`) and of outbox entries (`pk` under `OUTBOX#`).
 */
export function isPublisherRecord(record: DynamoDBRecord): boolean {
  if (record.eventName !== 'INSERT') return false;
  const keys = record.dynamodb?.Keys;
  return String(keys?.sk?.S ?? '').startsWith('INVOICE#') || String(keys?.pk?.S ?? '').startsWith('OUTBOX#');
}
