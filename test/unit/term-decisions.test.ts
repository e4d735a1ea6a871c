import { Account } from './account';
import { joins, makeContext, makePlan, makeWorkspace, memberEvent } from './fixtures';

describe('decisions the rules state for quarterly and annual terms (R9, R12, R18)', () => {
  test("R9 seatDecrease none, annual $600 from 1 Jan: 10 → 5 on 10 Feb, 12 on 10 May charges 2 seats above the term's high-water mark of 10 (236/365: 2 × 387.95 on 1 Jun), the 1 Mar true-up does not reset it", () => {
    const members = [
      ...joins('2027-01-01T08:00:00Z', 10),
      ...['u6', 'u7', 'u8', 'u9', 'u10'].map((member) => memberEvent('2027-02-10T10:00:00Z', 'member.removed', member)),
      ...joins('2027-05-10T10:00:00Z', 7, 'n'),
    ];
    const annual = makePlan({ id: 'upro-annual', interval: 'year', seatPrice: '600.00' });
    const account = new Account(makeContext(members, [annual], makeWorkspace({}, { seatDecrease: 'none' })));
    account.start('2027-01-01T09:00:00Z');
    account.runDaily('2027-01-02', '2027-07-01');
    expect(account.invoices.map((invoice) => [invoice.kind, invoice.date, invoice.lines.map((line) => [line.quantity, line.amount])])).toEqual([
      ['first', '2027-01-01', [[10, '6000.00']]],
      ['true-up', '2027-06-01', [[2, '775.90']]],
    ]);
  });

  test('R12 a true-up whose only proration rounds to zero is still issued, at 0 ($0.01/seat/year, a seat on 20 Nov: 42/365 of a cent)', () => {
    const members = [...joins('2027-01-01T08:00:00Z', 1), memberEvent('2027-11-20T10:00:00Z', 'member.joined', 'u2')];
    const account = new Account(makeContext(members, [makePlan({ id: 'penny-annual', interval: 'year', seatPrice: '0.01' })]));
    account.start('2027-01-01T09:00:00Z');
    account.runDaily('2027-01-02', '2027-12-01');
    const trueUp = account.invoiceOn('2027-12-01');
    expect(trueUp).toMatchObject({ kind: 'true-up', subtotal: '0.00', amountDue: '0.00' });
    expect(trueUp?.lines.map((line) => [line.kind, line.quantity, line.amount])).toEqual([['proration', 1, '0.00']]);
  });

  test('R18 plan AI credits are granted in full on a leading stub (23 Dec start: 1,000), then again at each period start', () => {
    const account = new Account(makeContext(joins('2026-12-23T08:00:00Z', 3), [makePlan({ aiCreditsPerPeriod: 1000 })]));
    account.start('2026-12-23T09:00:00Z');
    expect(account.first.lines.map((line) => line.amount)).toEqual(['60.96']);
    expect(account.balance.aiCredits).toBe(1000);
    account.run('2027-01-01');
    expect(account.balance.aiCredits).toBe(2000);
  });
});
