import { addDays, eachDate, type IsoDate } from '../../shared/domain/calendar';
import type { MemberEvent } from '../../shared/domain/members';
import { ownedSeatsOn } from '../../shared/domain/proration';
import { retainRecentPeriods, type PeriodRecord, type SubscriptionState } from '../../shared/domain/subscription';
import { itemSizeBytes } from '../../shared/store/item-size';
import { keys } from '../../shared/store/keys';
import { Account } from './account';
import { joins, makeContext, makePlan, memberEvent } from './fixtures';

// The subscription item keeps the current period and the one before it: it must not grow with
// history, and late events older than that are recomputed from the earliest kept day.

/** The subscription item as the store writes it (`BillingStore.subscriptionPut`), for its DynamoDB size. */
function itemBytes(subscription: SubscriptionState): number {
  const index = keys.dueIndex('DUE', subscription.workspace, '2030-01-01T00:00:00Z', 16);
  return itemSizeBytes({ ...keys.subscription(subscription.workspace, subscription.id), ...index, state: subscription, version: subscription.version });
}

/** Five members from the start, then one event every day from `from` to `to` (a join, then a removal of that member the next day): the paid quantity changes every day. */
function dailyChurn(start: string, from: IsoDate, to: IsoDate): MemberEvent[] {
  const events = joins(start, 5);
  eachDate(from, to).forEach((date, day) => {
    events.push(memberEvent(`${date}T10:00:00Z`, day % 2 === 0 ? 'member.joined' : 'member.removed', `d${Math.floor(day / 2)}`));
  });
  return events;
}

function period(start: IsoDate, end: IsoDate, extra: Partial<PeriodRecord> = {}): PeriodRecord {
  return { start, end, denominatorStart: start, stub: false, planId: 'fixed', unitPrice: '70.00', baseQuantity: 10, changes: [{ date: start, delta: 1 }], invoiceId: `inv_${start}`, ...extra };
}

describe('subscription history retention (issue 9: no size limit can wedge a workspace)', () => {
  it('a renewal keeps the period that ended and the new one: after Jan, Feb and Mar only Feb and Mar remain', () => {
    const account = new Account(makeContext(joins('2027-01-01T08:00:00Z', 3)));
    account.start('2027-01-01T09:00:00Z');
    account.runDaily('2027-01-02', '2027-03-01');
    expect(account.subscription.periods.map((p) => [p.start, p.end])).toEqual([
      ['2027-02-01', '2027-02-28'],
      ['2027-03-01', '2027-03-31'],
    ]);
  });

  it('a plan change splits a period into two records that count as one period: Feb 1–14 and Feb 15–28 stay beside March, January goes', () => {
    const subscription = {
      periods: [period('2027-01-01', '2027-01-31'), period('2027-02-01', '2027-02-28', { until: '2027-02-14' }), period('2027-02-15', '2027-02-28'), period('2027-03-01', '2027-03-31')],
      seatPurchases: [],
      initialSeats: 10,
    } as unknown as SubscriptionState;
    expect(retainRecentPeriods(subscription).periods.map((p) => [p.start, p.until ?? p.end])).toEqual([
      ['2027-02-01', '2027-02-14'],
      ['2027-02-15', '2027-02-28'],
      ['2027-03-01', '2027-03-31'],
    ]);
  });

  it('seats bought before the earliest kept day fold into the initial seats: 10 + 2 (Jan 16) owned, 3 more from Feb 20, the same on every kept day', () => {
    const subscription = {
      periods: [period('2027-01-01', '2027-01-31'), period('2027-02-01', '2027-02-28'), period('2027-03-01', '2027-03-31')],
      seatPurchases: [
        { date: '2027-01-16', seats: 2 },
        { date: '2027-02-20', seats: 3 },
      ],
      initialSeats: 10,
    } as unknown as SubscriptionState;
    const retained = retainRecentPeriods(subscription);
    expect(retained.initialSeats).toBe(12);
    expect(retained.seatPurchases).toEqual([{ date: '2027-02-20', seats: 3 }]);
    for (const date of eachDate('2027-02-01', '2027-03-31')) expect(ownedSeatsOn(retained, date)).toBe(ownedSeatsOn(subscription, date));
  });

  it('a late join dated Jan 10, reported Mar 10 after the Mar 1 renewal, is adjusted from Feb 1 (the earliest kept day): 70.00 for February and 70.00 for March, nothing for January', () => {
    const base = joins('2027-01-01T08:00:00Z', 3);
    const account = new Account(makeContext(base));
    account.start('2027-01-01T09:00:00Z');
    account.runDaily('2027-01-02', '2027-03-10');
    expect(account.subscription.accruedThrough).toBe('2027-03-09');

    account.ctx = { ...account.ctx, members: [...base, memberEvent('2027-01-10T12:00:00Z', 'member.joined', 'late')] };
    account.subscription = { ...account.subscription, recomputeFrom: '2027-01-10' };
    account.runDaily('2027-03-11', '2027-04-01');

    expect(account.prorations.map((p) => ({ date: p.date, delta: p.delta, days: p.days, of: p.of, amount: p.amount, adjustment: p.adjustment }))).toEqual([
      { date: '2027-02-01', delta: 1, days: 28, of: 28, amount: '70.00', adjustment: true },
      { date: '2027-03-01', delta: 1, days: 31, of: 31, amount: '70.00', adjustment: true },
    ]);
    const april = account.invoiceOn('2027-04-01');
    expect(april?.lines.map((line) => [line.kind, line.quantity, line.amount])).toEqual([
      ['proration', 1, '70.00'],
      ['proration', 1, '70.00'],
      ['seats', 4, '280.00'],
    ]);
    expect(april?.subtotal).toBe('420.00');
  });

  it('36 months of daily seat changes on a monthly plan: the subscription item stays under 8 KB, and no larger in the third year than in the second', () => {
    const account = new Account(makeContext(dailyChurn('2027-01-01T08:00:00Z', '2027-01-02', '2029-12-31')));
    account.start('2027-01-01T09:00:00Z');
    const largest = new Map<string, number>();
    for (const date of eachDate('2027-01-02', '2030-01-01')) {
      account.runDaily(date, date);
      const month = addDays(date, -1).slice(0, 7);
      largest.set(month, Math.max(largest.get(month) ?? 0, itemBytes(account.subscription)));
    }
    // One proration a day, each recorded as a change of its period.
    expect(account.prorations.length).toBeGreaterThan(1090);
    const sizes = [...largest.values()];
    expect(Math.max(...sizes)).toBeLessThan(8 * 1024);
    const year = (y: string) => Math.max(...[...largest].filter(([month]) => month.startsWith(y)).map(([, bytes]) => bytes));
    expect(year('2029')).toBeLessThanOrEqual(year('2028'));
    expect(account.subscription.periods).toHaveLength(2);
  });

  it('36 months of daily seat changes on an annual plan: the item holds two terms of changes, under 32 KB, and no larger after the third term than after the second', () => {
    const plan = makePlan({ id: 'annual', interval: 'year', seatPrice: '700.00' });
    const account = new Account(makeContext(dailyChurn('2027-01-01T08:00:00Z', '2027-01-02', '2029-12-31'), [plan]));
    account.start('2027-01-01T09:00:00Z');
    const atYearEnd = new Map<string, number>();
    for (const date of eachDate('2027-01-02', '2030-01-01')) {
      account.runDaily(date, date);
      if (date.endsWith('-12-31')) atYearEnd.set(date.slice(0, 4), itemBytes(account.subscription));
    }
    expect(atYearEnd.get('2029')).toBeLessThan(32 * 1024);
    // Two terms of daily changes either way; 2028's leap day and the counters' extra digits aside, no growth.
    expect(atYearEnd.get('2029')).toBeLessThanOrEqual((atYearEnd.get('2028') ?? 0) + 64);
    expect(account.subscription.periods).toHaveLength(2);
    expect(account.subscription.periods.flatMap((p) => p.changes).length).toBeLessThanOrEqual(366 + 365);
  });
});
