import { assertJobWithinHorizon, parseJobInvocation } from '../contracts/events';
import { runBillingJob, type JobName, type JobReport } from '../jobs/billing-jobs';
import type { Dependencies } from '../jobs/dependencies';
import { logger } from './observability';

/** Milliseconds since the epoch: `Date.now` when deployed, the test clock in the simulator. */
export type Clock = () => number;

/**
 * Builds a scheduled job's handler. EventBridge Scheduler invokes it with
 * `{ "scheduledTime": "<aws.scheduler.scheduled-time>" }`; on demand it takes
 * `{ "asOf", "workspace"?, "dryRun"? }`. The billing date comes from that input, never the
 * clock; the clock only refuses a real on-demand run more than a day ahead of it.
 */
export function createJobHandler(job: JobName, deps: () => Dependencies, clock: Clock = Date.now) {
  return async (input: unknown): Promise<JobReport> => {
    const invocation = parseJobInvocation(input);
    assertJobWithinHorizon(invocation, clock());
    const report = await runBillingJob(deps(), job, invocation);
    logger.info(`${job} run`, { workspaces: report.workspaces.length, dryRun: report.dryRun, invoices: report.workspaces.reduce((n, w) => n + w.invoices.length, 0) });
    return report;
  };
}
