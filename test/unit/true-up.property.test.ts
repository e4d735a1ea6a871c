import Decimal from 'decimal.js';
import fc from 'fast-check';
import { addDays, anchorInMonth, daysInclusive, eachDate, fullPeriodFrom, type Interval } from '../../shared/domain/calendar';
import { planBillingRun, startSubscription } from '../../shared/domain/engine';
import type { MemberEvent } from '../../shared/domain/members';
import { makeContext, makePlan, makeWorkspace } from './fixtures';
import { Ledger } from './ledger';

/**
 * R9/R12 over random terms: for a quarterly or annual term on any billing day, with random seat
 * changes inside it, the true-ups plus the prorations carried to the renewal equal
 * Σ delta × round(price × days(d..term end) / days(term)) from end-of-day counts kept here.
 */
describe('true-ups over random terms and changes', () => {
  test('bill exactly the day-by-day recomputation, once each', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Interval>('quarter', 'year'),
        fc.integer({ min: 1, max: 31 }),
        fc.integer({ min: 2027 * 12, max: 2028 * 12 + 11 }),
        fc.integer({ min: 100, max: 99_999 }),
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 364 }), fc.boolean()), { maxLength: 8 }),
        (interval, billingDay, month, cents, initial, changes) => {
          const start = anchorInMonth(month, billingDay);
          const term = fullPeriodFrom(start, billingDay, interval);
          const termDays = daysInclusive(term.start, term.end);
          const price = new Decimal(cents).div(100);
          // The member history, and the end-of-day count it gives for each date (kept here).
          const events: MemberEvent[] = [];
          let seq = 0;
          const active: string[] = [];
          for (let i = 0; i < initial; i += 1) {
            events.push({ type: 'member.joined', member: `m${i}`, role: i === 0 ? 'owner' : 'member', at: `${start}T08:00:00Z`, date: start, seq: seq++ });
            active.push(`m${i}`);
          }
          const delta = new Map<string, number>();
          changes
            .map(([offset, add]) => [addDays(term.start, 1 + (offset % (termDays - 1))), add] as const)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .forEach(([date, add], i) => {
              if (add || active.length <= 1) {
                events.push({ type: 'member.joined', member: `c${i}`, role: 'member', at: `${date}T10:00:00Z`, date, seq: seq++ });
                active.push(`c${i}`);
                delta.set(date, (delta.get(date) ?? 0) + 1);
              } else {
                const gone = active.pop() ?? '';
                events.push({ type: 'member.removed', member: gone, at: `${date}T10:00:00Z`, date, seq: seq++ });
                delta.set(date, (delta.get(date) ?? 0) - 1);
              }
            });
          const plan = makePlan({ id: 'p', name: 'P', interval, seatPrice: price.toFixed(2), minimumSeats: 1 });
          const ctx = makeContext(events, [plan], makeWorkspace({ billingDay }));
          const ledger = new Ledger('USD');
          const first = startSubscription(ctx, { subscriptionId: 's', planId: 'p', at: `${start}T09:00:00Z`, date: start, billingDay, seats: null, addonId: null }, ledger.balance);
          ledger.apply([first]);
          const renewalDate = addDays(term.end, 1);
          ledger.apply(planBillingRun(ctx, ledger.subscription, ledger.unbilled(), ledger.balance, renewalDate, { invoice: true }));

          let expected = new Decimal(0);
          for (const date of eachDate(term.start, term.end)) {
            const change = delta.get(date) ?? 0;
            if (change !== 0) expected = expected.plus(price.times(daysInclusive(date, term.end)).div(termDays).toDecimalPlaces(2, Decimal.ROUND_HALF_UP).times(change));
          }
          const trueUps = ledger.invoices.filter((invoice) => invoice.kind === 'true-up');
          const renewal = ledger.invoices.find((invoice) => invoice.kind === 'renewal');
          const billed = [...trueUps.flatMap((invoice) => invoice.lines), ...(renewal?.lines.filter((line) => line.kind === 'proration') ?? [])].reduce(
            (sum, line) => sum.plus(line.amount),
            new Decimal(0),
          );
          expect(billed.toFixed(2)).toBe(expected.toFixed(2));
          expect(renewal?.date).toBe(renewalDate);
          expect(new Set(trueUps.map((invoice) => invoice.date)).size).toBe(trueUps.length);
          expect(trueUps.every((invoice) => invoice.date > term.start && invoice.date <= term.end)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });
});
