import { DateTime, IANAZone } from 'luxon';
import { ValidationError } from './errors';
import type { DayFraction } from './money';

/** A calendar date in a billing zone, ISO `YYYY-MM-DD`. Billing works in whole dates (R1). */
export type IsoDate = string;

/** A plan interval (R2): 1, 3 or 12 months. */
export type Interval = 'month' | 'quarter' | 'year';

/** Months in each interval. */
export const INTERVAL_MONTHS: Readonly<Record<Interval, number>> = { month: 1, quarter: 3, year: 12 };

/** An inclusive date range. */
export interface DateRange {
  start: IsoDate;
  end: IsoDate;
}

/**
 * A billing period (R2, R3): `start..end` is what is billed; `denominatorStart..end` is the
 * full period whose length is the denominator of every fraction inside it. They differ only
 * for a leading stub, whose denominator is the full interval ending on the stub's last day.
 */
export interface BillingPeriod extends DateRange {
  denominatorStart: IsoDate;
  stub: boolean;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function formatDate(date: DateTime): IsoDate {
  return date.toFormat('yyyy-MM-dd');
}

const DAY_MS = 86_400_000;

/** Days in a month of the proleptic Gregorian calendar (month 1–12). */
function daysInMonthOf(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** The digit at `index` of a string already matched by ISO_DATE. */
function digitAt(date: string, index: number): number {
  return date.charCodeAt(index) - 48;
}

/** Year, month and day of a valid ISO date; throws the calendar's ValidationError otherwise. */
function partsOf(date: IsoDate): { year: number; month: number; day: number } {
  if (!ISO_DATE.test(date)) throw new ValidationError('date', `not an ISO date: ${date}`);
  const year = digitAt(date, 0) * 1000 + digitAt(date, 1) * 100 + digitAt(date, 2) * 10 + digitAt(date, 3);
  const month = digitAt(date, 5) * 10 + digitAt(date, 6);
  const day = digitAt(date, 8) * 10 + digitAt(date, 9);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonthOf(year, month)) throw new ValidationError('date', `not an ISO date: ${date}`);
  return { year, month, day };
}

/**
 * Days since 1970-01-01 of a Gregorian date, by plain arithmetic (H. Hinnant's
 * days_from_civil): the same number `Date.UTC` gives, without building a Date.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

const TWO_DIGITS = Array.from({ length: 32 }, (_, n) => String(n).padStart(2, '0'));

/**
 * Whole-day arithmetic on ISO dates as day numbers: calendar dates have no zone, and this is
 * the hot path of accrual (luxon stays for zones and months).
 */
function toDayNumber(date: IsoDate): number {
  // Date.UTC reads years 0–99 as 1900–1999: kept for those, so every result stays as it was.
  if (date.startsWith('00')) return legacyDayNumber(date);
  const { year, month, day } = partsOf(date);
  return daysFromCivil(year, month, day);
}

/** The day number as `Date.UTC` gives it, validated by a Date round trip (the original arithmetic). */
function legacyDayNumber(date: IsoDate): number {
  if (!ISO_DATE.test(date)) throw new ValidationError('date', `not an ISO date: ${date}`);
  const year = Number(date.slice(0, 4));
  const month = Number(date.slice(5, 7));
  const day = Number(date.slice(8, 10));
  const ms = Date.UTC(year, month - 1, day);
  if (month < 1 || month > 12 || day < 1 || new Date(ms).getUTCDate() !== day) throw new ValidationError('date', `not an ISO date: ${date}`);
  return ms / DAY_MS;
}

/** The ISO date of a day number (H. Hinnant's civil_from_days): what `toISOString` prints, without a Date. */
function fromDayNumber(dayNumber: number): IsoDate {
  const z = dayNumber + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  // Outside four-digit years toISOString prints an expanded year: leave those to it.
  if (year < 1000 || year > 9999) return new Date(dayNumber * DAY_MS).toISOString().slice(0, 10);
  return `${year}-${TWO_DIGITS[month]}-${TWO_DIGITS[day]}`;
}

/** True when `date` is an ISO `YYYY-MM-DD` that names a real calendar day. */
export function isCalendarDate(date: string): boolean {
  try {
    toDayNumber(date);
    return true;
  } catch {
    return false;
  }
}

/**
 * Zone names found valid: luxon builds an `Intl.DateTimeFormat` on every check (0.6 ms a renewal
 * in the worker, `npm run bench`). Only valid names are kept, so the set stays as small as the
 * zone database whatever the input.
 */
const validZones = new Set<string>();

/** True when `zone` is a valid IANA time zone name. */
export function isValidZone(zone: string): boolean {
  if (validZones.has(zone)) return true;
  const valid = IANAZone.isValidZone(zone);
  if (valid) validZones.add(zone);
  return valid;
}

/**
 * Remembers a pure function of two strings: a worker batch asks the same few (run instant, zone)
 * and (due date, zone) pairs for every workspace, and luxon costs microseconds a call. Bounded:
 * past `MEMO_ENTRIES` the memory starts afresh. Only results are kept, so a throw is thrown again.
 */
function memoised(compute: (a: string, b: string) => string): (a: string, b: string) => string {
  const memory = new Map<string, string>();
  return (a, b) => {
    const key = `${a}\u0000${b}`;
    const known = memory.get(key);
    if (known !== undefined) return known;
    const value = compute(a, b);
    if (memory.size >= MEMO_ENTRIES) memory.clear();
    memory.set(key, value);
    return value;
  };
}

/** Entries a memoised calendar function keeps (a few hundred bytes each). */
const MEMO_ENTRIES = 10_000;

/** The billing date of an instant in a billing zone (R1). */
export const toBillingDate: (instant: string, zone: string) => IsoDate = memoised((instant, zone) => {
  if (!isValidZone(zone)) throw new ValidationError('timezone', `unknown time zone ${zone}`);
  const at = DateTime.fromISO(instant, { setZone: true });
  if (!at.isValid) throw new ValidationError('at', `not an ISO 8601 instant: ${instant}`);
  return formatDate(at.setZone(zone));
});

/** The instant (ISO, UTC) at which `date` begins in `zone`: when a job may first bill that date. */
export const startOfDateInstant: (date: IsoDate, zone: string) => string = memoised((date, zone) => {
  const start = DateTime.fromISO(date, { zone }).startOf('day');
  return start.toUTC().toISO({ suppressMilliseconds: true }) ?? '';
});

/** Adds (or subtracts) whole days. */
export function addDays(date: IsoDate, days: number): IsoDate {
  return fromDayNumber(toDayNumber(date) + days);
}

/** Days from a..b inclusive (R3); zero when b is before a. */
export function daysInclusive(a: IsoDate, b: IsoDate): number {
  return Math.max(0, toDayNumber(b) - toDayNumber(a) + 1);
}

/** Compares ISO dates (they sort as strings). */
export function compareDates(a: IsoDate, b: IsoDate): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The later / earlier of two dates. */
export function maxDate(a: IsoDate, b: IsoDate): IsoDate {
  return a >= b ? a : b;
}
export function minDate(a: IsoDate, b: IsoDate): IsoDate {
  return a <= b ? a : b;
}

/** Every date a..b inclusive, in order. */
export function eachDate(a: IsoDate, b: IsoDate): IsoDate[] {
  const dates: IsoDate[] = [];
  for (let day = toDayNumber(a), last = toDayNumber(b); day <= last; day += 1) dates.push(fromDayNumber(day));
  return dates;
}

/** A month counted from year 0, so anchors can step by months without clamping drift. */
function monthIndexOf(date: IsoDate): number {
  toDayNumber(date);
  return Number(date.slice(0, 4)) * 12 + (Number(date.slice(5, 7)) - 1);
}

/** Day D of the month `monthIndex`, clamped to the month's last day (R2). */
export function anchorInMonth(monthIndex: number, billingDay: number): IsoDate {
  const year = Math.floor(monthIndex / 12);
  const month = monthIndex % 12;
  const daysInMonth = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return fromDayNumber(Date.UTC(year, month, Math.min(billingDay, daysInMonth)) / DAY_MS);
}

/** Validates a billing day, 1–31 (R2). */
export function assertBillingDay(billingDay: number): void {
  if (!Number.isInteger(billingDay) || billingDay < 1 || billingDay > 31) {
    throw new ValidationError('billingDay', `must be a whole number 1–31, got ${billingDay}`);
  }
}

/** The first anchor date on or after `date` (R2). */
export function firstAnchorOnOrAfter(date: IsoDate, billingDay: number): IsoDate {
  assertBillingDay(billingDay);
  const month = monthIndexOf(date);
  const candidate = anchorInMonth(month, billingDay);
  return candidate >= date ? candidate : anchorInMonth(month + 1, billingDay);
}

/** The anchor `months` months after the anchor `anchor` (D restored in longer months). */
export function anchorAfter(anchor: IsoDate, billingDay: number, months: number): IsoDate {
  return anchorInMonth(monthIndexOf(anchor) + months, billingDay);
}

/** The full period starting at anchor `start`: start .. (next anchor − 1 day). */
export function fullPeriodFrom(start: IsoDate, billingDay: number, interval: Interval): BillingPeriod {
  const end = addDays(anchorAfter(start, billingDay, INTERVAL_MONTHS[interval]), -1);
  return { start, end, denominatorStart: start, stub: false };
}

/**
 * The first period of a subscription starting on `startDate` (R2, R3, R10): the full period
 * when the start date is an anchor, else a leading stub to the day before the first anchor
 * whose denominator is the full interval ending that same day (Dec 23 monthly: 9/31;
 * quarterly: 9/92 over Oct 1–Dec 31).
 */
export function firstPeriod(startDate: IsoDate, billingDay: number, interval: Interval): BillingPeriod {
  const anchor = firstAnchorOnOrAfter(startDate, billingDay);
  if (anchor === startDate) return fullPeriodFrom(startDate, billingDay, interval);
  const denominatorStart = anchorAfter(anchor, billingDay, -INTERVAL_MONTHS[interval]);
  return { start: startDate, end: addDays(anchor, -1), denominatorStart, stub: true };
}

/** The period following `period` (always a full one). */
export function nextPeriod(period: DateRange, billingDay: number, interval: Interval): BillingPeriod {
  return fullPeriodFrom(addDays(period.end, 1), billingDay, interval);
}

/** The fraction of `period` that `from..period.end` is worth (R3): the change day counts. */
export function remainingFraction(from: IsoDate, period: BillingPeriod): DayFraction {
  return { days: daysInclusive(from, period.end), of: daysInclusive(period.denominatorStart, period.end) };
}

/**
 * The monthly anchors strictly inside a term (R12 true-up dates): for a quarterly term from
 * Jan 1, Feb 1 and Mar 1. A monthly period has none.
 */
export function monthlyAnchorsInside(period: BillingPeriod, billingDay: number): IsoDate[] {
  if (period.stub) return [];
  const anchors: IsoDate[] = [];
  for (let k = 1; ; k += 1) {
    const anchor = anchorAfter(period.start, billingDay, k);
    if (anchor > period.end) return anchors;
    anchors.push(anchor);
  }
}

const MONTHS_LONG = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const MONTHS_SHORT = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "23 Nov 2026": how dates read on invoice lines. */
export function formatDay(date: IsoDate): string {
  toDayNumber(date);
  return `${Number(date.slice(8, 10))} ${MONTHS_SHORT[Number(date.slice(5, 7)) - 1]} ${date.slice(0, 4)}`;
}

/**
 * A period label for invoice lines: "January 2027" for a calendar month, "23–31 Dec 2026"
 * within a month, "1 Jan – 31 Mar 2027" or "15 Dec 2026 – 14 Jan 2027" otherwise.
 */
export function formatRange(range: DateRange): string {
  // Plain arithmetic on the date parts: luxon here was a fifth of a renewal's planning.
  const a = partsOf(range.start);
  const b = partsOf(range.end);
  if (a.month === b.month && a.year === b.year) {
    if (a.day === 1 && b.day === daysInMonthOf(b.year, b.month)) return `${MONTHS_LONG[a.month - 1]} ${a.year}`;
    return `${a.day}–${b.day} ${MONTHS_SHORT[a.month - 1]} ${a.year}`;
  }
  if (a.year === b.year) return `${a.day} ${MONTHS_SHORT[a.month - 1]} – ${formatDay(range.end)}`;
  return `${formatDay(range.start)} – ${formatDay(range.end)}`;
}
