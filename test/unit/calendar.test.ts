import fc from 'fast-check';
import {
  addDays,
  anchorAfter,
  anchorInMonth,
  assertBillingDay,
  daysInclusive,
  eachDate,
  firstAnchorOnOrAfter,
  firstPeriod,
  formatRange,
  fullPeriodFrom,
  INTERVAL_MONTHS,
  monthlyAnchorsInside,
  nextPeriod,
  remainingFraction,
  startOfDateInstant,
  toBillingDate,
  type BillingPeriod,
  type Interval,
  type IsoDate,
} from '../../shared/domain/calendar';
import { ValidationError } from '../../shared/domain/errors';

/** Month index from year 0, as the calendar module counts months. */
function monthIndex(date: IsoDate): number {
  const [year, month] = date.split('-').map(Number);
  return year * 12 + month - 1;
}

/** A date 2000-01-01 + n days, for n in [0, ~40 years). */
const dateArb: fc.Arbitrary<IsoDate> = fc.integer({ min: 0, max: 365 * 40 }).map((n) => addDays('2000-01-01', n));
const intervalArb = fc.constantFrom<Interval>('month', 'quarter', 'year');

const PERIOD_DAYS: Readonly<Record<Interval, [number, number]>> = { month: [28, 31], quarter: [89, 92], year: [365, 366] };

describe('R1 billing dates in the workspace zone', () => {
  it.each([
    ['2026-12-31T11:30:00Z', 'Pacific/Auckland', '2027-01-01'], // NZDT, UTC+13
    ['2026-12-31T11:30:00Z', 'UTC', '2026-12-31'],
    ['2026-12-31T10:59:59Z', 'Pacific/Auckland', '2026-12-31'],
    ['2027-01-01T04:59:59Z', 'America/New_York', '2026-12-31'], // EST, UTC−5
    ['2027-01-01T05:00:00Z', 'America/New_York', '2027-01-01'],
    ['2027-07-01T03:59:59Z', 'America/New_York', '2027-06-30'], // EDT, UTC−4
    ['2027-03-01T00:30:00+09:00', 'UTC', '2027-02-28'], // an offset instant is converted, not read as local
    ['2027-06-30T23:30:00Z', 'Asia/Kolkata', '2027-07-01'], // UTC+5:30
    ['2027-01-01T09:59:00Z', 'Pacific/Honolulu', '2026-12-31'], // UTC−10
  ])('%s is %s … %s', (instant, zone, date) => {
    expect(toBillingDate(instant, zone)).toBe(date);
  });

  it('an unknown zone or a malformed instant is rejected as invalid input', () => {
    expect(() => toBillingDate('2027-01-01T00:00:00Z', 'Mars/Olympus')).toThrow(ValidationError);
    expect(() => toBillingDate('yesterday', 'UTC')).toThrow(ValidationError);
  });

  it('Jan 1, 2027 begins in Auckland at 2026-12-31T11:00:00Z and in New York at 05:00Z', () => {
    expect(startOfDateInstant('2027-01-01', 'Pacific/Auckland')).toBe('2026-12-31T11:00:00Z');
    expect(startOfDateInstant('2027-01-01', 'America/New_York')).toBe('2027-01-01T05:00:00Z');
    expect(toBillingDate(startOfDateInstant('2027-07-01', 'Pacific/Auckland'), 'Pacific/Auckland')).toBe('2027-07-01');
  });
});

describe('R2 anchors: billing day clamped in short months, restored in long ones', () => {
  it('billing day 31: Jan 31, Feb 28 (2027), Mar 31, Apr 30', () => {
    expect(anchorInMonth(monthIndex('2027-01-01'), 31)).toBe('2027-01-31');
    expect(anchorInMonth(monthIndex('2027-02-01'), 31)).toBe('2027-02-28');
    expect(anchorInMonth(monthIndex('2027-03-01'), 31)).toBe('2027-03-31');
    expect(anchorInMonth(monthIndex('2027-04-01'), 31)).toBe('2027-04-30');
  });

  it('billing day 31 in a leap year: Feb 29, 2028', () => {
    expect(anchorInMonth(monthIndex('2028-02-01'), 31)).toBe('2028-02-29');
    expect(anchorInMonth(monthIndex('2028-02-01'), 29)).toBe('2028-02-29');
    expect(anchorInMonth(monthIndex('2028-02-01'), 30)).toBe('2028-02-29');
    expect(anchorInMonth(monthIndex('2100-02-01'), 29)).toBe('2100-02-28'); // 2100 is not a leap year
  });

  it('billing day 31: stepping anchors Jan 31 → Feb 28 → Mar 31 restores the day (no clamping drift)', () => {
    expect(anchorAfter('2027-01-31', 31, 1)).toBe('2027-02-28');
    expect(anchorAfter('2027-02-28', 31, 1)).toBe('2027-03-31');
    expect(anchorAfter('2027-01-31', 31, 3)).toBe('2027-04-30');
    expect(anchorAfter('2027-04-30', 31, 1)).toBe('2027-05-31');
    expect(anchorAfter('2028-01-31', 31, 1)).toBe('2028-02-29');
    expect(anchorAfter('2027-03-31', 31, -1)).toBe('2027-02-28');
  });

  it('the first anchor on or after a date: Dec 23 → Jan 1 (day 1); Feb 10 → Feb 28 (day 31); Jan 31 → Jan 31 (day 31)', () => {
    expect(firstAnchorOnOrAfter('2026-12-23', 1)).toBe('2027-01-01');
    expect(firstAnchorOnOrAfter('2027-02-10', 31)).toBe('2027-02-28');
    expect(firstAnchorOnOrAfter('2027-01-31', 31)).toBe('2027-01-31');
    expect(firstAnchorOnOrAfter('2027-01-16', 15)).toBe('2027-02-15');
    expect(firstAnchorOnOrAfter('2027-01-01', 1)).toBe('2027-01-01');
  });

  it('a billing day outside 1–31 is rejected', () => {
    for (const day of [0, 32, 1.5, -1, Number.NaN]) expect(() => assertBillingDay(day)).toThrow(ValidationError);
    expect(() => firstAnchorOnOrAfter('2027-01-01', 0)).toThrow(ValidationError);
    expect(() => assertBillingDay(31)).not.toThrow();
  });

  it('full periods run anchor to the day before the next: monthly Dec 1–Dec 31, quarterly Jan 1–Mar 31, annual 2027', () => {
    expect(fullPeriodFrom('2026-12-01', 1, 'month')).toEqual({ start: '2026-12-01', end: '2026-12-31', denominatorStart: '2026-12-01', stub: false });
    expect(fullPeriodFrom('2027-01-01', 1, 'quarter')).toMatchObject({ start: '2027-01-01', end: '2027-03-31' });
    expect(fullPeriodFrom('2027-01-01', 1, 'year')).toMatchObject({ start: '2027-01-01', end: '2027-12-31' });
    expect(fullPeriodFrom('2027-01-31', 31, 'month')).toMatchObject({ start: '2027-01-31', end: '2027-02-27' });
    expect(fullPeriodFrom('2027-02-28', 31, 'month')).toMatchObject({ start: '2027-02-28', end: '2027-03-30' });
  });

  it('malformed dates are rejected', () => {
    expect(() => addDays('2027-02-30', 1)).toThrow(ValidationError);
    expect(() => daysInclusive('2027/01/01', '2027-01-02')).toThrow(ValidationError);
  });
});

describe('R3 first periods and day counts', () => {
  it('monthly plan started Dec 23 bills a 9/31 stub Dec 23–31 over Dec 1–31', () => {
    const period = firstPeriod('2026-12-23', 1, 'month');
    expect(period).toEqual({ start: '2026-12-23', end: '2026-12-31', denominatorStart: '2026-12-01', stub: true });
    expect(remainingFraction(period.start, period)).toEqual({ days: 9, of: 31 });
  });

  it('quarterly plan started Dec 23 bills a 9/92 stub over Oct 1–Dec 31', () => {
    const period = firstPeriod('2026-12-23', 1, 'quarter');
    expect(period).toEqual({ start: '2026-12-23', end: '2026-12-31', denominatorStart: '2026-10-01', stub: true });
    expect(remainingFraction(period.start, period)).toEqual({ days: 9, of: 92 });
  });

  it('annual plan started Dec 23, 2026 bills a 9/365 stub over Jan 1–Dec 31, 2026', () => {
    const period = firstPeriod('2026-12-23', 1, 'year');
    expect(period).toMatchObject({ start: '2026-12-23', end: '2026-12-31', denominatorStart: '2026-01-01', stub: true });
    expect(remainingFraction(period.start, period)).toEqual({ days: 9, of: 365 });
  });

  it('monthly plan with billing day 15 started Jan 20 bills a 26/31 stub Jan 20–Feb 14 over Jan 15–Feb 14', () => {
    const period = firstPeriod('2027-01-20', 15, 'month');
    expect(period).toEqual({ start: '2027-01-20', end: '2027-02-14', denominatorStart: '2027-01-15', stub: true });
    expect(remainingFraction(period.start, period)).toEqual({ days: 26, of: 31 });
  });

  it('monthly plan with billing day 31 started Feb 10, 2027 bills an 18/28 stub Feb 10–27 over Jan 31–Feb 27', () => {
    const period = firstPeriod('2027-02-10', 31, 'month');
    expect(period).toEqual({ start: '2027-02-10', end: '2027-02-27', denominatorStart: '2027-01-31', stub: true });
    expect(remainingFraction(period.start, period)).toEqual({ days: 18, of: 28 });
  });

  it('a monthly plan started on its anchor (Jan 1) bills the full period, 31/31', () => {
    const period = firstPeriod('2027-01-01', 1, 'month');
    expect(period).toEqual({ start: '2027-01-01', end: '2027-01-31', denominatorStart: '2027-01-01', stub: false });
    expect(remainingFraction(period.start, period)).toEqual({ days: 31, of: 31 });
  });

  it('a quarterly plan started on Jan 1, 2027 bills the full term Jan 1–Mar 31, 90/90', () => {
    const period = firstPeriod('2027-01-01', 1, 'quarter');
    expect(period).toMatchObject({ start: '2027-01-01', end: '2027-03-31', stub: false });
    expect(remainingFraction(period.start, period)).toEqual({ days: 90, of: 90 });
  });

  it('an annual term holding Feb 29 (Mar 1, 2027 – Feb 29, 2028) has 366 days; 2027 has 365', () => {
    const leap = firstPeriod('2027-03-01', 1, 'year');
    expect(leap).toMatchObject({ start: '2027-03-01', end: '2028-02-29', stub: false });
    expect(remainingFraction(leap.start, leap)).toEqual({ days: 366, of: 366 });
    const calendar2028 = fullPeriodFrom('2028-01-01', 1, 'year');
    expect(remainingFraction(calendar2028.start, calendar2028)).toEqual({ days: 366, of: 366 });
    const calendar2027 = fullPeriodFrom('2027-01-01', 1, 'year');
    expect(remainingFraction(calendar2027.start, calendar2027)).toEqual({ days: 365, of: 365 });
  });

  it('a change on Nov 23 in Nov 2026 is worth 8/30 (the change day counts)', () => {
    expect(remainingFraction('2026-11-23', fullPeriodFrom('2026-11-01', 1, 'month'))).toEqual({ days: 8, of: 30 });
  });

  it('a change on Mar 10 in the annual term 2027 is worth 297/365; Feb 20 in Q1 2027 is worth 40/90', () => {
    expect(remainingFraction('2027-03-10', fullPeriodFrom('2027-01-01', 1, 'year'))).toEqual({ days: 297, of: 365 });
    expect(remainingFraction('2027-02-20', fullPeriodFrom('2027-01-01', 1, 'quarter'))).toEqual({ days: 40, of: 90 });
  });

  it('a change inside a stub keeps the full-period denominator: Dec 28 in the Dec 23 stub is 4/31, never 4/9', () => {
    expect(remainingFraction('2026-12-28', firstPeriod('2026-12-23', 1, 'month'))).toEqual({ days: 4, of: 31 });
  });

  it('days are counted inclusively: Dec 23–31 is 9 days, a single day is 1, a reversed range is 0', () => {
    expect(daysInclusive('2026-12-23', '2026-12-31')).toBe(9);
    expect(daysInclusive('2027-06-16', '2027-06-16')).toBe(1);
    expect(daysInclusive('2027-06-17', '2027-06-16')).toBe(0);
    expect(daysInclusive('2028-02-01', '2028-02-29')).toBe(29);
  });

  it('days are whole calendar days across DST changes (dates carry no zone)', () => {
    expect(daysInclusive('2027-03-01', '2027-03-31')).toBe(31); // US and EU spring forward in March
    expect(daysInclusive('2027-10-01', '2027-11-30')).toBe(61);
    expect(eachDate('2027-03-13', '2027-03-15')).toEqual(['2027-03-13', '2027-03-14', '2027-03-15']);
  });
});

describe('R12 monthly anchors inside a term (true-up dates)', () => {
  it('a quarterly term from Jan 1 has true-ups on Feb 1 and Mar 1', () => {
    expect(monthlyAnchorsInside(fullPeriodFrom('2027-01-01', 1, 'quarter'), 1)).toEqual(['2027-02-01', '2027-03-01']);
  });

  it('an annual term 2027 has true-ups on the 1st of Feb through Dec', () => {
    const anchors = monthlyAnchorsInside(fullPeriodFrom('2027-01-01', 1, 'year'), 1);
    expect(anchors).toHaveLength(11);
    expect(anchors[0]).toBe('2027-02-01');
    expect(anchors[10]).toBe('2027-12-01');
  });

  it('a quarterly term from Jan 31 with billing day 31 has true-ups on Feb 28 and Mar 31', () => {
    expect(monthlyAnchorsInside(fullPeriodFrom('2027-01-31', 31, 'quarter'), 31)).toEqual(['2027-02-28', '2027-03-31']);
  });

  it('a monthly period has no true-up dates', () => {
    expect(monthlyAnchorsInside(fullPeriodFrom('2027-01-01', 1, 'month'), 1)).toEqual([]);
  });
});

describe('labels', () => {
  it('formats a calendar month, a stub, a quarter and a cross-year period', () => {
    expect(formatRange({ start: '2027-01-01', end: '2027-01-31' })).toBe('January 2027');
    expect(formatRange({ start: '2026-12-23', end: '2026-12-31' })).toBe('23–31 Dec 2026');
    expect(formatRange({ start: '2027-01-01', end: '2027-03-31' })).toBe('1 Jan – 31 Mar 2027');
    expect(formatRange({ start: '2026-12-15', end: '2027-01-14' })).toBe('15 Dec 2026 – 14 Jan 2027');
  });
});

describe('calendar properties', () => {
  it('billing days 28–31: walking 48 months of periods never skips or repeats a day, and every period starts on an anchor', () => {
    fc.assert(
      fc.property(fc.integer({ min: 28, max: 31 }), dateArb, intervalArb, (billingDay, startDate, interval) => {
        const [minDays, maxDays] = PERIOD_DAYS[interval];
        let period: BillingPeriod = firstPeriod(startDate, billingDay, interval);
        expect(period.start).toBe(startDate);
        const firstAnchor = firstAnchorOnOrAfter(startDate, billingDay);
        if (period.stub) expect(addDays(period.end, 1)).toBe(firstAnchor);
        else expect(period.start).toBe(firstAnchor);
        const steps = 48 / INTERVAL_MONTHS[interval];
        for (let i = 0; i < steps; i += 1) {
          const next = nextPeriod(period, billingDay, interval);
          expect(next.start).toBe(addDays(period.end, 1));
          expect(next.stub).toBe(false);
          expect(next.denominatorStart).toBe(next.start);
          expect(anchorInMonth(monthIndex(next.start), billingDay)).toBe(next.start);
          const length = daysInclusive(next.start, next.end);
          expect(length).toBeGreaterThanOrEqual(minDays);
          expect(length).toBeLessThanOrEqual(maxDays);
          expect(monthIndex(addDays(next.end, 1)) - monthIndex(next.start)).toBe(INTERVAL_MONTHS[interval]);
          period = next;
        }
      }),
      { numRuns: 100 },
    );
  });

  it('any billing day: a stub ends the day before the first anchor and its denominator is the full interval ending that day', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 31 }), dateArb, intervalArb, (billingDay, startDate, interval) => {
        const period = firstPeriod(startDate, billingDay, interval);
        const anchor = firstAnchorOnOrAfter(startDate, billingDay);
        if (anchor === startDate) {
          expect(period.stub).toBe(false);
          expect(period).toEqual(fullPeriodFrom(startDate, billingDay, interval));
          return;
        }
        expect(period.stub).toBe(true);
        expect(period.end).toBe(addDays(anchor, -1));
        const full = fullPeriodFrom(period.denominatorStart, billingDay, interval);
        expect(full.end).toBe(period.end);
        const fraction = remainingFraction(period.start, period);
        expect(fraction.days).toBeLessThan(fraction.of);
        expect(fraction.of).toBeGreaterThanOrEqual(PERIOD_DAYS[interval][0]);
        expect(fraction.of).toBeLessThanOrEqual(PERIOD_DAYS[interval][1]);
      }),
      { numRuns: 200 },
    );
  });

  it('daysInclusive(a, addDays(a, n)) is n + 1', () => {
    fc.assert(
      fc.property(dateArb, fc.integer({ min: 0, max: 3000 }), (a, n) => {
        expect(daysInclusive(a, addDays(a, n))).toBe(n + 1);
        expect(addDays(addDays(a, n), -n)).toBe(a);
      }),
      { numRuns: 300 },
    );
  });

  it('the remaining fraction of a full period from its start is the whole period (days === of)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 31 }), dateArb, intervalArb, (billingDay, date, interval) => {
        const period = fullPeriodFrom(firstAnchorOnOrAfter(date, billingDay), billingDay, interval);
        const fraction = remainingFraction(period.start, period);
        expect(fraction.days).toBe(fraction.of);
        // and from its last day, one day of it
        expect(remainingFraction(period.end, period)).toEqual({ days: 1, of: fraction.of });
      }),
      { numRuns: 200 },
    );
  });

  it('true-up dates of a term are anchors strictly inside it, one per month after its start', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 31 }), dateArb, fc.constantFrom<Interval>('quarter', 'year'), (billingDay, date, interval) => {
        const period = fullPeriodFrom(firstAnchorOnOrAfter(date, billingDay), billingDay, interval);
        const anchors = monthlyAnchorsInside(period, billingDay);
        expect(anchors).toHaveLength(INTERVAL_MONTHS[interval] - 1);
        for (const anchor of anchors) {
          expect(anchor > period.start && anchor <= period.end).toBe(true);
          expect(anchorInMonth(monthIndex(anchor), billingDay)).toBe(anchor);
        }
      }),
      { numRuns: 100 },
    );
  });
});
