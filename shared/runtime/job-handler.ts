import { parseJobInvocation } from '../contracts/events';
import { runBillingJob, type JobName, type JobReport } from '../jobs/billing-jobs';
import type { Dependencies } from '../jobs/dependencies';
import { logger } from './observability';

/**
 * Builds a scheduled job's handler. EventBridge Scheduler invokes it with
 * `{ "scheduledTime": "<aws.scheduler.scheduled-time>" }`; on demand it takes
 * `{ "asOf", "workspace"?, "dryRun"? }`. The billing date comes from that input, never the clock.
 */
export function createJobHandler(job: JobName, deps: () => Dependencies) {
  return async (input: unknown): Promise<JobReport> => {
    const report = await runBillingJob(deps(), job, parseJobInvocation(input));
    logger.info(`${job} run`, { workspaces: report.workspaces.length, dryRun: report.dryRun, invoices: report.workspaces.reduce((n, w) => n + w.invoices.length, 0) });
    return report;
  };
}
