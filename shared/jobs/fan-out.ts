import type { Catalog } from '../domain/catalog';
import type { JobInvocation } from '../contracts/events';
import { invocationOf, type WorkMessage } from '../contracts/work-message';
import type { DueEntry, PrefetchedReads, RenewalBatchRead } from '../store/dynamo-store';
import { loadCatalog } from './context';
import { billDueWorkspace, describeError, DUE_PAGE_SIZE, dueKindOf, MAX_REPORTED_FAILURES, queryInstantFor, retryingFor, type JobName, type Retrying, type WorkspaceOutcome } from './billing-jobs';
import type { Dependencies } from './dependencies';

/** SQS takes at most 10 messages per `SendMessageBatch`. */
export const SEND_BATCH_SIZE = 10;

/**
 * Where the dispatcher hands due workspaces to the workers: an SQS queue when deployed
 * (`SqsWorkQueue`), an in-process queue with SQS's semantics locally (`simulator/in-process-queue.ts`).
 */
export interface WorkQueue {
  /**
   * Sends at most `SEND_BATCH_SIZE` messages in one request. Resolves with the positions of the
   * messages the queue refused (a partial failure); throws when the request itself failed.
   */
  sendBatch(messages: readonly WorkMessage[]): Promise<{ failed: number[] }>;
}

/** What a dispatcher run did: counts only, whatever the number of workspaces due. */
export interface DispatchReport {
  job: JobName;
  /** The run's instant (the schedule's scheduled time) or on-demand `asOf`. */
  at: string;
  /** Due-index entries found. */
  due: number;
  /** Messages the queue accepted (one per due entry). */
  dispatched: number;
  /** Entries the queue still refused after the retries; they stay due and the next run sends them again. */
  notDispatched: number;
  /** The first `MAX_REPORTED_FAILURES` of those workspaces. */
  notDispatchedWorkspaces: string[];
  /** The earliest due instant found (the oldest workspace due and not billed yet), if any was due. */
  oldestDueAt?: string;
  /** Retries after a transient error (a due-index read or a send), each after a backoff wait. */
  retries: number;
}

/** Options of a dispatcher run. */
export interface DispatchOptions {
  /** Due-index entries per query. */
  pageSize?: number;
}

/**
 * The dispatcher of a fanned-out run: pages every shard of the due index in parallel (each shard
 * a page at a time, so it holds at most a page per shard however many are due) and sends one
 * message per due workspace, ten per `SendMessageBatch`. It bills nothing itself: the workers do,
 * one workspace per message (`billWorkMessage`).
 *
 * No message deduplication: a workspace sent twice (a retried send, a dispatcher run twice or
 * concurrently, a due-index read that still sees a workspace just billed) is billed once, because
 * every write is conditional on the subscription's version and the second delivery finds nothing
 * left. Messages the queue refuses are resent after a backoff; what it still refuses is counted in
 * `notDispatched` and stays in the due index for the next run.
 */
export async function dispatchBillingRun(deps: Dependencies, queue: WorkQueue, job: JobName, invocation: JobInvocation, options: DispatchOptions = {}): Promise<DispatchReport> {
  const instant = queryInstantFor(invocation);
  const at = 'scheduledTime' in invocation ? instant : invocation.asOf;
  const report: DispatchReport = { job, at, due: 0, dispatched: 0, notDispatched: 0, notDispatchedWorkspaces: [], retries: 0 };
  const retrying = retryingFor(deps, () => void (report.retries += 1));
  const messageOf = (entry: DueEntry): WorkMessage => ({
    job,
    workspace: entry.workspace,
    sortKey: entry.sortKey,
    ...(job === 'invoicing' && entry.subscriptionId !== undefined ? { subscriptionId: entry.subscriptionId } : {}),
    ...('scheduledTime' in invocation ? { scheduledTime: instant } : { asOf: invocation.asOf }),
  });
  const shards = Array.from({ length: deps.store.dueShards }, (_, shard) => shard);
  await Promise.all(
    shards.map(async (shard) => {
      let cursor: Awaited<ReturnType<typeof deps.store.findDuePage>>['cursor'];
      do {
        const page = await retrying(() => deps.store.findDuePage(dueKindOf(job), shard, instant, cursor, options.pageSize ?? DUE_PAGE_SIZE));
        cursor = page.cursor;
        // Each shard's entries come oldest first, so its first entry is its oldest.
        const first = page.entries[0];
        if (first) {
          const dueAt = first.sortKey.split('#')[0];
          if (report.oldestDueAt === undefined || dueAt < report.oldestDueAt) report.oldestDueAt = dueAt;
        }
        report.due += page.entries.length;
        for (let start = 0; start < page.entries.length; start += SEND_BATCH_SIZE) {
          const batch = page.entries.slice(start, start + SEND_BATCH_SIZE).map(messageOf);
          const refused = await sendWithRetries(queue, batch, retrying);
          report.dispatched += batch.length - refused.length;
          report.notDispatched += refused.length;
          for (const message of refused) if (report.notDispatchedWorkspaces.length < MAX_REPORTED_FAILURES) report.notDispatchedWorkspaces.push(message.workspace);
        }
      } while (cursor);
    }),
  );
  return report;
}

/** Thrown inside the retry loop while some messages of a batch are still refused. */
class PartialSendError extends Error {
  override readonly name = 'ThrottlingException';
}

/**
 * Sends one batch, resending only the refused messages after a backoff (a request that failed as a
 * whole is retried whole when its error is transient). Returns the messages still refused.
 */
async function sendWithRetries(queue: WorkQueue, batch: readonly WorkMessage[], retrying: Retrying): Promise<WorkMessage[]> {
  let pending = [...batch];
  try {
    await retrying(async () => {
      const { failed } = await queue.sendBatch(pending);
      pending = failed.map((index) => pending[index]);
      // Named as throttling so the run's classifier retries it (SQS refuses entries mostly under load).
      if (pending.length > 0) throw new PartialSendError(`${pending.length} of the batch refused`);
    });
    return [];
  } catch {
    return pending;
  }
}

/**
 * Bills the one workspace a work message names, for the run it came from: the same per-workspace
 * path as the in-process run (`billDueWorkspace`: reload and re-plan on a conflict, backoff on a
 * transient error). What still fails is thrown, for the worker to report as a batch item failure:
 * SQS then redelivers that message alone and, after the queue's `maxReceiveCount`, parks it in the
 * dead-letter queue.
 */
export async function billWorkMessage(deps: Dependencies, message: WorkMessage, catalog: Catalog, retrying: Retrying, prefetched?: PrefetchedReads): Promise<WorkspaceOutcome | undefined> {
  return billDueWorkspace(deps, message.job, invocationOf(message), catalog, { workspace: message.workspace, sortKey: message.sortKey }, retrying, prefetched);
}

/** What a worker batch read once for all its messages (`readWorkBatch`). */
export interface WorkBatchReads {
  /** The catalog, read once per batch. */
  catalog: () => Promise<Catalog>;
  /** Per workspace, the renewal reads made for it with the batch's (absent: it reads its own). */
  prefetched: ReadonlyMap<string, PrefetchedReads>;
  /** Why the batch read failed, if it did (each workspace then read its own). */
  error?: string;
}

/**
 * A worker batch's shared reads: the catalog and every renewal's subscription and balances in one
 * `BatchGetItem` (`readRenewalBatch`), so that a quiet renewal sends one request of its own for
 * reading (its member tail and profile) besides its two writes. The batch read is an optimisation
 * only: if it fails, each workspace reads its own, and the catalog is read alone (retried like any
 * read; a missing catalog fails each message as the one-workspace path does).
 */
export async function readWorkBatch(deps: Dependencies, messages: readonly WorkMessage[], retrying: Retrying): Promise<WorkBatchReads> {
  const renewals = messages.flatMap((message) =>
    message.job === 'invoicing' && message.subscriptionId !== undefined ? [{ workspace: message.workspace, subscriptionId: message.subscriptionId }] : [],
  );
  let read: RenewalBatchRead | undefined;
  let error: string | undefined;
  if (renewals.length > 0) {
    try {
      read = await deps.store.readRenewalBatch(renewals);
    } catch (failure) {
      error = describeError(failure);
    }
  }
  let catalog: Promise<Catalog> | undefined = read?.catalog ? Promise.resolve(read.catalog) : undefined;
  return {
    catalog: () => (catalog ??= retrying(() => loadCatalog(deps.store))),
    prefetched: read?.workspaces ?? new Map(),
    ...(error !== undefined ? { error } : {}),
  };
}
