import { DateTime } from 'luxon';
import { eachDate, formatDay, maxDate, minDate, remainingFraction, addDays, type DateRange, type IsoDate } from '../../shared/domain/calendar';
import type { MemberEvent } from '../../shared/domain/members';
import { Money, prorate } from '../../shared/domain/money';
import { findPlan, paidQuantitiesOn, seatsLabel, type AccrualResult, type BillingContext, type Proration } from '../../shared/domain/proration';
import { chargedQuantityOn, currentPeriodOf, lastDayOf, type SubscriptionState } from '../../shared/domain/subscription';

/**
 * The straightforward pure core the fast paths replaced, kept as the reference they are proven
 * equal against (test/unit/fast-path.property.test.ts): accrual walking every day of every
 * touched period on deep copies of the periods, member events sorted with `Date.parse` every
 * time, period labels through luxon and whole days through `Date`.
 */

/** Accrual (R9) as it was: every date of each touched period is evaluated, on copied periods. */
export function accrueProrationsDayByDay(ctx: BillingContext, subscription: SubscriptionState, through: IsoDate): AccrualResult {
  const current = currentPeriodOf(subscription);
  const firstUnaccrued = addDays(subscription.accruedThrough, 1);
  const earliest = maxDate(subscription.startDate, subscription.periods[0]?.start ?? subscription.startDate);
  const from = maxDate(earliest, subscription.recomputeFrom ? minDate(subscription.recomputeFrom, firstUnaccrued) : firstUnaccrued);
  const last = minDate(maxDate(through, subscription.accruedThrough), current.end);
  const end = subscription.endsAfter ? minDate(last, subscription.endsAfter) : last;
  const recomputeFrom = subscription.recomputeFrom && subscription.recomputeFrom <= last ? null : subscription.recomputeFrom;
  if (from > end) {
    if (last <= subscription.accruedThrough && recomputeFrom === subscription.recomputeFrom) return { subscription, prorations: [] };
    return { subscription: { ...subscription, accruedThrough: maxDate(subscription.accruedThrough, last), recomputeFrom }, prorations: [] };
  }

  const periods = subscription.periods.map((period) => ({ ...period, changes: [...period.changes] }));
  const touched = periods.filter((period) => lastDayOf(period) >= from && period.start <= end);
  const prorations: Proration[] = [];
  let seq = subscription.nextProrationSeq;
  const decreaseCredits = ctx.workspace.settings.seatDecrease === 'credit';

  for (const period of touched) {
    const plan = findPlan(ctx.catalog, period.planId);
    const dates = eachDate(period.start, minDate(lastDayOf(period), end));
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
      period.changes.push({ date, delta });
    }
  }

  return {
    subscription: { ...subscription, periods, accruedThrough: maxDate(subscription.accruedThrough, last), recomputeFrom, nextProrationSeq: seq },
    prorations,
  };
}

/** Member events in order as they were sorted: `Date.parse` on every call, always a full sort. */
export function sortMemberEventsReference(events: readonly MemberEvent[]): MemberEvent[] {
  return events
    .map((event) => ({ event, time: Date.parse(event.at) }))
    .sort((a, b) => a.time - b.time || a.event.seq - b.event.seq)
    .map(({ event }) => event);
}

const DAY_MS = 86_400_000;

/** Whole days through `Date`, as the calendar computed them (throws on a date that is not one). */
export function dayNumberReference(date: IsoDate): number {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new Error(`not an ISO date: ${date}`);
  const year = Number(date.slice(0, 4));
  const month = Number(date.slice(5, 7));
  const day = Number(date.slice(8, 10));
  const ms = Date.UTC(year, month - 1, day);
  if (month < 1 || month > 12 || day < 1 || new Date(ms).getUTCDate() !== day) throw new Error(`not an ISO date: ${date}`);
  return ms / DAY_MS;
}

/** The ISO date of a day number through `Date.toISOString`. */
export function isoDateReference(dayNumber: number): IsoDate {
  return new Date(dayNumber * DAY_MS).toISOString().slice(0, 10);
}

const MONTHS_LONG = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const MONTHS_SHORT = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The period label through luxon, as it was computed. */
export function formatRangeReference(range: DateRange): string {
  const parse = (date: IsoDate) => {
    const parsed = /^\d{4}-\d{2}-\d{2}$/.test(date) ? DateTime.fromISO(date, { zone: 'UTC' }) : DateTime.invalid('format');
    if (!parsed.isValid) throw new Error(`not an ISO date: ${date}`);
    return parsed;
  };
  const a = parse(range.start);
  const b = parse(range.end);
  if (a.day === 1 && b.equals(a.endOf('month').startOf('day')) && a.month === b.month && a.year === b.year) return `${MONTHS_LONG[a.month - 1]} ${a.year}`;
  if (a.month === b.month && a.year === b.year) return `${a.day}–${b.day} ${MONTHS_SHORT[a.month - 1]} ${a.year}`;
  if (a.year === b.year) return `${a.day} ${MONTHS_SHORT[a.month - 1]} – ${formatDay(range.end)}`;
  return `${formatDay(range.start)} – ${formatDay(range.end)}`;
}
