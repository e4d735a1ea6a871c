import { minorUnitsOf } from '../../shared/domain/money';

/** The locale of a workspace's documents when the scenario names none. */
export const DEFAULT_LOCALE = 'en-US';

/** Escapes text for HTML and SVG (element content and quoted attributes). */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

// ES2023's Intl.NumberFormat takes a decimal string and formats it exactly (no float); the
// project's `lib` is ES2022, whose typing only knows numbers.
type DecimalFormatter = { format(value: string): string };

/**
 * Formats an exact decimal amount (`"-1234.5"`) as money for `locale` with `Intl`: the
 * currency's minor units at least, and every decimal the string carries, trailing zeros too (an unrounded unit
 * amount is shown as it is), never through a float.
 */
export function formatMoney(amount: string, currency: string, locale: string): string {
  const decimals = amount.includes('.') ? amount.length - amount.indexOf('.') - 1 : 0;
  const minor = minorUnitsOf(currency);
  const formatter = new Intl.NumberFormat(locale, { style: 'currency', currency, minimumFractionDigits: Math.max(minor, decimals), maximumFractionDigits: Math.max(minor, decimals) });
  return (formatter as unknown as DecimalFormatter).format(amount);
}

/** Formats an ISO date (`2027-01-31`) for `locale`, as a calendar date (no zone shift). */
export function formatDate(date: string, locale: string, style: 'medium' | 'short' = 'medium'): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: style, timeZone: 'UTC' }).format(new Date(`${date}T00:00:00Z`));
}

/** Formats a month (`2027-01-01`) as `Jan 2027` for `locale`. */
export function formatMonth(date: string, locale: string): string {
  return new Intl.DateTimeFormat(locale, { month: 'short', year: 'numeric', timeZone: 'UTC' }).format(new Date(`${date}T00:00:00Z`));
}

/** Formats an integer for `locale`. */
export function formatCount(count: number, locale: string): string {
  return new Intl.NumberFormat(locale).format(count);
}
