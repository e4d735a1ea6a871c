import { assertJobWithinHorizon, parseJobInvocation } from '../contracts/events';
import { BillingError } from '../domain/errors';
import { runBillingJob, type JobName, type JobReport } from '../jobs/billing-jobs';
import type { Dependencies } from '../jobs/dependencies';
import { dispatchBillingRun, type DispatchReport, type WorkQueue } from '../jobs/fan-out';
import { billingMetrics, dispatchMetrics, noMetrics, type MetricsSink } from './metrics';
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
    const named = report.failed
      .slice(0, NAMED_FAILURES)
      .map((failure) => `${failure.workspace} (${failure.error})`)
      .join('; ');
    const more = report.summary.failed > NAMED_FAILURES ? `; and ${report.summary.failed - NAMED_FAILURES} more` : '';
    super('incomplete-run', `${report.job} run at ${at}: ${report.summary.failed} of ${report.summary.failed + report.summary.workspaces} workspaces failed: ${named}${more}`);
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
    logger.info(`${job} run`, { dryRun: report.dryRun, ...report.summary, retries: report.retries });
    if (report.failed.length === 0) return report;
    logger.error(`${job} run left workspaces failed`, { failed: report.failed });
    if ('scheduledTime' in invocation) throw new IncompleteRunError(report, invocation.scheduledTime);
    return report;
  };
}

/**
 * A dispatcher run that could not hand every due workspace to the queue. Thrown after the run
 * sent all it could, so Lambda retries the invocation; the workspaces already sent are billed
 * once whatever happens (workers are idempotent), and the next hourly run sends what is still due.
 */
export class IncompleteDispatchError extends BillingError {
  readonly report: DispatchReport;

  constructor(report: DispatchReport) {
    super(
      'incomplete-dispatch',
      `${report.job} dispatch at ${report.at}: ${report.notDispatched} of ${report.due} due workspaces not sent: ${report.notDispatchedWorkspaces.slice(0, NAMED_FAILURES).join(', ')}`,
    );
    this.report = report;
  }
}

/** What the deployed job handler returns: a dispatch report, or for an on-demand run in this process the job report. */
export type JobRunResult = JobReport | DispatchReport;

/**
 * Builds a scheduled job's deployed handler, the *dispatcher* of a fanned-out run. Its input is
 * the same as `createJobHandler`'s:
 *
 * - `{scheduledTime}` (the schedule) and `{asOf}` without a workspace and not dry: pages the due
 *   index and sends one message per due workspace to the work queue (`dispatchBillingRun`); the
 *   workers bill them. Returns the dispatch counts (due, dispatched, not dispatched), logs them and
 *   emits them as metrics with the age of the oldest workspace still due. Throws
 *   `IncompleteDispatchError` when some could not be sent, after sending the others.
 * - `{asOf, workspace, dryRun?}`: bills (or previews) that one workspace here and returns the
 *   full result with its invoices, as before.
 * - `{asOf, dryRun: true}` without a workspace: previews every due workspace here and returns the
 *   summary only (counts and amounts per currency, not the invoices), since it writes nothing
 *   for workers to do and its report must stay bounded.
 */
export function createJobDispatcher(job: JobName, deps: () => Dependencies, queue: () => WorkQueue, clock: Clock = Date.now, metrics: MetricsSink = noMetrics) {
  return async (input: unknown): Promise<JobRunResult> => {
    const invocation = parseJobInvocation(input);
    const started = clock();
    assertJobWithinHorizon(invocation, started);
    if ('asOf' in invocation && (invocation.workspace || invocation.dryRun)) {
      const report = await runBillingJob(deps(), job, invocation, { detail: Boolean(invocation.workspace) });
      logger.info(`${job} run`, { dryRun: report.dryRun, workspace: invocation.workspace, ...report.summary, retries: report.retries });
      if (!report.dryRun) metrics(billingMetrics(job, report.summary, clock() - started));
      if (report.failed.length > 0) logger.error(`${job} run left workspaces failed`, { failed: report.failed });
      return report;
    }
    const report = await dispatchBillingRun(deps(), queue(), job, invocation);
    const finished = clock();
    logger.info(`${job} dispatch`, { ...report, notDispatchedWorkspaces: undefined });
    metrics(dispatchMetrics(report, finished - started, finished));
    if (report.notDispatched === 0) return report;
    logger.error(`${job} dispatch left workspaces unsent`, { notDispatched: report.notDispatched, workspaces: report.notDispatchedWorkspaces });
    throw new IncompleteDispatchError(report);
  };
}
