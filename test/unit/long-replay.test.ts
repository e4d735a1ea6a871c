import Decimal from 'decimal.js';
import { toBillingDate, type IsoDate } from '../../shared/domain/calendar';
import type { Plan } from '../../shared/domain/catalog';
import { planBillingRun, startSubscription, type RunOptions } from '../../shared/domain/engine';
import type { Invoice } from '../../shared/domain/invoice';
import type { MemberEvent } from '../../shared/domain/members';
import type { BillingContext } from '../../shared/domain/proration';
import { makeContext, makePlan, memberEvent } from './fixtures';
import { Ledger } from './ledger';

// Long replays (R4, R9, R11, R12): the engine run month by month against a day-by-day
// recomputation written here (no engine accrual code is used for the expected amounts).

/** The in-memory ledger with a subscription to start and run. */
class Account extends Ledger {
  constructor(public ctx: BillingContext) {
    super(ctx.workspace.currency);
  }

  start(at: string): Invoice {
    const date = toBillingDate(at, this.ctx.workspace.timezone);
    const step = startSubscription(
      this.ctx,
      { subscriptionId: 'sub1', planId: this.ctx.catalog.plans[0].id, at, date, billingDay: this.ctx.workspace.billingDay, seats: null, addonId: null },
      this.balance,
    );
    if (step.kind !== 'invoice') throw new Error(`expected an invoice step, got ${step.kind}`);
    this.subscription = step.subscription;
    this.balance = step.balance;
    this.invoices.push(step.invoice);
    return step.invoice;
  }

  run(asOf: IsoDate, options: RunOptions = { invoice: true }): void {
    const steps = planBillingRun(this.ctx, this.subscription, this.unbilled(), this.balance, asOf, options);
    this.apply(steps);
  }
}

// ----- small deterministic helpers --------------------------------------------------------------

/** mulberry32: a tiny seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pick = (rand: () => number, n: number) => Math.floor(rand() * n);

const DAY = 86_400_000;
const iso = (ms: number): IsoDate => new Date(ms).toISOString().slice(0, 10) as IsoDate;
const ms = (date: string) => Date.parse(`${date}T00:00:00Z`);
const addDay = (date: string, n: number): IsoDate => iso(ms(date) + n * DAY);
/** Days from `a` to `b`, both inclusive. */
const daysIncl = (a: string, b: string) => Math.round((ms(b) - ms(a)) / DAY) + 1;
const firstOfMonth = (y: number, m: number): IsoDate => iso(Date.UTC(y, m, 1)); // m 0-based, overflow ok
const round2 = (d: Decimal) => d.toDecimalPlaces(2, Decimal.ROUND_HALF_UP);

const START = '2027-01-01T09:00:00Z';
const MINIMUM = 1;

/**
 * Random joins/removals (UTC, chronological) between `from` and `to` inclusive, `n0` members
 * joining before the start, at least `perMonth` events in every month of the range.
 */
function churn(rand: () => number, prefix: string, n0: number, from: IsoDate, months: number, extra: number, perMonth: number): MemberEvent[] {
  const events: MemberEvent[] = [];
  const active: string[] = [];
  let next = 0;
  for (let i = 0; i < n0; i++) {
    const id = `${prefix}-m${next++}`;
    active.push(id);
    events.push(memberEvent('2027-01-01T08:00:00Z', 'member.joined', id));
  }
  const to = addDay(firstOfMonth(2027, months), -1);
  const span = daysIncl(from, to);
  const slots: number[] = []; // day index * 1440 + minute
  for (let m = 0; m < months; m++) {
    const start = firstOfMonth(2027, m);
    const dim = daysIncl(start, addDay(firstOfMonth(2027, m + 1), -1));
    for (let k = 0; k < perMonth; k++) slots.push((daysIncl(from, start) - 1 + pick(rand, dim)) * 1440 + 600 + pick(rand, 780));
  }
  for (let k = 0; k < extra; k++) slots.push(pick(rand, span) * 1440 + 600 + pick(rand, 780));
  // Same-day join + removal pairs (R4: cost nothing).
  for (let k = 0; k < 3; k++) {
    const s = pick(rand, span) * 1440 + 600 + pick(rand, 700);
    slots.push(s, -(s + 30)); // negative marks a forced removal of the member just joined
  }
  const sorted = slots.map((s) => ({ s: Math.abs(s), forced: s < 0 })).sort((a, b) => a.s - b.s);
  let lastJoined: string | null = null;
  for (const { s, forced } of sorted) {
    const day = addDay(from, Math.floor(s / 1440));
    const minute = s % 1440;
    const at = `${day}T${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}:00Z`;
    let removeId: string | null = null;
    if (forced && lastJoined && active.includes(lastJoined)) removeId = lastJoined;
    else if (!forced && active.length > 0 && rand() < 0.5) removeId = active[pick(rand, active.length)];
    if (removeId) {
      active.splice(active.indexOf(removeId), 1);
      events.push(memberEvent(at, 'member.removed', removeId));
    } else {
      const id = `${prefix}-m${next++}`;
      active.push(id);
      lastJoined = id;
      events.push(memberEvent(at, 'member.joined', id));
    }
  }
  return events;
}

/** Independent R4 counting over the event list. */
function counter(events: readonly MemberEvent[]) {
  const count = (include: (e: MemberEvent) => boolean) => events.filter(include).reduce((n, e) => n + (e.type === 'member.joined' ? 1 : e.type === 'member.removed' ? -1 : 0), 0);
  const paid = (n: number) => Math.max(MINIMUM, n);
  return {
    /** Paid quantity at the end of `date`. */
    endOf: (date: string) => paid(count((e) => e.date <= date)),
    /** Paid quantity at an instant. */
    at: (instant: string) => paid(count((e) => Date.parse(e.at) <= Date.parse(instant))),
  };
}

/** Σ delta × round(price × days(d..end)/days(start..end)) over `start..end`, from `base`. */
function prorations(endOf: (d: string) => number, base: number, price: Decimal, start: IsoDate, end: IsoDate): Decimal {
  const total = daysIncl(start, end);
  let prev = base;
  let sum = new Decimal(0);
  for (let d: IsoDate = start; d <= end; d = addDay(d, 1)) {
    const q = endOf(d);
    if (q !== prev) sum = sum.plus(round2(price.times(daysIncl(d, end)).div(total)).times(q - prev));
    prev = q;
  }
  return sum;
}

const sumSubtotals = (invoices: readonly Invoice[]) => invoices.reduce((s, i) => s.plus(i.subtotal), new Decimal(0));

// ------------------------------------------------------------------------------------------------

describe('long replays against a day-by-day recomputation', () => {
  it('12 months of random churn for 50 workspaces bill exactly the day-by-day recomputation', () => {
    const rand = prng(20270101);
    const prices = ['30.00', '12.97', '70.00', '9.99', '45.50'];
    for (let w = 0; w < 50; w++) {
      const price = prices[w % prices.length];
      const plan: Plan = makePlan({ id: `flex-${w}`, seatPrice: price, interval: 'month', seatMode: 'flexible', minimumSeats: MINIMUM });
      const events = churn(rand, `w${w}`, pick(rand, 6), '2027-01-01', 12, 10 + pick(rand, 30), 0);
      const account = new Account(makeContext(events, [plan]));
      account.start(START);
      for (let m = 1; m <= 12; m++) account.run(firstOfMonth(2027, m));

      const { endOf, at } = counter(events);
      const p = new Decimal(price);
      let expected = new Decimal(0);
      for (let m = 0; m < 12; m++) {
        const start = firstOfMonth(2027, m);
        const end = addDay(firstOfMonth(2027, m + 1), -1);
        const base = m === 0 ? at(START) : endOf(addDay(start, -1));
        expected = expected.plus(p.times(base)).plus(prorations(endOf, base, p, start, end));
      }
      expected = expected.plus(p.times(endOf('2027-12-31'))); // 2028-01-01 renewal

      const detail = `workspace ${w} (price ${price}, ${events.length} events)`;
      expect({ detail, total: sumSubtotals(account.invoices).toFixed(2) }).toEqual({ detail, total: expected.toFixed(2) });
      expect(account.invoices.map((i) => i.date)).toEqual(Array.from({ length: 13 }, (_, m) => firstOfMonth(2027, m)));
    }
  });

  it('24 months of an annual plan with churn every month: true-ups sum to the day-by-day recomputation', () => {
    const rand = prng(424242);
    const price = new Decimal('600.00');
    const plan = makePlan({ id: 'upro-annual', interval: 'year', seatPrice: '600.00', seatMode: 'flexible', minimumSeats: MINIMUM });
    const terms = [
      { start: '2027-01-01' as IsoDate, end: '2027-12-31' as IsoDate, renewal: '2028-01-01' },
      { start: '2028-01-01' as IsoDate, end: '2028-12-31' as IsoDate, renewal: '2029-01-01' },
    ];
    for (let w = 0; w < 5; w++) {
      const events = churn(rand, `a${w}`, 1 + pick(rand, 8), '2027-01-01', 24, pick(rand, 10), 1 + pick(rand, 2));
      const account = new Account(makeContext(events, [plan]));
      account.start(START);
      for (let m = 1; m <= 24; m++) account.run(firstOfMonth(2027, m));
      const { endOf, at } = counter(events);

      for (const [t, term] of terms.entries()) {
        const base = t === 0 ? at(START) : endOf(addDay(term.start, -1));
        expect(daysIncl(term.start, term.end)).toBe(t === 0 ? 365 : 366);
        const expected = prorations(endOf, base, price, term.start, term.end);
        // True-ups dated inside the term bill its changes through the previous month;
        // changes of the term's last month are billed on the next renewal (R11).
        const trueUps = account.invoices.filter((i) => i.kind === 'true-up' && i.date > term.start && i.date <= term.end);
        const renewal = account.invoices.find((i) => i.date === term.renewal && i.kind === 'renewal');
        if (!renewal) throw new Error(`no renewal on ${term.renewal}`);
        const carried = renewal.lines.filter((l) => l.kind === 'proration').reduce((s, l) => s.plus(l.amount), new Decimal(0));
        const detail = `workspace ${w}, term ${term.start}`;
        expect({ detail, billed: sumSubtotals(trueUps).plus(carried).toFixed(2) }).toEqual({ detail, billed: expected.toFixed(2) });
        // The renewal charges the end-of-term count × 600.
        const seats = renewal.lines.filter((l) => l.kind === 'seats');
        expect(seats).toHaveLength(1);
        expect({ detail, quantity: seats[0].quantity, amount: seats[0].amount }).toEqual({ detail, quantity: endOf(term.end), amount: price.times(endOf(term.end)).toFixed(2) });
      }
    }
  });
});
