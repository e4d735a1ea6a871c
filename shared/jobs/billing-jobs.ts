import { addDays, toBillingDate, type IsoDate } from '../domain/calendar';
import type { Catalog } from '../domain/catalog';
import { planBillingRun, type BillingStep } from '../domain/engine';
import type { Invoice } from '../domain/invoice';
import type { Proration } from '../domain/proration';
import { normaliseInstant, type JobInvocation } from '../contracts/events';
import { isRetryable } from '../store/dynamo-errors';
import { loadCatalog, loadContext } from './context';
import { withConflictRetry, type Dependencies } from './dependencies';
import { DEFAULT_RETRY_POLICY, retryWithBackoff } from './retry';

/** The scheduled billing jobs. */
export type JobName = 'invoicing' | 'accrual';

/** What a job run did (or, dry, would do), per workspace. */
export interface JobReport {
  job: JobName;
  dryRun: boolean;
  workspaces: Array<{ workspace: string; asOf: IsoDate; invoices: Invoice[]; prorations: Proration[] }>;
  /**
   * Workspaces still failing after their retries (a permanent error is not retried), with the
   * error's name and message. The others were billed regardless; the next run retries these.
   */
  failed: Array<{ workspace: string; error: string }>;
  /** Retries after a transient error or a conflict that outlasted its re-plans, each after a backoff wait. */
  retries: number;
}

/**
 * The billing date a run stands for in a zone: a schedule's scheduled time (never the wall
 * clock) as a date there, or an on-demand `asOf` date as given.
 */
function billingDateFor(invocation: JobInvocation, timezone: string): IsoDate {
  if ('scheduledTime' in invocation) return toBillingDate(invocation.scheduledTime, timezone);
  return /^\d{4}-\d{2}-\d{2}$/.test(invocation.asOf) ? invocation.asOf : toBillingDate(invocation.asOf, timezone);
}

/**
 * The latest instant whose date could be `asOf` somewhere (UTC−12 … UTC+14), for the due query.
 * Always UTC `Z`: the due index compares instants as strings, so a `-05:00` time would sort
 * before the `Z` keys it has passed (the parser normalises already; callers that build an
 * invocation by hand are normalised here too).
 */
function queryInstantFor(invocation: JobInvocation): string {
  if ('scheduledTime' in invocation) return normaliseInstant(invocation.scheduledTime);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(invocation.asOf)) return normaliseInstant(invocation.asOf);
  return `${addDays(invocation.asOf, 1)}T12:00:00Z`;
}

/**
 * Runs a billing job over every workspace due at its time (or one workspace on demand):
 * invoicing issues the renewals (R11) and true-ups (R12) due on or before each workspace's
 * billing date, accrual records yesterday's seat changes (R9). Each workspace is planned by
 * the pure core and written step by step under version conditions, so a second or
 * concurrent run finds the work done; a dry run writes nothing.
 *
 * One workspace's failure never stops or delays the others: a conflict reloads and re-plans
 * (`withConflictRetry`), a transient error (throttling, 5xx, network) retries the workspace
 * after an exponential backoff with full jitter (`deps.retry`), and what still fails is listed
 * in `failed` once every other workspace is done. Retrying is exact even when the failed attempt
 * landed (a lost response): the reload sees its writes and the re-plan finds nothing left, so such
 * an invoice is in the ledger but not in this report. The run's own reads (catalog, due index)
 * are retried the same way; if they still fail the run throws, as nothing was billed.
 */
export async function runBillingJob(deps: Dependencies, job: JobName, invocation: JobInvocation): Promise<JobReport> {
  const dryRun = 'dryRun' in invocation ? invocation.dryRun : false;
  const issuedAt = queryInstantFor(invocation);
  const report: JobReport = { job, dryRun, workspaces: [], failed: [], retries: 0 };
  const policy = { ...DEFAULT_RETRY_POLICY, ...deps.retry };
  const retrying = <T>(work: () => Promise<T>) => retryWithBackoff(work, policy, isRetryable, () => void (report.retries += 1));
  const catalog = await retrying(() => loadCatalog(deps.store));
  const due = 'workspace' in invocation && invocation.workspace
    ? [{ workspace: invocation.workspace, sortKey: '' }]
    : await retrying(() => deps.store.findDue(job === 'invoicing' ? 'DUE' : 'ACCRUE', queryInstantFor(invocation)));
  await forEachConcurrently(due, WORKSPACE_CONCURRENCY, async (entry) => {
    try {
      const outcome = await retrying(async () => {
        const done = await withConflictRetry(() => runForWorkspace(deps, job, invocation, catalog, entry.workspace, dryRun, issuedAt));
        // A marker stays until its days are accrued: a period not renewed yet is finished next hour.
        if (done && job === 'accrual' && !dryRun && entry.sortKey && done.caughtUp) await deps.store.clearAccrualMarker(entry.workspace, entry.sortKey);
        return done;
      });
      if (outcome) report.workspaces.push({ workspace: outcome.workspace, asOf: outcome.asOf, invoices: outcome.invoices, prorations: outcome.prorations });
    } catch (error) {
      report.failed.push({ workspace: entry.workspace, error: describeError(error) });
    }
  });
  report.workspaces.sort((a, b) => byWorkspace(a.workspace, b.workspace));
  report.failed.sort((a, b) => byWorkspace(a.workspace, b.workspace));
  return report;
}

/** Workspaces billed at once by one run: they are independent, and DynamoDB latency dominates. */
export const WORKSPACE_CONCURRENCY = 8;

function byWorkspace(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Runs `work` over `items`, `limit` at a time. `work` must settle every item itself (the run
 * catches per workspace): a throw here would stop this worker's share of the items.
 */
async function forEachConcurrently<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

async function runForWorkspace(
  deps: Dependencies,
  job: JobName,
  invocation: JobInvocation,
  catalog: Catalog,
  workspaceId: string,
  dryRun: boolean,
  issuedAt: string,
): Promise<(JobReport['workspaces'][number] & { caughtUp: boolean }) | undefined> {
  const workspace = await deps.store.getWorkspace(workspaceId);
  if (!workspace) return undefined;
  const subscription = await deps.store.getActiveSubscription(workspaceId);
  const asOf = billingDateFor(invocation, workspace.timezone);
  if (!subscription) return { workspace: workspaceId, asOf, invoices: [], prorations: [], caughtUp: true };
  const [ctx, unbilled, balance] = await Promise.all([
    loadContext(deps.store, workspace, catalog),
    deps.store.listUnbilledProrations(subscription),
    deps.store.getBalance(workspaceId, workspace.currency),
  ]);
  const steps: BillingStep[] = planBillingRun(ctx, subscription, unbilled, balance, asOf, job === 'invoicing' ? { invoice: true } : { invoice: false, accrueThrough: addDays(asOf, -1) });
  if (!dryRun) await deps.store.applySteps(workspace, steps, issuedAt);
  const after = steps.reduce((latest, step) => step.subscription ?? latest, subscription);
  return {
    caughtUp: after.status === 'ended' || after.accruedThrough >= addDays(asOf, -1),
    workspace: workspaceId,
    asOf,
    invoices: steps.flatMap((step) => (step.kind === 'invoice' ? [step.invoice] : [])),
    prorations: steps.flatMap((step) => (step.kind === 'accrual' ? step.prorations : [])),
  };
}
