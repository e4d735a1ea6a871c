import fc from 'fast-check';
import { addDays, anchorInMonth, daysInclusive, eachDate, formatRange, type Interval, type IsoDate } from '../../shared/domain/calendar';
import type { Plan } from '../../shared/domain/catalog';
import { planChange, type ChangeRequest } from '../../shared/domain/changes';
import { cancelSubscription, planBillingRun, startSubscription, type RunOptions } from '../../shared/domain/engine';
import { RejectionError } from '../../shared/domain/errors';
import { sortMemberEvents, type MemberEvent, type MemberEventType } from '../../shared/domain/members';
import { Money, type RoundingMode, type RoundingPoint } from '../../shared/domain/money';
import { accrueProrations, type AccrualResult, type BillingContext } from '../../shared/domain/proration';
import type { SubscriptionState } from '../../shared/domain/subscription';
import { makeContext, makePlan, makeWorkspace } from './fixtures';
import { Ledger } from './ledger';
import { accrueProrationsDayByDay, dayNumberReference, formatRangeReference, isoDateReference, sortMemberEventsReference } from './reference-core';

/**
 * The fast paths of the pure core (scripts/core-bench.ts measures them) must plan what the
 * straightforward computation plans, to the byte: the accrual that walks only the dates a
 * quantity can change against the walk over every day, the ordered-history shortcut against a
 * full sort, and plain date arithmetic against luxon and Date.
 */

type Action =
  | { kind: 'invoicing'; day: number }
  | { kind: 'accrual'; day: number }
  | { kind: 'both'; day: number }
  | { kind: 'change'; day: number; request: ChangeRequest }
  | { kind: 'cancel'; day: number; atPeriodEnd: boolean };

interface Story {
  interval: Interval;
  seatMode: 'flexible' | 'fixed';
  billingDay: number;
  month: number;
  cents: number;
  minimumSeats: number;
  seatDecrease: 'credit' | 'none';
  mode: RoundingMode;
  point: RoundingPoint;
  initial: number;
  /** Member events after the start: day offset, hour, type, member, role, days until delivered. */
  events: readonly (readonly [number, number, MemberEventType, number, string, number])[];
  actions: Action[];
}

const EVENT_TYPES: MemberEventType[] = [
  'member.joined',
  'member.joined',
  'member.joined',
  'member.removed',
  'member.removed',
  'member.deactivated',
  'member.reactivated',
  'member.role_changed',
  'member.invited',
];
const HORIZON = 430;

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('invoicing' as const), day: fc.integer({ min: 0, max: HORIZON }) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('accrual' as const), day: fc.integer({ min: 0, max: HORIZON }) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('both' as const), day: fc.integer({ min: 0, max: HORIZON }) }), weight: 2 },
  {
    arbitrary: fc.record({
      kind: fc.constant('change' as const),
      day: fc.integer({ min: 1, max: HORIZON }),
      request: fc.oneof(
        fc.constantFrom<ChangeRequest>({ type: 'plan.change_requested', plan: 'big' }, { type: 'plan.change_requested', plan: 'small' }, { type: 'plan.change_requested', plan: 'other-interval' }),
        fc.integer({ min: 1, max: 3 }).map((seats): ChangeRequest => ({ type: 'seats.purchased', seats })),
      ),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant('cancel' as const), day: fc.integer({ min: 1, max: HORIZON }), atPeriodEnd: fc.boolean() }), weight: 1 },
);

const storyArb: fc.Arbitrary<Story> = fc.record({
  interval: fc.constantFrom<Interval>('month', 'month', 'quarter', 'year'),
  seatMode: fc.constantFrom<'flexible' | 'fixed'>('flexible', 'flexible', 'flexible', 'fixed'),
  billingDay: fc.integer({ min: 1, max: 31 }),
  month: fc.integer({ min: 2027 * 12, max: 2028 * 12 + 11 }),
  cents: fc.integer({ min: 100, max: 99_999 }),
  minimumSeats: fc.integer({ min: 1, max: 3 }),
  seatDecrease: fc.constantFrom<'credit' | 'none'>('credit', 'none'),
  mode: fc.constantFrom<RoundingMode>('half-up', 'half-even', 'down'),
  point: fc.constantFrom<RoundingPoint>('unit', 'line'),
  initial: fc.integer({ min: 1, max: 5 }),
  // A third of the stories are quiet: no member event after the start at all.
  events: fc.oneof(
    fc.constant<Story['events']>([]),
    fc.array(
      fc.tuple(
        fc.integer({ min: 0, max: HORIZON }),
        fc.integer({ min: 0, max: 23 }),
        fc.constantFrom(...EVENT_TYPES),
        fc.integer({ min: 0, max: 11 }),
        fc.constantFrom('member', 'member', 'guest', 'admin', 'viewer'),
        fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 45 })),
      ),
      { minLength: 3, maxLength: 24, size: 'max' },
    ),
  ),
  actions: fc.array(actionArb, { minLength: 1, maxLength: 10 }),
});

/** The steps JSON-identical, or the first difference named. */
function expectSameJson(fast: unknown, reference: unknown): void {
  expect(JSON.stringify(fast)).toBe(JSON.stringify(reference));
}

/**
 * Plays a story: every billing run and accrual is planned twice, by the core as it runs and
 * with the day-by-day accrual, compared, and the core's steps applied. Events are delivered
 * late as ingest delivers them (an event on an accrued day sets `recomputeFrom`).
 */
function playStory(story: Story, accrue: (ctx: BillingContext, subscription: SubscriptionState, through: IsoDate) => AccrualResult): { runs: number; prorations: number } {
  const start = anchorInMonth(story.month, story.billingDay);
  const plans: Plan[] = [
    makePlan({ id: 'p', name: 'P', interval: story.interval, seatMode: story.seatMode, seatPrice: (story.cents / 100).toFixed(2), minimumSeats: story.minimumSeats }),
    makePlan({ id: 'big', name: 'Big', interval: story.interval, seatMode: story.seatMode, seatPrice: ((story.cents * 2) / 100).toFixed(2), minimumSeats: story.minimumSeats }),
    makePlan({ id: 'small', name: 'Small', interval: story.interval, seatMode: story.seatMode, seatPrice: '1.00', minimumSeats: 1 }),
    makePlan({ id: 'other-interval', name: 'Other', interval: story.interval === 'year' ? 'month' : 'year', seatMode: story.seatMode, seatPrice: '300.00', minimumSeats: 1 }),
  ];
  let seq = 0;
  const initial: MemberEvent[] = Array.from({ length: story.initial }, (_, i) => ({
    type: 'member.joined',
    member: `m${i}`,
    role: i === 0 ? 'owner' : 'member',
    at: `${addDays(start, -1)}T08:00:00Z`,
    date: addDays(start, -1),
    seq: seq++,
  }));
  const later = story.events.map(([offset, hour, type, member, role, lag]) => {
    const date = addDays(start, offset);
    // Joins mostly bring someone new (the first members are already in), so most events move a count.
    const who = type === 'member.joined' && member < 6 && member % 2 === 0 ? member + 6 : member;
    const event: MemberEvent = { type, member: `m${who}`, role, at: `${date}T${String(hour).padStart(2, '0')}:00:00Z`, date, seq: seq++ };
    return { event, arrives: offset + lag };
  });
  const workspace = makeWorkspace({ billingDay: story.billingDay }, { seatDecrease: story.seatDecrease, rounding: { mode: story.mode, point: story.point } });
  let ctx = makeContext(initial, plans, workspace);
  const ledger = new Ledger('USD');
  ledger.apply([
    startSubscription(
      ctx,
      { subscriptionId: 's', planId: 'p', at: `${start}T09:00:00Z`, date: start, billingDay: story.billingDay, seats: story.seatMode === 'fixed' ? story.initial : null, addonId: null },
      ledger.balance,
    ),
  ]);
  const delivered = new Set<MemberEvent>();
  let runs = 0;
  let prorations = 0;

  const deliverThrough = (day: number) => {
    const arriving = later.filter(({ event, arrives }) => arrives <= day && !delivered.has(event)).map(({ event }) => event);
    if (arriving.length === 0) return;
    for (const event of arriving) delivered.add(event);
    ctx = { ...ctx, members: [...ctx.members, ...arriving] };
    for (const event of arriving) {
      const subscription = ledger.subscription;
      if (event.date <= subscription.accruedThrough)
        ledger.subscription = {
          ...subscription,
          recomputeFrom: subscription.recomputeFrom && subscription.recomputeFrom < event.date ? subscription.recomputeFrom : event.date,
          version: subscription.version + 1,
        };
    }
  };
  const run = (asOf: IsoDate, options: RunOptions) => {
    if (ledger.subscription.status === 'ended') return;
    const fast = planBillingRun(ctx, ledger.subscription, ledger.unbilled(), ledger.balance, asOf, options);
    const reference = planBillingRun(ctx, ledger.subscription, ledger.unbilled(), ledger.balance, asOf, options, accrue);
    expectSameJson(fast, reference);
    runs += 1;
    prorations += fast.reduce((n, step) => n + (step.kind === 'accrual' ? step.prorations.length : 0), 0);
    ledger.apply(fast);
  };

  for (const action of [...story.actions].sort((a, b) => a.day - b.day)) {
    deliverThrough(action.day);
    const date = addDays(start, action.day);
    // Accrual on its own, straight on the stored state, through a day that may run past the period.
    expectSameJson(accrueProrations(ctx, ledger.subscription, addDays(date, -1)), accrue(ctx, ledger.subscription, addDays(date, -1)));
    if (action.kind === 'invoicing') run(date, { invoice: true });
    else if (action.kind === 'accrual') run(date, { invoice: false, accrueThrough: addDays(date, -1) });
    else if (action.kind === 'both') run(date, { invoice: true, accrueThrough: addDays(date, -1) });
    else if (ledger.subscription.status !== 'ended') {
      run(date, { invoice: true, accrueThrough: addDays(date, -1) });
      if (action.kind === 'cancel') ledger.subscription = cancelSubscription(ledger.subscription, date, action.atPeriodEnd);
      else {
        try {
          const change = planChange({
            ctx,
            subscription: ledger.subscription,
            unbilled: ledger.unbilled(),
            balance: ledger.balance,
            request: action.request,
            requestedBy: 'm0',
            at: `${date}T12:00:00Z`,
            date,
          });
          ledger.apply(change.steps);
          prorations += change.accrued.length;
        } catch (error) {
          if (!(error instanceof RejectionError)) throw error;
        }
      }
    }
  }
  deliverThrough(HORIZON + 60);
  run(addDays(start, HORIZON + 1), { invoice: true, accrueThrough: addDays(start, HORIZON) });
  return { runs, prorations };
}

describe('the fast accrual plans what the day-by-day walk plans', () => {
  test('random quiet and busy subscriptions: every run and every accrual JSON-identical', () => {
    let prorations = 0;
    let quietRuns = 0;
    fc.assert(
      fc.property(storyArb, (story) => {
        const played = playStory(story, accrueProrationsDayByDay);
        prorations += played.prorations;
        if (story.events.length === 0) quietRuns += played.runs;
      }),
      { numRuns: 200 },
    );
    // The stories did exercise both sides: quiet runs, and runs that found changes to bill.
    expect(quietRuns).toBeGreaterThan(50);
    expect(prorations).toBeGreaterThan(60);
  });

  test('the comparison catches an accrual that skips a day it should look at', () => {
    // Looks only at the first unaccrued day: misses every change later in the range.
    const firstDayOnly = (ctx: BillingContext, subscription: SubscriptionState, through: IsoDate) =>
      accrueProrationsDayByDay(ctx, subscription, through < addDays(subscription.accruedThrough, 1) ? through : addDays(subscription.accruedThrough, 1));
    const story: Story = {
      interval: 'month',
      seatMode: 'flexible',
      billingDay: 1,
      month: 2027 * 12,
      cents: 3000,
      minimumSeats: 1,
      seatDecrease: 'credit',
      mode: 'half-up',
      point: 'unit',
      initial: 2,
      events: [[10, 9, 'member.joined', 5, 'member', 0]],
      actions: [{ kind: 'invoicing', day: 31 }],
    };
    expect(() => playStory(story, accrueProrationsDayByDay)).not.toThrow();
    expect(() => playStory(story, firstDayOnly)).toThrow();
  });
});

describe('member history in order', () => {
  const eventArb: fc.Arbitrary<MemberEvent> = fc.record({
    type: fc.constantFrom<MemberEventType>('member.joined', 'member.removed'),
    member: fc.constantFrom('a', 'b', 'c'),
    at: fc.oneof(
      fc.integer({ min: 0, max: 6 }).map((n) => `2027-01-0${1 + (n % 3)}T0${n}:00:00Z`),
      fc.constantFrom('2027-01-02T01:00:00+02:00', '2027-01-01T23:00:00.500Z', 'not a date', '2027-02-30T10:00:00Z'),
    ),
    date: fc.constant('2027-01-01'),
    seq: fc.integer({ min: 0, max: 20 }),
  });

  test('sortMemberEvents orders exactly as a full sort on Date.parse does, already ordered or not', () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 12 }), fc.boolean(), (events, presort) => {
        // Copies: the events are changed in place below, and fast-check reuses what it generated.
        const input = (presort ? sortMemberEventsReference(events) : events).map((event) => ({ ...event }));
        const sorted = sortMemberEvents(input);
        expect(sorted).toEqual(sortMemberEventsReference(input));
        expect(sorted).not.toBe(input);
        // Asked again, after the array or its events changed in place: the order follows.
        expect(sortMemberEvents(input)).toEqual(sortMemberEventsReference(input));
        if (input.length > 0) {
          input[0].at = '2026-12-31T23:00:00Z';
          expect(sortMemberEvents(input)).toEqual(sortMemberEventsReference(input));
          input[input.length - 1].seq = -1;
          expect(sortMemberEvents(input)).toEqual(sortMemberEventsReference(input));
          input.reverse();
          expect(sortMemberEvents(input)).toEqual(sortMemberEventsReference(input));
        }
        input.push({ type: 'member.joined', member: 'late', at: '2027-01-01T00:00:00Z', date: '2027-01-01', seq: 99 });
        expect(sortMemberEvents(input)).toEqual(sortMemberEventsReference(input));
      }),
      { numRuns: 500 },
    );
  });
});

describe('dates by plain arithmetic', () => {
  const dayArb = fc.integer({ min: dayNumberReference('1000-01-01'), max: dayNumberReference('9999-12-30') });

  test('addDays, daysInclusive and eachDate agree with Date over years 1000–9999', () => {
    fc.assert(
      fc.property(dayArb, fc.integer({ min: -800, max: 800 }), (day, step) => {
        const date = isoDateReference(day);
        expect(addDays(date, 0)).toBe(date);
        const later = dayNumberReference('9999-12-31') >= day + step && dayNumberReference('1000-01-01') <= day + step;
        if (later) expect(addDays(date, step)).toBe(isoDateReference(day + step));
        if (step >= 0 && later) expect(daysInclusive(date, isoDateReference(day + step))).toBe(step + 1);
      }),
      { numRuns: 3000 },
    );
    expect(eachDate('2028-02-27', '2028-03-01')).toEqual(['2028-02-27', '2028-02-28', '2028-02-29', '2028-03-01']);
    expect(addDays('9999-12-31', 1)).toBe(isoDateReference(dayNumberReference('9999-12-31') + 1));
    expect(addDays('0099-12-31', 1)).toBe(isoDateReference(dayNumberReference('0099-12-31') + 1));
  });

  test('every day of 1899–2201 steps to the next as Date steps it', () => {
    for (let day = dayNumberReference('1899-01-01'); day <= dayNumberReference('2201-12-31'); day += 1) {
      const date = isoDateReference(day);
      if (addDays(date, 1) !== isoDateReference(day + 1)) throw new Error(`addDays(${date}, 1) is ${addDays(date, 1)}`);
    }
  });

  test('dates that are not calendar dates are refused as before', () => {
    for (const date of ['2027-02-29', '2028-02-30', '2027-13-01', '2027-00-10', '2027-01-00', '2027-1-01', '2100-02-29', 'x']) {
      expect(() => dayNumberReference(date)).toThrow();
      expect(() => addDays(date, 1)).toThrow(/not an ISO date/);
      expect(() => formatRange({ start: date, end: '2027-01-01' })).toThrow(/not an ISO date/);
    }
    expect(addDays('2000-02-28', 1)).toBe('2000-02-29');
  });

  test('formatRange writes what luxon wrote, for any two dates', () => {
    fc.assert(
      fc.property(fc.integer({ min: dayNumberReference('1990-01-01'), max: dayNumberReference('2200-12-31') }), fc.integer({ min: -40, max: 800 }), (day, length) => {
        const range = { start: isoDateReference(day), end: isoDateReference(day + length) };
        expect(formatRange(range)).toBe(formatRangeReference(range));
      }),
      { numRuns: 5000 },
    );
    // Calendar months, including every February end, on both sides of a century.
    for (const [start, end] of [
      ['2027-02-01', '2027-02-28'],
      ['2028-02-01', '2028-02-29'],
      ['2100-02-01', '2100-02-28'],
      ['2000-02-01', '2000-02-29'],
      ['2027-01-01', '2027-01-30'],
      ['2027-12-01', '2027-12-31'],
    ]) {
      expect(formatRange({ start, end })).toBe(formatRangeReference({ start, end }));
    }
  });
});

describe('amounts parsed once', () => {
  test('Money.of gives the same amount for a string it has parsed before, and still refuses what it refused', () => {
    fc.assert(
      fc.property(fc.integer({ min: -10_000_000, max: 10_000_000 }), fc.integer({ min: 0, max: 4 }), (units, decimals) => {
        const text = (units / 10 ** decimals).toFixed(decimals);
        const first = Money.of(text, 'USD');
        const again = Money.of(text, 'EUR');
        expect(again.currency).toBe('EUR');
        expect(again.amount.toString()).toBe(first.amount.toString());
        expect(again.toString()).toBe(Money.of(Number(text), 'EUR').toString());
      }),
      { numRuns: 300 },
    );
    for (let i = 0; i < 2; i += 1) {
      expect(() => Money.of('12,50', 'USD')).toThrow(/not a decimal amount/);
      expect(() => Money.of('Infinity', 'USD')).toThrow(/not a finite amount/);
      expect(() => Money.of('1.00', 'XXX')).toThrow(/unsupported currency/);
    }
  });
});
