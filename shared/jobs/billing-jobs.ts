import { addDays, toBillingDate, type IsoDate } from '../domain/calendar';
import type { Catalog } from '../domain/catalog';
import { planBillingRun, type BillingStep } from '../domain/engine';
import type { Invoice } from '../domain/invoice';
import type { Proration } from '../domain/proration';
import { normaliseInstant, type JobInvocation } from '../contracts/events';
import { isRetryable } from '../store/dynamo-errors';
import { foldMembersInto, loadCatalog, loadMembers } from './context';
import { withConflictRetry, type Dependencies } from './dependencies';
import { DEFAULT_RETRY_POLICY, retryWithBackoff } from './retry';
import { Money } from '../domain/money';
import { balanceOf, type DueEntry, type DuePageCursor, type PrefetchedReads } from '../store/dynamo-store';

/** The scheduled billing jobs. */
export type JobName = 'invoicing' | 'accrual';

/** What a job run did (or, dry, would do), per workspace. */
export interface JobReport {
  job: JobName;
  dryRun: boolean;
  /**
   * Each workspace billed, with its invoices and prorations: only in a detailed report (the
   * in-process runs and an on-demand run of one workspace). Empty otherwise, so that a report's
   * size does not grow with the number of workspaces; `summary` always has the counts.
   */
  workspaces: Array<{ workspace: string; asOf: IsoDate; invoices: Invoice[]; prorations: Proration[] }>;
  /**
   * Workspaces still failing after their retries (a permanent error is not retried), with the
   * error's name and message; at most `MAX_REPORTED_FAILURES` (`summary.failed` counts them all).
   * The others were billed regardless; the next run retries these.
   */
  failed: Array<{ workspace: string; error: string }>;
  /** Retries after a transient error or a conflict that outlasted its re-plans, each after a backoff wait. */
  retries: number;
  /** The run's bounded counts and amounts. */
  summary: RunSummary;
}

/**
 * What a run (or one worker batch of a fanned-out run) did, in counts and amounts only: its size
 * is independent of the number of workspaces, so it fits a log line and a Lambda response.
 */
export interface RunSummary {
  /** Workspaces settled (billed, or found with nothing left to bill). */
  workspaces: number;
  /** Workspaces that got at least one invoice. */
  invoiced: number;
  /** Workspaces settled with no invoice: already billed by another run or delivery, or nothing due. */
  alreadyBilled: number;
  /** Invoices issued (a catch-up may issue several for one workspace). */
  invoices: number;
  /** Prorations accrued. */
  prorations: number;
  /** Workspaces that still failed after their retries. */
  failed: number;
  /** Amount due of the invoices issued, per currency (exact decimal strings). */
  amounts: Record<string, string>;
}

/** How many failures a report or log line names; the counts include the rest. */
export const MAX_REPORTED_FAILURES = 100;

/** An empty summary, to add outcomes to. */
export function emptySummary(): RunSummary {
  return { workspaces: 0, invoiced: 0, alreadyBilled: 0, invoices: 0, prorations: 0, failed: 0, amounts: {} };
}

/** Adds one settled workspace's outcome to a summary. */
export function addOutcome(summary: RunSummary, outcome: { invoices: readonly Invoice[]; prorations: readonly Proration[] }): void {
  summary.workspaces += 1;
  if (outcome.invoices.length > 0) summary.invoiced += 1;
  else summary.alreadyBilled += 1;
  summary.invoices += outcome.invoices.length;
  summary.prorations += outcome.prorations.length;
  for (const invoice of outcome.invoices) {
    const before = summary.amounts[invoice.currency];
    summary.amounts[invoice.currency] = (
      before === undefined ? Money.of(invoice.amountDue, invoice.currency) : Money.of(before, invoice.currency).plus(Money.of(invoice.amountDue, invoice.currency))
    ).toString();
  }
}

/** Adds one summary into another (a run's batches into the run). */
export function mergeSummary(into: RunSummary, from: RunSummary): void {
  for (const key of ['workspaces', 'invoiced', 'alreadyBilled', 'invoices', 'prorations', 'failed'] as const) into[key] += from[key];
  for (const [currency, amount] of Object.entries(from.amounts)) {
    const before = into.amounts[currency];
    into.amounts[currency] = before === undefined ? amount : Money.of(before, currency).plus(Money.of(amount, currency)).toString();
  }
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
export function queryInstantFor(invocation: JobInvocation): string {
  if ('scheduledTime' in invocation) return normaliseInstant(invocation.scheduledTime);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(invocation.asOf)) return normaliseInstant(invocation.asOf);
  return `${addDays(invocation.asOf, 1)}T12:00:00Z`;
}

/** The due index a job reads: renewals and true-ups, or accrual markers. */
export function dueKindOf(job: JobName): 'DUE' | 'ACCRUE' {
  return job === 'invoicing' ? 'DUE' : 'ACCRUE';
}

/** Due-index entries read per query by a run (DynamoDB returns at most 1 MB anyway). */
export const DUE_PAGE_SIZE = 250;

/**
 * Every due entry of every shard, a page at a time: a caller holds one page, never the whole
 * due list. Each page read is retried like the run's other reads.
 */
export async function* duePages(deps: Dependencies, job: JobName, instant: string, retrying: Retrying, pageSize = DUE_PAGE_SIZE): AsyncGenerator<DueEntry[]> {
  for (let shard = 0; shard < deps.store.dueShards; shard += 1) {
    let cursor: DuePageCursor | undefined;
    do {
      const page = await retrying(() => deps.store.findDuePage(dueKindOf(job), shard, instant, cursor, pageSize));
      if (page.entries.length > 0) yield page.entries;
      cursor = page.cursor;
    } while (cursor);
  }
}

/** Runs work with the run's backoff policy, counting retries. */
export type Retrying = <T>(work: () => Promise<T>) => Promise<T>;

/** The run's retry wrapper: `deps.retry` over `DEFAULT_RETRY_POLICY`, calling `onRetry` before each wait. */
export function retryingFor(deps: Dependencies, onRetry: () => void): Retrying {
  const policy = { ...DEFAULT_RETRY_POLICY, ...deps.retry };
  return (work) => retryWithBackoff(work, policy, isRetryable, onRetry);
}

/** What billing one workspace did; `undefined` when the workspace does not exist. */
export type WorkspaceOutcome = JobReport['workspaces'][number];

/**
 * Bills one due workspace for a run: the per-workspace path shared by the in-process run and the
 * fan-out workers. A conflict reloads and re-plans (`withConflictRetry`); a transient error
 * retries the workspace after a backoff (`retrying`); what still fails is thrown. Accrual removes
 * the marker it was found by once its days are accrued (a period not renewed yet is finished by
 * a later run). `prefetched` (a worker batch's shared read of the subscription the due entry
 * names and of the balances) stands in for those reads on the first attempt only.
 */
export async function billDueWorkspace(
  deps: Dependencies,
  job: JobName,
  invocation: JobInvocation,
  catalog: Catalog,
  entry: DueEntry,
  retrying: Retrying,
  prefetched?: PrefetchedReads,
): Promise<WorkspaceOutcome | undefined> {
  const dryRun = 'dryRun' in invocation ? invocation.dryRun : false;
  const issuedAt = queryInstantFor(invocation);
  // Reads made before the first attempt serve that attempt only: a re-plan or a retry reads afresh.
  let unused = prefetched;
  const take = () => {
    const reads = unused;
    unused = undefined;
    return reads;
  };
  const outcome = await retrying(async () => {
    const done = await withConflictRetry(() => runForWorkspace(deps, job, invocation, catalog, entry.workspace, dryRun, issuedAt, take()));
    if (done && job === 'accrual' && !dryRun && entry.sortKey && done.caughtUp) await deps.store.clearAccrualMarker(entry.workspace, entry.sortKey);
    return done;
  });
  return outcome && { workspace: outcome.workspace, asOf: outcome.asOf, invoices: outcome.invoices, prorations: outcome.prorations };
}

/**
 * Runs a billing job in this process over every workspace due at its time (or one workspace on
 * demand): invoicing issues the renewals (R11) and true-ups (R12) due on or before each
 * workspace's billing date, accrual records yesterday's seat changes (R9). Each workspace is
 * planned by the pure core and written step by step under version conditions, so a second or
 * concurrent run finds the work done; a dry run writes nothing.
 *
 * The deployed schedules do not bill here: their runs are fanned out to workers over a queue
 * (`dispatchBillingRun`). This path serves an on-demand run (one workspace, with the detailed
 * report; or a dry run of all, with the summary only, `detail: false`) and the tests and tools that
 * drive a whole run in one process. The due index is read a page at a time; the report is bounded
 * unless `detail` (the default) asks for every workspace's invoices.
 *
 * One workspace's failure never stops or delays the others: a conflict reloads and re-plans
 * (`withConflictRetry`), a transient error (throttling, 5xx, network) retries the workspace
 * after an exponential backoff with full jitter (`deps.retry`), and what still fails is listed
 * in `failed` once every other workspace is done. Retrying is exact even when the failed attempt
 * landed (a lost response): the reload sees its writes and the re-plan finds nothing left, so such
 * an invoice is in the ledger but not in this report. The run's own reads (catalog, due index)
 * are retried the same way; if they still fail the run throws.
 */
export async function runBillingJob(deps: Dependencies, job: JobName, invocation: JobInvocation, options: { detail?: boolean } = {}): Promise<JobReport> {
  const detail = options.detail ?? true;
  const dryRun = 'dryRun' in invocation ? invocation.dryRun : false;
  const report: JobReport = { job, dryRun, workspaces: [], failed: [], retries: 0, summary: emptySummary() };
  const retrying = retryingFor(deps, () => void (report.retries += 1));
  const catalog = await retrying(() => loadCatalog(deps.store));
  const pages: AsyncIterable<DueEntry[]> | Iterable<DueEntry[]> =
    'workspace' in invocation && invocation.workspace ? [[{ workspace: invocation.workspace, sortKey: '' }]] : duePages(deps, job, queryInstantFor(invocation), retrying);
  for await (const page of pages) {
    await forEachConcurrently(page, WORKSPACE_CONCURRENCY, async (entry) => {
      try {
        const outcome = await billDueWorkspace(deps, job, invocation, catalog, entry, retrying);
        if (!outcome) return;
        addOutcome(report.summary, outcome);
        if (detail) report.workspaces.push(outcome);
      } catch (error) {
        report.summary.failed += 1;
        if (report.failed.length < MAX_REPORTED_FAILURES) report.failed.push({ workspace: entry.workspace, error: describeError(error) });
      }
    });
  }
  report.workspaces.sort((a, b) => byWorkspace(a.workspace, b.workspace));
  report.failed.sort((a, b) => byWorkspace(a.workspace, b.workspace));
  return report;
}

/** Workspaces billed at once by one run: they are independent, and DynamoDB latency dominates. */
export const WORKSPACE_CONCURRENCY = 8;

function byWorkspace(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** An error as `Name: message`, for reports and logs. */
export function describeError(error: unknown): string {
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
  prefetched?: PrefetchedReads,
): Promise<(JobReport['workspaces'][number] & { caughtUp: boolean }) | undefined> {
  // The subscription first: it says from which date the member history must be read, and that
  // one Query brings the profile too (`loadMembers`). A batch's read of the subscription its due
  // entry names stands in for the lookup only while that one is still the active one.
  const usable = prefetched?.subscription?.status === 'active' ? prefetched : undefined;
  const subscription = usable?.subscription ?? (await deps.store.getActiveSubscription(workspaceId));
  if (!subscription) {
    const workspace = await deps.store.getWorkspace(workspaceId);
    return workspace && { workspace: workspaceId, asOf: billingDateFor(invocation, workspace.timezone), invoices: [], prorations: [], caughtUp: true };
  }
  const [loaded, unbilled, storedBalance] = await Promise.all([
    loadMembers(deps.store, workspaceId, subscription),
    deps.store.listUnbilledProrations(subscription),
    usable ? usable.storedBalance : deps.store.getStoredBalance(workspaceId),
  ]);
  const workspace = loaded.read.workspace;
  if (!workspace) return undefined;
  const asOf = billingDateFor(invocation, workspace.timezone);
  const ctx = { workspace, catalog, members: loaded.members };
  const planned: BillingStep[] = planBillingRun(
    ctx,
    subscription,
    unbilled,
    balanceOf(storedBalance, workspace.currency),
    asOf,
    job === 'invoicing' ? { invoice: true } : { invoice: false, accrueThrough: addDays(asOf, -1) },
  );
  const steps = dryRun ? planned : await foldMembersInto(deps.store, workspaceId, loaded, planned);
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
