import { addDays, type BillingPeriod, type IsoDate } from './calendar';
import { ConflictError } from './errors';

/** A change of paid quantity already charged or credited inside a period (R9). */
export interface QuantityChange {
  date: IsoDate;
  delta: number;
}

/**
 * A period that has been invoiced (first or renewal), with what was charged for it: the
 * quantity at its start and every accrued change since. Kept on the subscription so accrual
 * can recompute "what has been charged for day x" without reading the ledger.
 */
export interface PeriodRecord extends BillingPeriod {
  planId: string;
  unitPrice: string;
  baseQuantity: number;
  changes: QuantityChange[];
  invoiceId: string;
  /** The last date this record covers when a plan or interval change split the period (R16). */
  until?: IsoDate;
}

/** The last date a period record covers. */
export function lastDayOf(period: PeriodRecord): IsoDate {
  return period.until ?? period.end;
}

/** A purchase of fixed seats (R8), effective from its billing date. */
export interface SeatPurchase {
  date: IsoDate;
  seats: number;
}

/** A subscription and its billing progress. Everything the pure core needs to continue it. */
export interface SubscriptionState {
  id: string;
  workspace: string;
  planId: string;
  billingDay: number;
  startDate: IsoDate;
  startedAt: string;
  status: 'active' | 'ended';
  /** Set by a cancellation at period end: no renewal on this anchor date. */
  endsAfter: IsoDate | null;
  /**
   * Invoiced periods, oldest first; the last is the current one. Only the current period and
   * the one before it are kept (`retainRecentPeriods`), so the item does not grow with history.
   */
  periods: PeriodRecord[];
  /** Fixed-seat plans: the seats owned before the first purchase still listed in `seatPurchases`. */
  initialSeats: number | null;
  seatPurchases: SeatPurchase[];
  addonId: string | null;
  /** A downgrade or interval change scheduled for the next anchor (R16). */
  pendingPlanId: string | null;
  /** Last date whose end-of-day quantity has been accrued. */
  accruedThrough: IsoDate;
  /** Earliest date a late event changed; accrual recomputes from there. */
  recomputeFrom: IsoDate | null;
  /** Next true-up date for quarterly and annual terms (R12), or null. */
  nextTrueUp: IsoDate | null;
  /** Prorations are numbered per subscription; those numbered below this are billed. */
  nextProrationSeq: number;
  billedProrationSeq: number;
  /**
   * The sequence number the workspace's next invoice gets (`invoiceNumberOf`). The workspace's
   * counter lives here, on the item every invoice-issuing write already conditions on, so an
   * invoice and its number commit together and a concurrent writer loses on the version. A new
   * subscription carries it on from the workspace's previous one (`invoiceCounterOf`).
   */
  nextInvoiceSeq: number;
  /** Set on an ended subscription when a new one took the invoice counter over (its id). */
  invoiceCounterMovedTo?: string;
  /** Optimistic-locking version: every write is conditioned on it. */
  version: number;
  /**
   * The member snapshot (`MemberSnapshot`) stored beside this subscription holds every member
   * event dated on or before this date, so only later ones are read. Unset (a subscription from
   * before snapshots, or one a late event made stale): the history is read whole and folded again.
   * Never in the core's logic: the jobs set it, ingest clears it.
   */
  membersFoldedThrough?: IsoDate | null;
}

/**
 * Where a workspace's invoice counter is while it has no active subscription: on its latest
 * (ended) subscription if it ever had one, else on the balance item. `holder` is what the next
 * invoice-issuing write must write back (version bumped), so two writers never take one number.
 * A holder marked as handed over means the reads straddled a subscription's start (the new
 * subscription was not seen, its handoff was): `ConflictError`, so the caller reads again.
 */
export function invoiceCounterOf(previous: SubscriptionState | undefined, balance: { nextInvoiceSeq?: number; invoiceCounterMoved?: true }): { next: number; holder: SubscriptionState | 'balance' } {
  if (previous?.invoiceCounterMovedTo || (!previous && balance.invoiceCounterMoved)) {
    throw new ConflictError(`the invoice counter of ${previous?.workspace ?? 'the workspace'} moved to a new subscription while it was read`);
  }
  return previous ? { next: previous.nextInvoiceSeq, holder: previous } : { next: balance.nextInvoiceSeq ?? 1, holder: 'balance' };
}

/** The quantity charged for `date` in a period: its base plus every accrued change up to that date. */
export function chargedQuantityOn(period: PeriodRecord, date: IsoDate): number {
  return period.changes.filter((change) => change.date <= date).reduce((sum, change) => sum + change.delta, period.baseQuantity);
}

/** Billing periods a subscription keeps: the current one and the one before it (a split period's records count as one). */
export const KEPT_PERIODS = 2;

/**
 * Drops the history recomputation can no longer reach, so the subscription (one DynamoDB item,
 * read and written by every job) stays the same size month after month: period records older
 * than the previous period, and seat purchases dated before the earliest kept day, folded into
 * `initialSeats` (every date still priced is on or after that day, so the seats owned on it do
 * not change). Called when a new period opens. A late event dated before the earliest kept day
 * is recomputed from that day (`accrueProrations`): older, pruned periods are never rebilled.
 */
export function retainRecentPeriods(subscription: SubscriptionState): SubscriptionState {
  // The records of one period (a plan change splits it) share its last day.
  const ends = [...new Set(subscription.periods.map((period) => period.end))];
  if (ends.length <= KEPT_PERIODS) return subscription;
  const kept = new Set(ends.slice(-KEPT_PERIODS));
  const periods = subscription.periods.filter((period) => kept.has(period.end));
  const firstKept = periods[0].start;
  const folded = subscription.seatPurchases.filter((purchase) => purchase.date < firstKept);
  if (folded.length === 0) return { ...subscription, periods };
  return {
    ...subscription,
    periods,
    initialSeats: folded.reduce((seats, purchase) => seats + purchase.seats, subscription.initialSeats ?? 0),
    seatPurchases: subscription.seatPurchases.filter((purchase) => purchase.date >= firstKept),
  };
}

/** The period currently invoiced (the last one). */
export function currentPeriodOf(subscription: SubscriptionState): PeriodRecord {
  const period = subscription.periods[subscription.periods.length - 1];
  if (!period) throw new Error(`subscription ${subscription.id} has no period`);
  return period;
}

/** The anchor date on which the next period starts. */
export function nextAnchorOf(subscription: SubscriptionState): IsoDate {
  return addDays(currentPeriodOf(subscription).end, 1);
}
