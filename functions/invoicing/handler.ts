import { parseJobInvocation } from '../../shared/contracts/events';
import { runBillingJob, type JobReport } from '../../shared/jobs/billing-jobs';
import type { Dependencies } from '../../shared/jobs/dependencies';
import { awsDependencies } from '../../shared/runtime/aws-dependencies';
import { withMiddlewares } from '../../shared/runtime/middleware';
import { logger } from '../../shared/runtime/observability';

/**
 * Builds the invoicing job handler. EventBridge Scheduler invokes it with
 * `{ "scheduledTime": "<aws.scheduler.scheduled-time>" }`; on demand it takes
 * `{ "asOf", "workspace"?, "dryRun"? }`. The billing date comes from that input, never the clock.
 */
export function createInvoicingHandler(deps: () => Dependencies) {
  return async (input: unknown): Promise<JobReport> => {
    const report = await runBillingJob(deps(), 'invoicing', parseJobInvocation(input));
    logger.info('invoicing run', { workspaces: report.workspaces.length, dryRun: report.dryRun, invoices: report.workspaces.reduce((n, w) => n + w.invoices.length, 0) });
    return report;
  };
}

/** The deployed handler. */
export const handler = withMiddlewares(createInvoicingHandler(() => awsDependencies()));
