import Decimal from 'decimal.js';
import { ValidationError } from './errors';

/**
 * A private decimal.js constructor with room to spare: a day fraction such as 9/31 repeats,
 * and 40 significant digits keep every tie at the minor unit a true tie.
 */
const Exact = Decimal.clone({ precision: 40 });

/** Rounding modes of R5; `down` truncates toward zero, for charges and credits alike. */
export type RoundingMode = 'half-up' | 'half-even' | 'down';

/** Where rounding happens (R6): per prorated unit amount, or once per line. */
export type RoundingPoint = 'unit' | 'line';

/** A rounding policy: the mode and the point of R6. */
export interface Rounding {
  mode: RoundingMode;
  point: RoundingPoint;
}

/**
 * ISO 4217 minor units for the currencies the engine knows. The one place they are defined,
 * so every amount of a currency carries the same number of decimals (R5).
 */
const MINOR_UNITS: Readonly<Record<string, number>> = {
  USD: 2,
  EUR: 2,
  GBP: 2,
  CAD: 2,
  AUD: 2,
  NZD: 2,
  CHF: 2,
  SEK: 2,
  NOK: 2,
  DKK: 2,
  PLN: 2,
  BRL: 2,
  MXN: 2,
  INR: 2,
  SGD: 2,
  HKD: 2,
  ZAR: 2,
  CNY: 2,
  JPY: 0,
  KRW: 0,
  CLP: 0,
  ISK: 0,
  VND: 0,
  KWD: 3,
  BHD: 3,
  OMR: 3,
  JOD: 3,
  TND: 3,
  IQD: 3,
  LYD: 3,
};

/** Currencies the engine accepts. */
export const SUPPORTED_CURRENCIES: readonly string[] = Object.keys(MINOR_UNITS);

/** The number of decimals of a currency's minor unit; throws on an unknown currency. */
export function minorUnitsOf(currency: string): number {
  const units = MINOR_UNITS[currency];
  if (units === undefined) throw new ValidationError('currency', `unsupported currency ${currency}`);
  return units;
}

const DECIMAL_MODES: Readonly<Record<RoundingMode, Decimal.Rounding>> = {
  'half-up': Decimal.ROUND_HALF_UP,
  'half-even': Decimal.ROUND_HALF_EVEN,
  down: Decimal.ROUND_DOWN,
};

const PARSED = new Map<string, Decimal>();
const MAX_PARSED = 10_000;

/**
 * Remembers a parsed amount string: every invoice parses the same prices and line amounts again
 * and again, and a Decimal never changes once built, so sharing one changes no result.
 */
function rememberParsed(value: string, amount: Decimal): void {
  if (PARSED.size >= MAX_PARSED) PARSED.clear();
  PARSED.set(value, amount);
}

/** An immutable amount of one currency; arithmetic is decimal and never rounds implicitly. */
export class Money {
  private constructor(
    readonly amount: Decimal,
    readonly currency: string,
  ) {}

  /** Parses a decimal string (or Decimal) as an amount of `currency`. */
  static of(value: string | number | Decimal, currency: string): Money {
    minorUnitsOf(currency);
    const parsed = typeof value === 'string' ? PARSED.get(value) : undefined;
    if (parsed) return new Money(parsed, currency);
    let amount: Decimal;
    try {
      amount = new Exact(value);
    } catch {
      throw new ValidationError('amount', `not a decimal amount: ${String(value)}`);
    }
    if (!amount.isFinite()) throw new ValidationError('amount', `not a finite amount: ${String(value)}`);
    if (typeof value === 'string') rememberParsed(value, amount);
    return new Money(amount, currency);
  }

  /** Zero of `currency`. */
  static zero(currency: string): Money {
    return Money.of(0, currency);
  }

  /** Sums amounts of one currency (zero for none). */
  static sum(values: readonly Money[], currency: string): Money {
    return values.reduce((total, value) => total.plus(value), Money.zero(currency));
  }

  plus(other: Money): Money {
    this.assertSameCurrency(other);
    return new Money(this.amount.plus(other.amount), this.currency);
  }

  minus(other: Money): Money {
    this.assertSameCurrency(other);
    return new Money(this.amount.minus(other.amount), this.currency);
  }

  /** Multiplies by a decimal factor (a quantity or a fraction), exactly. */
  times(factor: Decimal.Value): Money {
    return new Money(this.amount.times(factor), this.currency);
  }

  /** Multiplies by days/of exactly (one division, at 40 digits), before any rounding. */
  timesFraction(fraction: DayFraction): Money {
    return new Money(this.amount.times(fraction.days).div(fraction.of), this.currency);
  }

  negate(): Money {
    return new Money(this.amount.negated(), this.currency);
  }

  /** Rounds to the currency's minor units with the given mode (R5). */
  round(mode: RoundingMode): Money {
    return new Money(this.amount.toDecimalPlaces(minorUnitsOf(this.currency), DECIMAL_MODES[mode]), this.currency);
  }

  min(other: Money): Money {
    this.assertSameCurrency(other);
    return this.amount.lte(other.amount) ? this : other;
  }

  isPositive(): boolean {
    return this.amount.gt(0);
  }

  isNegative(): boolean {
    return this.amount.lt(0);
  }

  isZero(): boolean {
    return this.amount.isZero();
  }

  equals(other: Money): boolean {
    return this.currency === other.currency && this.amount.eq(other.amount);
  }

  /** True when the amount has no more decimals than the currency's minor unit. */
  isWholeMinorUnits(): boolean {
    return this.amount.decimalPlaces() <= minorUnitsOf(this.currency);
  }

  /** The amount as a string with exactly the currency's minor units (e.g. "60.96", "210", "1.500"). */
  toString(): string {
    return this.amount.toFixed(minorUnitsOf(this.currency));
  }

  /** A human label with the currency symbol, e.g. "$70.00", "¥7000", "KWD 1.500". */
  format(): string {
    const symbol = currencySymbol(this.currency);
    const text = this.amount.abs().toFixed(minorUnitsOf(this.currency));
    return `${this.isNegative() ? '-' : ''}${symbol}${text}`;
  }

  private assertSameCurrency(other: Money): void {
    if (other.currency !== this.currency) {
      throw new ValidationError('currency', `cannot combine ${this.currency} and ${other.currency}`);
    }
  }
}

const SYMBOLS = new Map<string, string>();

/** The currency's symbol ("$", "€", "KWD "), cached: building an Intl formatter is costly. */
function currencySymbol(currency: string): string {
  let symbol = SYMBOLS.get(currency);
  if (symbol === undefined) {
    const parts = new Intl.NumberFormat('en-US', { style: 'currency', currency }).formatToParts(0);
    const found = parts.find((part) => part.type === 'currency')?.value ?? currency;
    symbol = /^[A-Z]{3}$/.test(found) ? `${found} ` : found;
    SYMBOLS.set(currency, symbol);
  }
  return symbol;
}

/** A fraction of a period in whole days (R3), kept as integers so it prints as "9 of 31 days". */
export interface DayFraction {
  days: number;
  of: number;
}

/** A prorated price: the per-unit amount shown on the line and the line's amount (R6). */
export interface ProratedAmount {
  unitAmount: Money;
  amount: Money;
}

/**
 * Prorates `unitPrice` over `fraction` for `quantity` units (which may be negative for
 * credits), rounding only at the point R6 names: per unit (`unit`, the default, so the line
 * is unit × quantity exactly) or once for the line (`line`).
 */
export function prorate(unitPrice: Money, quantity: number, fraction: DayFraction, rounding: Rounding): ProratedAmount {
  const unitAmount = unitPrice.timesFraction(fraction).round(rounding.mode);
  if (rounding.point === 'unit') return { unitAmount, amount: unitAmount.times(quantity) };
  return { unitAmount, amount: unitPrice.times(quantity).timesFraction(fraction).round(rounding.mode) };
}
