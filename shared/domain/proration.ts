import { addDays, eachDate, formatDay, isCalendarDate, maxDate, minDate, remainingFraction, type IsoDate } from './calendar';
import { billableRolesOf, type Catalog, type Plan, type Workspace } from './catalog';
import { NotFoundError } from './errors';
import { billableCountAt, endOfDayCounts, type MemberEvent } from './members';
import { Money, prorate } from './money';
import { chargedQuantityOn, currentPeriodOf, lastDayOf, type PeriodRecord, type SubscriptionState } from './subscription';

/** What the pure core reads besides the subscription: the workspace, catalog and members. */
export interface BillingContext {
  workspace: Workspace;
  catalog: Catalog;
  members: readonly MemberEvent[];
}

/** An unbilled (or billed) proration (R9): a dated change of paid quantity, priced over the rest of its period. */
export interface Proration {
  id: string;
  workspace: string;
  subscription: string;
  seq: number;
  date: IsoDate;
  delta: number;
  fromQuantity: number;
  toQuantity: number;
  planId: string;
  unitPrice: string;
  periodStart: IsoDate;
  periodEnd: IsoDate;
  days: number;
  of: number;
  unitAmount: string;
  amount: string;
  adjustment: boolean;
  description: string;
  /** What changed: seats (R9, the default), the plan (R16) or the storage add-on (R17). */
  subject?: 'seats' | 'plan' | 'addon';
}

/** Looks a plan up in the catalog. */
export function findPlan(catalog: Catalog, planId: string): Plan {
  const plan = catalog.plans.find((candidate) => candidate.id === planId);
  if (!plan) throw new NotFoundError(`plan ${planId}`);
  return plan;
}

/** Seats a fixed-seat subscription owns at the end of `date` (R8). */
export function ownedSeatsOn(subscription: SubscriptionState, date: IsoDate): number {
  const bought = subscription.seatPurchases.filter((purchase) => purchase.date <= date).reduce((sum, p) => sum + p.seats, 0);
  return (subscription.initialSeats ?? 0) + bought;
}

/** Paid quantity (R8) from a billable count: the minimum applies to flexible plans. */
export function paidQuantityFor(plan: Plan, billableCount: number, ownedSeats: number): number {
  return plan.seatMode === 'fixed' ? ownedSeats : Math.max(plan.minimumSeats, billableCount);
}

/** Paid quantity at an instant (the first invoice's quantity, R10). */
export function paidQuantityAt(ctx: BillingContext, subscription: SubscriptionState, plan: Plan, instant: string, date: IsoDate): number {
  const count = billableCountAt(ctx.members, instant, billableRolesOf(plan));
  return paidQuantityFor(plan, count, ownedSeatsOn(subscription, date));
}

/** Paid quantities at the end of each date (R4, R8). */
export function paidQuantitiesOn(ctx: BillingContext, subscription: SubscriptionState, plan: Plan, dates: readonly IsoDate[]): Map<IsoDate, number> {
  const counts = endOfDayCounts(ctx.members, dates, billableRolesOf(plan));
  const paid = new Map<IsoDate, number>();
  for (const date of dates) paid.set(date, paidQuantityFor(plan, counts.get(date) ?? 0, ownedSeatsOn(subscription, date)));
  return paid;
}

/** The paid quantity at the end of one date. */
export function paidQuantityOn(ctx: BillingContext, subscription: SubscriptionState, plan: Plan, date: IsoDate): number {
  return paidQuantitiesOn(ctx, subscription, plan, [date]).get(date) ?? 0;
}

/** What accrual produced: the subscription after it and the new prorations. */
export interface AccrualResult {
  subscription: SubscriptionState;
  prorations: Proration[];
}

/** "1 seat", "3 seats". */
export function seatsLabel(count: number): string {
  return `${count} seat${count === 1 ? '' : 's'}`;
}

/**
 * The dates of `period.start..last` on which accrual can find a difference, ascending: the
 * period's first day, `from`, and every day a member event, a seat purchase or an already
 * charged change is dated. Between two of them the paid quantity (end-of-day counts only move on
 * an event's date), the high-water mark and the charged quantity are all constant, so a day that
 * is not listed charges what the day before it left charged: walking only these dates gives
 * exactly the prorations of walking every day, without replaying a quiet month day by day
 * (proven against that walk in test/unit/fast-accrual.property.test.ts). A date that is not a
 * calendar date cannot be placed between two days, so any such date falls back to every day.
 */
export function quantityChangeDates(ctx: BillingContext, subscription: SubscriptionState, period: PeriodRecord, from: IsoDate, last: IsoDate): IsoDate[] {
  if (last < period.start) return [];
  const dates = new Set<IsoDate>([period.start]);
  if (from > period.start && from <= last) dates.add(from);
  const candidates: IsoDate[] = [];
  for (const event of ctx.members) candidates.push(event.date);
  for (const purchase of subscription.seatPurchases) candidates.push(purchase.date);
  for (const change of period.changes) candidates.push(change.date);
  for (const date of candidates) {
    if (date <= period.start || date > last) continue;
    if (!isCalendarDate(date)) return eachDate(period.start, last);
    dates.add(date);
  }
  return [...dates].sort();
}

/**
 * Accrues unbilled prorations (R9) through `through` (never past the invoiced period): for
 * each date, the quantity that should be paid (end-of-day, R4; under `seatDecrease: none`
 * the period's high-water mark) is compared with what has been charged for that date, and
 * any difference becomes one dated proration over the rest of its period. Late events are
 * handled by recomputing from `recomputeFrom`: their adjustments are dated to their own day,
 * or to the first day of the earliest kept period when they are older (`retainRecentPeriods`).
 */
export function accrueProrations(ctx: BillingContext, subscription: SubscriptionState, through: IsoDate): AccrualResult {
  const current = currentPeriodOf(subscription);
  const firstUnaccrued = addDays(subscription.accruedThrough, 1);
  // Recomputation reaches back to the earliest kept period at most: older periods are pruned.
  const earliest = maxDate(subscription.startDate, subscription.periods[0]?.start ?? subscription.startDate);
  const from = maxDate(earliest, subscription.recomputeFrom ? minDate(subscription.recomputeFrom, firstUnaccrued) : firstUnaccrued);
  const last = minDate(maxDate(through, subscription.accruedThrough), current.end);
  // R20: from an immediate cancellation's date on, no seat change accrues; those days count as accrued.
  const end = subscription.endsAfter ? minDate(last, subscription.endsAfter) : last;
  const recomputeFrom = subscription.recomputeFrom && subscription.recomputeFrom <= last ? null : subscription.recomputeFrom;
  if (from > end) {
    if (last <= subscription.accruedThrough && recomputeFrom === subscription.recomputeFrom) return { subscription, prorations: [] };
    return { subscription: { ...subscription, accruedThrough: maxDate(subscription.accruedThrough, last), recomputeFrom }, prorations: [] };
  }

  // Periods are copied only when a change is recorded on them: a quiet accrual copies none.
  let periods = subscription.periods;
  const prorations: Proration[] = [];
  let seq = subscription.nextProrationSeq;
  const decreaseCredits = ctx.workspace.settings.seatDecrease === 'credit';

  subscription.periods.forEach((stored, index) => {
    if (lastDayOf(stored) < from || stored.start > end) return;
    let period = stored;
    const plan = findPlan(ctx.catalog, period.planId);
    const dates = quantityChangeDates(ctx, subscription, period, from, minDate(lastDayOf(period), end));
    const paid = paidQuantitiesOn(ctx, subscription, plan, dates);
    let highWater = period.baseQuantity;
    for (const date of dates) {
      const quantity = paid.get(date) ?? 0;
      highWater = Math.max(highWater, quantity);
      if (date < from) continue;
      const target = decreaseCredits ? quantity : highWater;
      const charged = chargedQuantityOn(period, date);
      if (target === charged) continue;
      const delta = target - charged;
      const fraction = remainingFraction(date, period);
      const price = Money.of(period.unitPrice, ctx.workspace.currency);
      const { unitAmount, amount } = prorate(price, delta, fraction, ctx.workspace.settings.rounding);
      const sameDay = period.changes.filter((change) => change.date === date).length;
      const adjustment = date <= subscription.accruedThrough;
      const verb = delta > 0 ? 'added' : 'removed';
      prorations.push({
        id: `${subscription.id}_${date}_${sameDay}`,
        workspace: subscription.workspace,
        subscription: subscription.id,
        seq: seq++,
        date,
        delta,
        fromQuantity: charged,
        toQuantity: target,
        planId: plan.id,
        unitPrice: price.toString(),
        periodStart: date,
        periodEnd: period.end,
        days: fraction.days,
        of: fraction.of,
        unitAmount: unitAmount.toString(),
        amount: amount.toString(),
        adjustment,
        description: `${adjustment ? 'Adjustment: ' : ''}${seatsLabel(Math.abs(delta))} ${verb} on ${formatDay(date)}, ${fraction.days} of ${fraction.of} days × ${price.format()}`,
      });
      if (period === stored) {
        period = { ...stored, changes: [...stored.changes] };
        if (periods === subscription.periods) periods = [...subscription.periods];
        periods[index] = period;
      }
      period.changes.push({ date, delta });
    }
  });

  return {
    subscription: {
      ...subscription,
      periods,
      accruedThrough: maxDate(subscription.accruedThrough, last),
      recomputeFrom,
      nextProrationSeq: seq,
    },
    prorations,
  };
}
