import Decimal from 'decimal.js';
import fc from 'fast-check';
import { ValidationError } from '../../shared/domain/errors';
import { minorUnitsOf, Money, prorate, SUPPORTED_CURRENCIES, type DayFraction, type Rounding, type RoundingMode, type RoundingPoint } from '../../shared/domain/money';

const HALF_UP_UNIT: Rounding = { mode: 'half-up', point: 'unit' };
const HALF_UP_LINE: Rounding = { mode: 'half-up', point: 'line' };
const MODES: readonly RoundingMode[] = ['half-up', 'half-even', 'down'];
const POINTS: readonly RoundingPoint[] = ['unit', 'line'];

const usd = (value: string) => Money.of(value, 'USD');
const round = (value: string, currency: string, mode: RoundingMode) => Money.of(value, currency).round(mode).toString();

/** A price of `currency` in whole minor units, as the decimal string a catalog would hold. */
function priceArb(currency: string, maxMinor = 100_000_000): fc.Arbitrary<string> {
  const units = minorUnitsOf(currency);
  return fc.integer({ min: 0, max: maxMinor }).map((minor) => new Decimal(minor).div(10 ** units).toFixed(units));
}

/** A day fraction days/of with a realistic denominator (a month, a quarter, a year). */
const fractionArb: fc.Arbitrary<DayFraction> = fc.integer({ min: 28, max: 366 }).chain((of) => fc.integer({ min: 1, max: of }).map((days) => ({ days, of })));

const roundingArb: fc.Arbitrary<Rounding> = fc.record({ mode: fc.constantFrom(...MODES), point: fc.constantFrom(...POINTS) });
const currencyArb = fc.constantFrom(...SUPPORTED_CURRENCIES);

/** A currency with a price in it. */
const pricedArb = currencyArb.chain((currency) => fc.tuple(fc.constant(currency), priceArb(currency)));

describe('R5 minor units per currency (ISO 4217)', () => {
  it.each([
    ['USD', 2],
    ['EUR', 2],
    ['JPY', 0],
    ['KRW', 0],
    ['KWD', 3],
    ['BHD', 3],
    ['OMR', 3],
    ['JOD', 3],
    ['TND', 3],
  ])('%s amounts carry %i decimals', (currency, units) => {
    expect(minorUnitsOf(currency)).toBe(units);
    const text = Money.of('1234.5678', currency).round('half-up').toString();
    expect(text.includes('.') ? text.split('.')[1].length : 0).toBe(units);
  });

  it('a whole amount prints with its currency minor units: USD 210.00, JPY 7000, KWD 1.500', () => {
    expect(usd('210').toString()).toBe('210.00');
    expect(Money.of('7000', 'JPY').toString()).toBe('7000');
    expect(Money.of('1.5', 'KWD').toString()).toBe('1.500');
  });

  it('an unknown currency is rejected as invalid input', () => {
    expect(() => minorUnitsOf('XXX')).toThrow(ValidationError);
    expect(() => Money.of('1', 'usd')).toThrow(ValidationError);
  });

  it('a non-decimal or non-finite amount is rejected as invalid input', () => {
    expect(() => Money.of('12,50', 'USD')).toThrow(ValidationError);
    expect(() => Money.of('Infinity', 'USD')).toThrow(ValidationError);
    expect(() => Money.of('NaN', 'USD')).toThrow(ValidationError);
  });

  it('amounts of different currencies never combine', () => {
    expect(() => usd('1').plus(Money.of('1', 'EUR'))).toThrow(ValidationError);
    expect(() => usd('1').minus(Money.of('1', 'JPY'))).toThrow(ValidationError);
    expect(() => Money.sum([usd('1'), Money.of('1', 'EUR')], 'USD')).toThrow(ValidationError);
  });

  it('arithmetic is decimal, not binary floating point: 0.10 + 0.20 is exactly 0.30', () => {
    expect(usd('0.10').plus(usd('0.20')).equals(usd('0.30'))).toBe(true);
    expect(usd('0.30').minus(usd('0.10')).equals(usd('0.20'))).toBe(true);
  });

  it('prorating never rounds implicitly: 70 × 9/31 stays 20.3225806451… until rounded', () => {
    const exact = usd('70').timesFraction({ days: 9, of: 31 });
    expect(exact.isWholeMinorUnits()).toBe(false);
    expect(exact.amount.toSignificantDigits(12).toString()).toBe('20.3225806452');
    expect(exact.round('half-up').toString()).toBe('20.32');
  });

  it('labels carry the currency symbol and the sign of credits: $70.00, -$60.96, ¥7000, KWD 1.500', () => {
    expect(usd('70').format()).toBe('$70.00');
    expect(usd('-60.96').format()).toBe('-$60.96');
    expect(Money.of('7000', 'JPY').format()).toBe('¥7000');
    expect(Money.of('1.5', 'KWD').format()).toBe('KWD 1.500');
  });
});

describe('R5 rounding modes', () => {
  it.each<[string, string, RoundingMode, string]>([
    // half-up: ties away from zero, for charges and credits alike
    ['0.125', 'USD', 'half-up', '0.13'],
    ['-0.125', 'USD', 'half-up', '-0.13'],
    ['0.124999', 'USD', 'half-up', '0.12'],
    ['6.485', 'USD', 'half-up', '6.49'],
    // half-even: ties to the even minor unit
    ['0.125', 'USD', 'half-even', '0.12'],
    ['0.135', 'USD', 'half-even', '0.14'],
    ['-0.125', 'USD', 'half-even', '-0.12'],
    ['6.485', 'USD', 'half-even', '6.48'],
    ['0.1251', 'USD', 'half-even', '0.13'],
    // down: truncates toward zero (a credit is not rounded up in magnitude either)
    ['0.129', 'USD', 'down', '0.12'],
    ['-0.129', 'USD', 'down', '-0.12'],
    ['20.3299', 'USD', 'down', '20.32'],
    // zero-decimal and three-decimal currencies
    ['1234.5', 'JPY', 'half-up', '1235'],
    ['1234.5', 'JPY', 'half-even', '1234'],
    ['1235.5', 'JPY', 'half-even', '1236'],
    ['1234.99', 'KRW', 'down', '1234'],
    ['1.2345', 'KWD', 'half-up', '1.235'],
    ['1.2345', 'BHD', 'half-even', '1.234'],
    ['1.2349', 'TND', 'down', '1.234'],
  ])('%s %s rounded %s is %s', (value, currency, mode, expected) => {
    expect(round(value, currency, mode)).toBe(expected);
  });

  it('a tie produced by a day fraction is a true tie: 12.97 × 15/30 = 6.485 rounds to 6.49 half-up, 6.48 half-even', () => {
    const exact = usd('12.97').timesFraction({ days: 15, of: 30 });
    expect(exact.round('half-up').toString()).toBe('6.49');
    expect(exact.round('half-even').toString()).toBe('6.48');
    expect(exact.round('down').toString()).toBe('6.48');
  });
});

describe('R6 rounding point', () => {
  it('Aloware: $70 × 3 seats from Dec 23 (9/31) at the unit point is 20.32 per seat, 60.96 for the line', () => {
    const { unitAmount, amount } = prorate(usd('70.00'), 3, { days: 9, of: 31 }, HALF_UP_UNIT);
    expect(unitAmount.toString()).toBe('20.32');
    expect(amount.toString()).toBe('60.96');
  });

  it('Aloware: $70 × 3 seats from Dec 23 (9/31) at the line point is 210 × 9/31 = 60.97', () => {
    const { unitAmount, amount } = prorate(usd('70.00'), 3, { days: 9, of: 31 }, HALF_UP_LINE);
    expect(unitAmount.toString()).toBe('20.32');
    expect(amount.toString()).toBe('60.97');
  });

  it('Aloware: one seat added Nov 23 (8/30 of $70) is 18.67', () => {
    expect(prorate(usd('70.00'), 1, { days: 8, of: 30 }, HALF_UP_UNIT).amount.toString()).toBe('18.67');
  });

  it('a credit of 2 seats over 28/30 of $12.97 is -24.22 (unit 12.11), the exact negation of the charge', () => {
    const credit = prorate(usd('12.97'), -2, { days: 28, of: 30 }, HALF_UP_UNIT);
    expect(credit.unitAmount.toString()).toBe('12.11');
    expect(credit.amount.toString()).toBe('-24.22');
  });

  it('annual R12: $600 × 2 seats over 297/365 is 488.22 per seat, 976.44 (unit point) and 976.44 (line point)', () => {
    const unit = prorate(usd('600.00'), 2, { days: 297, of: 365 }, HALF_UP_UNIT);
    expect(unit.unitAmount.toString()).toBe('488.22');
    expect(unit.amount.toString()).toBe('976.44');
    expect(prorate(usd('600.00'), 2, { days: 297, of: 365 }, HALF_UP_LINE).amount.toString()).toBe('976.44');
  });

  it('JPY: ¥1000 × 3 seats over 9/31 is ¥290 per seat, ¥870 (unit point) and ¥871 (line point)', () => {
    // 1000 × 9/31 = 290.32…; 3000 × 9/31 = 870.97…
    expect(prorate(Money.of('1000', 'JPY'), 3, { days: 9, of: 31 }, HALF_UP_UNIT).amount.toString()).toBe('870');
    expect(prorate(Money.of('1000', 'JPY'), 3, { days: 9, of: 31 }, HALF_UP_LINE).amount.toString()).toBe('871');
  });

  it('KWD: 7.125 × 3 seats over 9/31 is 2.069 per seat, 6.207 (unit point) and 6.206 (line point)', () => {
    // 7.125 × 9/31 = 2.06854…; 21.375 × 9/31 = 6.20564…
    const unit = prorate(Money.of('7.125', 'KWD'), 3, { days: 9, of: 31 }, HALF_UP_UNIT);
    expect(unit.unitAmount.toString()).toBe('2.069');
    expect(unit.amount.toString()).toBe('6.207');
    expect(prorate(Money.of('7.125', 'KWD'), 3, { days: 9, of: 31 }, HALF_UP_LINE).amount.toString()).toBe('6.206');
  });
});

describe('money properties', () => {
  it('every currency: a rounded amount prints exactly its minor units and is whole minor units', () => {
    fc.assert(
      fc.property(currencyArb, fc.constantFrom(...MODES), fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }), fc.integer({ min: 0, max: 8 }), (currency, mode, digits, scale) => {
        const value = new Decimal(digits.toString()).div(new Decimal(10).pow(scale));
        const rounded = Money.of(value, currency).round(mode);
        const units = minorUnitsOf(currency);
        const text = rounded.toString();
        const decimals = text.includes('.') ? text.split('.')[1].length : 0;
        expect(decimals).toBe(units);
        expect(rounded.isWholeMinorUnits()).toBe(true);
        // rounding moves an amount by less than one minor unit
        expect(rounded.amount.minus(value).abs().lt(new Decimal(10).pow(-units))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('every currency and rounding: prorated unit and line amounts are whole minor units', () => {
    fc.assert(
      fc.property(pricedArb, fc.integer({ min: -50, max: 50 }), fractionArb, roundingArb, ([currency, price], quantity, fraction, rounding) => {
        const { unitAmount, amount } = prorate(Money.of(price, currency), quantity, fraction, rounding);
        expect(unitAmount.isWholeMinorUnits()).toBe(true);
        expect(amount.isWholeMinorUnits()).toBe(true);
        expect(amount.toString().split('.')[1]?.length ?? 0).toBe(minorUnitsOf(currency));
      }),
      { numRuns: 200 },
    );
  });

  it('a full period (days === of) costs exactly price × quantity, at every rounding', () => {
    fc.assert(
      fc.property(pricedArb, fc.integer({ min: -100, max: 100 }), fc.integer({ min: 28, max: 366 }), roundingArb, ([currency, price], quantity, of, rounding) => {
        const { unitAmount, amount } = prorate(Money.of(price, currency), quantity, { days: of, of }, rounding);
        expect(unitAmount.amount.eq(new Decimal(price))).toBe(true);
        expect(amount.amount.eq(new Decimal(price).times(quantity))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('unit point: the line amount is exactly the rounded unit amount × quantity', () => {
    fc.assert(
      fc.property(pricedArb, fc.integer({ min: -100, max: 100 }), fractionArb, fc.constantFrom(...MODES), ([currency, price], quantity, fraction, mode) => {
        const { unitAmount, amount } = prorate(Money.of(price, currency), quantity, fraction, { mode, point: 'unit' });
        expect(amount.amount.eq(unitAmount.amount.times(quantity))).toBe(true);
        // and the unit amount is the rounded exact unit price × fraction
        const exact = new Decimal(price).times(fraction.days).div(fraction.of);
        expect(
          unitAmount.amount
            .minus(exact)
            .abs()
            .lt(new Decimal(10).pow(-minorUnitsOf(currency))),
        ).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('line point: the line amount is within half a minor unit (one for down) of the exact price × quantity × fraction', () => {
    fc.assert(
      fc.property(pricedArb, fc.integer({ min: -100, max: 100 }), fractionArb, fc.constantFrom(...MODES), ([currency, price], quantity, fraction, mode) => {
        const { amount } = prorate(Money.of(price, currency), quantity, fraction, { mode, point: 'line' });
        const exact = new Decimal(price).times(quantity).times(fraction.days).div(fraction.of);
        const unit = new Decimal(10).pow(-minorUnitsOf(currency));
        const tolerance = mode === 'down' ? unit : unit.div(2);
        expect(amount.amount.minus(exact).abs().lte(tolerance)).toBe(true);
        if (mode === 'down') expect(amount.amount.abs().lte(exact.abs())).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('credits are symmetric: a negative quantity gives the exact negation of the positive one', () => {
    fc.assert(
      fc.property(pricedArb, fc.integer({ min: 1, max: 100 }), fractionArb, roundingArb, ([currency, price], quantity, fraction, rounding) => {
        const charge = prorate(Money.of(price, currency), quantity, fraction, rounding);
        const credit = prorate(Money.of(price, currency), -quantity, fraction, rounding);
        expect(credit.amount.equals(charge.amount.negate())).toBe(true);
        expect(credit.unitAmount.equals(charge.unitAmount)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('Money.sum of parts equals the sum of the parts in minor units, whatever their order', () => {
    fc.assert(
      fc.property(currencyArb, fc.array(fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }), { maxLength: 40 }), (currency, minors) => {
        const units = minorUnitsOf(currency);
        const parts = minors.map((minor) => Money.of(new Decimal(minor.toString()).div(10 ** units), currency));
        const expected = minors.reduce((total, minor) => total + minor, 0n);
        const total = Money.sum(parts, currency);
        expect(total.amount.times(10 ** units).toFixed(0)).toBe(expected.toString());
        expect(Money.sum([...parts].reverse(), currency).equals(total)).toBe(true);
        expect(total.currency).toBe(currency);
      }),
      { numRuns: 200 },
    );
  });
});
