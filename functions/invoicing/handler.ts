import type { Dependencies } from '../../shared/jobs/dependencies';
import type { WorkQueue } from '../../shared/jobs/fan-out';
import { awsDependencies, awsMetrics, awsWorkQueue } from '../../shared/runtime/aws-dependencies';
import { createJobDispatcher, createJobHandler, type Clock } from '../../shared/runtime/job-handler';
import type { MetricsSink } from '../../shared/runtime/metrics';
import { withMiddlewares } from '../../shared/runtime/middleware';

/** Builds the invoicing job's in-process handler (see `createJobHandler`): the whole run in one process, for tests and local tools. */
export function createInvoicingHandler(deps: () => Dependencies, clock: Clock = Date.now) {
  return createJobHandler('invoicing', deps, clock);
}

/**
 * The invoicing dispatcher (see `createJobDispatcher`): a scheduled run hands each due workspace to the
 * workers over the work queue; an on-demand run of one workspace is billed here. The simulator
 * calls it with an in-process queue.
 */
export function createInvoicingDispatcher(deps: () => Dependencies, queue: () => WorkQueue, clock: Clock = Date.now, metrics?: MetricsSink) {
  return createJobDispatcher('invoicing', deps, queue, clock, metrics);
}

/** The deployed handler: the dispatcher. */
export const handler = withMiddlewares(
  createInvoicingDispatcher(
    () => awsDependencies(),
    () => awsWorkQueue(),
    Date.now,
    awsMetrics(),
  ),
);
