import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseWorkMessage, type WorkMessage } from '../contracts/work-message';
import { addOutcome, describeError, emptySummary, MAX_REPORTED_FAILURES, retryingFor, type JobName, type RunSummary } from '../jobs/billing-jobs';
import type { Dependencies } from '../jobs/dependencies';
import { billWorkMessage, readWorkBatch } from '../jobs/fan-out';
import type { Clock } from './job-handler';
import { billingMetrics, noMetrics, type MetricsSink } from './metrics';
import { logger } from './observability';

/** Options of the worker handler. */
export interface WorkerOptions {
  clock?: Clock;
  metrics?: MetricsSink;
  /**
   * The queue's `maxReceiveCount`: a failure on that receive is the last one, after which SQS
   * moves the message to the dead-letter queue; the log line says so.
   */
  maxReceiveCount?: number;
}

/** What one worker invocation did, per job, bounded (counts, amounts, capped failures). */
export interface WorkerBatchReport {
  summaries: Partial<Record<JobName, RunSummary>>;
  failures: Array<{ messageId: string; workspace?: string; error: string }>;
}

/**
 * Builds the worker: the SQS event source mapping hands it a batch of work messages, one
 * workspace each, and it bills them in parallel through the same per-workspace path as an
 * in-process run (`billWorkMessage`). A message whose workspace still fails after its retries (or
 * that is malformed) is reported as a batch item failure (Powertools batch,
 * `ReportBatchItemFailures`): SQS redelivers that message alone after its visibility timeout, and
 * after `maxReceiveCount` receives moves it to the dead-letter queue. Its id, workspace, receive
 * count and error are logged on every failure. The others of the batch are deleted.
 *
 * Logs one bounded line per batch (counts per job, capped failures) and emits the batch's
 * metrics. `onBatch` (tests) receives the same report.
 */
export function createWorkerHandler(deps: () => Dependencies, options: WorkerOptions = {}, onBatch?: (report: WorkerBatchReport) => void) {
  const clock = options.clock ?? Date.now;
  const metrics = options.metrics ?? noMetrics;
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const started = clock();
    const dependencies = deps();
    const report: WorkerBatchReport = { summaries: {}, failures: [] };
    const lag: Partial<Record<JobName, number>> = {};
    const retrying = retryingFor(dependencies, () => undefined);
    // The batch's shared reads (catalog, renewals' subscriptions and balances) in one request; a
    // malformed message is left to its record's handler, which reports it.
    const parsed = new Map<string, WorkMessage>();
    for (const record of event.Records) {
      try {
        parsed.set(record.messageId, parseWorkMessage(record.body));
      } catch {
        // Reported by recordHandler below.
      }
    }
    const shared = await readWorkBatch(dependencies, [...parsed.values()], retrying);
    if (shared.error) logger.warn('batch read failed; each workspace reads its own', { messages: event.Records.length, errorMessage: shared.error });
    const recordHandler = async (record: SQSRecord): Promise<void> => {
      let workspace: string | undefined;
      let job: JobName | undefined;
      try {
        const message = parsed.get(record.messageId) ?? parseWorkMessage(record.body);
        workspace = message.workspace;
        job = message.job;
        const outcome = await billWorkMessage(dependencies, message, await shared.catalog(), retrying, shared.prefetched.get(message.workspace));
        const summary = (report.summaries[message.job] ??= emptySummary());
        if (outcome) addOutcome(summary, outcome);
        const dueAt = Date.parse(message.sortKey.split('#')[0]);
        if (outcome && outcome.invoices.length > 0 && Number.isFinite(dueAt)) lag[message.job] = Math.max(lag[message.job] ?? 0, Math.round((clock() - dueAt) / 1000));
      } catch (error) {
        const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? '1');
        if (job) (report.summaries[job] ??= emptySummary()).failed += 1;
        if (report.failures.length < MAX_REPORTED_FAILURES) report.failures.push({ messageId: record.messageId, workspace, error: describeError(error) });
        logger.error('workspace failed', {
          job,
          workspace,
          messageId: record.messageId,
          receiveCount,
          lastAttempt: options.maxReceiveCount !== undefined && receiveCount >= options.maxReceiveCount,
          errorMessage: describeError(error),
        });
        throw error;
      }
    };
    // Not thrown on a whole batch failing: every failure is reported item by item, the same way.
    const response = await processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS), { context, throwOnFullBatchFailure: false });
    const durationMs = clock() - started;
    logger.info('worker batch', { messages: event.Records.length, summaries: report.summaries, failed: response.batchItemFailures.length, failures: report.failures.slice(0, 10), durationMs });
    for (const [job, summary] of Object.entries(report.summaries)) metrics(billingMetrics(job, summary, durationMs, lag[job as JobName]));
    onBatch?.(report);
    return response;
  };
}
