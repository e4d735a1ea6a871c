import { addDays, type BillingPeriod, type IsoDate } from './calendar';

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
  /** Invoiced periods, oldest first; the last is the current one. */
  periods: PeriodRecord[];
  /** Fixed-seat plans: the seats bought at start and since. */
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
  /** Optimistic-locking version: every write is conditioned on it. */
  version: number;
}

/** The quantity charged for `date` in a period: its base plus every accrued change up to that date. */
export function chargedQuantityOn(period: PeriodRecord, date: IsoDate): number {
  return period.changes.filter((change) => change.date <= date).reduce((sum, change) => sum + change.delta, period.baseQuantity);
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
