import { assertJobWithinHorizon, parseJobInvocation } from '../contracts/events';
import { BillingError } from '../domain/errors';
import { runBillingJob, type JobName, type JobReport } from '../jobs/billing-jobs';
import type { Dependencies } from '../jobs/dependencies';
import { logger } from './observability';

/** Milliseconds since the epoch: `Date.now` when deployed, the test clock in the simulator. */
export type Clock = () => number;

/** How many failed workspaces an `IncompleteRunError`'s message names (the log has them all). */
const NAMED_FAILURES = 5;

/**
 * A scheduled run that billed every workspace it could but left some failed. Thrown only after
 * the run finished, so that Lambda retries the invocation (twice, asynchronously) and then sends
 * it to the job's DLQ: re-running an hour is idempotent, the workspaces already billed find
 * nothing left, and the next hourly run catches up whatever is still due in any case.
 */
export class IncompleteRunError extends BillingError {
  readonly report: JobReport;

  constructor(report: JobReport, at: string) {
    const named = report.failed.slice(0, NAMED_FAILURES).map((failure) => `${failure.workspace} (${failure.error})`).join('; ');
    const more = report.failed.length > NAMED_FAILURES ? `; and ${report.failed.length - NAMED_FAILURES} more` : '';
    super('incomplete-run', `${report.job} run at ${at}: ${report.failed.length} of ${report.failed.length + report.workspaces.length} workspaces failed: ${named}${more}`);
    this.report = report;
  }
}

/**
 * Builds a scheduled job's handler. EventBridge Scheduler invokes it with
 * `{ "scheduledTime": "<aws.scheduler.scheduled-time>" }`; on demand it takes
 * `{ "asOf", "workspace"?, "dryRun"? }`. The billing date comes from that input, never the
 * clock; the clock only refuses a real on-demand run more than a day ahead of it.
 *
 * Workspaces that still failed after their retries are logged as an error. A scheduled run then
 * throws `IncompleteRunError` (after every other workspace is done) so Lambda's retries and the
 * DLQ see it; an on-demand run returns its report, whose `failed` the caller reads.
 */
export function createJobHandler(job: JobName, deps: () => Dependencies, clock: Clock = Date.now) {
  return async (input: unknown): Promise<JobReport> => {
    const invocation = parseJobInvocation(input);
    assertJobWithinHorizon(invocation, clock());
    const report = await runBillingJob(deps(), job, invocation);
    logger.info(`${job} run`, {
      workspaces: report.workspaces.length,
      dryRun: report.dryRun,
      invoices: report.workspaces.reduce((n, w) => n + w.invoices.length, 0),
      failed: report.failed.length,
      retries: report.retries,
    });
    if (report.failed.length === 0) return report;
    logger.error(`${job} run left workspaces failed`, { failed: report.failed });
    if ('scheduledTime' in invocation) throw new IncompleteRunError(report, invocation.scheduledTime);
    return report;
  };
}
