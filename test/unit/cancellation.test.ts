import fc from 'fast-check';
import { addDays, firstAnchorOnOrAfter, type Interval } from '../../shared/domain/calendar';
import type { MemberEvent } from '../../shared/domain/members';
import { Account } from './account';
import { joins, makeContext, makePlan, memberEvent } from './fixtures';

const UPRO = makePlan({ id: 'upro', name: 'uPro', seatPrice: '70.00' });
const ANNUAL = makePlan({ id: 'upro-annual', name: 'uPro Annual', interval: 'year', seatPrice: '600.00' });

function amounts(account: Account) {
  return account.invoices.map((invoice) => [invoice.kind, invoice.date, invoice.lines.map((line) => line.amount)]);
}

describe('R20 cancellation at period end (the default)', () => {
  test('monthly, canceled 15 Jan at period end: the 10 Jan seat is billed on 1 Feb (22/31 × $70 = 49.68), a 20 Jan join still accrues (12/31 × $70 = 27.10), nothing renews', () => {
    const members = [...joins('2027-01-01T08:00:00Z', 2), memberEvent('2027-01-10T09:00:00Z', 'member.joined', 'u3'), memberEvent('2027-01-20T09:00:00Z', 'member.joined', 'u4')];
    const account = new Account(makeContext(members, [UPRO]));
    account.start('2027-01-01T09:00:00Z');
    account.runDaily('2027-01-02', '2027-01-14');
    account.cancel('2027-01-15T09:00:00Z', true);
    account.runDaily('2027-01-15', '2027-03-02');
    // u4 joined on 20 Jan, inside the period that still runs: accrued as usual (12/31 × 70 = 27.10).
    expect(amounts(account)).toEqual([
      ['first', '2027-01-01', ['140.00']],
      ['renewal', '2027-02-01', ['49.68', '27.10']],
    ]);
    expect(account.subscription.status).toBe('ended');
  });
});

describe('R20 immediate cancellation (atPeriodEnd: false)', () => {
  test('monthly, canceled 15 Jan: the 10 Jan seat (49.68) is billed on 1 Feb, a 20 Jan join and a 25 Jan removal accrue nothing, no credit for 15–31 Jan', () => {
    const members = [
      ...joins('2027-01-01T08:00:00Z', 2),
      memberEvent('2027-01-10T09:00:00Z', 'member.joined', 'u3'),
      memberEvent('2027-01-20T09:00:00Z', 'member.joined', 'u4'),
      memberEvent('2027-01-25T09:00:00Z', 'member.removed', 'u2'),
    ];
    const account = new Account(makeContext(members, [UPRO]));
    account.start('2027-01-01T09:00:00Z');
    account.runDaily('2027-01-02', '2027-01-14');
    account.cancel('2027-01-15T09:00:00Z', false);
    account.runDaily('2027-01-15', '2027-04-02');
    expect(amounts(account)).toEqual([
      ['first', '2027-01-01', ['140.00']],
      ['renewal', '2027-02-01', ['49.68']],
    ]);
    expect(account.prorations.every((proration) => proration.date < '2027-01-15')).toBe(true);
    expect(account.subscription.status).toBe('ended');
    expect(account.balance.billingCredit.toString()).toBe('0.00');
  });

  test('monthly, canceled 15 Jan with nothing accrued before: no last invoice, the subscription ends on 1 Feb', () => {
    const members = [...joins('2027-01-01T08:00:00Z', 2), memberEvent('2027-01-20T09:00:00Z', 'member.joined', 'u3')];
    const account = new Account(makeContext(members, [UPRO]));
    account.start('2027-01-01T09:00:00Z');
    account.cancel('2027-01-15T09:00:00Z', false);
    account.runDaily('2027-01-02', '2027-01-31');
    expect(account.subscription.status).toBe('active');
    account.runDaily('2027-02-01', '2027-03-02');
    expect(amounts(account)).toEqual([['first', '2027-01-01', ['140.00']]]);
    expect(account.subscription.status).toBe('ended');
  });

  test('annual $600, 10 seats, 2 added 10 Mar, canceled 20 Mar: the 1 Apr true-up bills 2 × 488.22 and is the last invoice (no May true-up, no renewal)', () => {
    const members = [...joins('2027-01-01T08:00:00Z', 10), ...joins('2027-03-10T09:00:00Z', 2, 'n'), memberEvent('2027-03-25T09:00:00Z', 'member.joined', 'late')];
    const account = new Account(makeContext(members, [ANNUAL]));
    account.start('2027-01-01T09:00:00Z');
    account.runDaily('2027-01-02', '2027-03-19');
    account.cancel('2027-03-20T09:00:00Z', false);
    account.runDaily('2027-03-20', '2028-01-02');
    expect(amounts(account)).toEqual([
      ['first', '2027-01-01', ['6000.00']],
      ['true-up', '2027-04-01', ['976.44']],
    ]);
    expect(account.subscription.status).toBe('ended');
    expect(account.subscription.nextTrueUp).toBeNull();
  });

  test("annual, canceled on its 1 Feb true-up date: that day's true-up is issued first, nothing after", () => {
    const members = [...joins('2027-01-01T08:00:00Z', 1), memberEvent('2027-01-20T09:00:00Z', 'member.joined', 'u2'), memberEvent('2027-02-10T09:00:00Z', 'member.joined', 'u3')];
    const account = new Account(makeContext(members, [ANNUAL]));
    account.start('2027-01-01T09:00:00Z');
    account.runDaily('2027-01-02', '2027-01-31');
    account.cancel('2027-02-01T09:00:00Z', false);
    account.runDaily('2027-02-01', '2028-01-02');
    // 20 Jan–31 Dec is 346 days: 600 × 346/365 = 568.767… → 568.77
    expect(amounts(account)).toEqual([
      ['first', '2027-01-01', ['600.00']],
      ['true-up', '2027-02-01', ['568.77']],
    ]);
    expect(account.subscription.status).toBe('ended');
  });

  test('a later cancellation at period end never extends an immediate one', () => {
    const account = new Account(makeContext(joins('2027-01-01T08:00:00Z', 1), [UPRO]));
    account.start('2027-01-01T09:00:00Z');
    account.cancel('2027-01-15T09:00:00Z', false);
    account.cancel('2027-01-16T09:00:00Z', true);
    expect(account.subscription.endsAfter).toBe('2027-01-14');
  });

  test('property: canceled immediately on day d, no proration is dated on or after d and no invoice comes after the next anchor', () => {
    const intervals: Interval[] = ['month', 'quarter', 'year'];
    fc.assert(
      fc.property(
        fc.constantFrom(...intervals),
        fc.integer({ min: 1, max: 31 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 120 }),
        fc.array(fc.record({ day: fc.integer({ min: 0, max: 200 }), join: fc.boolean(), member: fc.integer({ min: 1, max: 8 }) }), { maxLength: 25 }),
        (interval, billingDay, startOffset, cancelOffset, changes) => {
          const plan = makePlan({ id: 'p', interval, seatPrice: interval === 'month' ? '70.00' : interval === 'quarter' ? '150.00' : '600.00' });
          const start = addDays('2027-01-01', startOffset);
          const members: MemberEvent[] = [memberEvent(`${start}T08:00:00Z`, 'member.joined', 'u1', 'owner')];
          for (const change of changes) {
            members.push(memberEvent(`${addDays(start, change.day)}T10:00:00Z`, change.join ? 'member.joined' : 'member.removed', `m${change.member}`));
          }
          const account = new Account(makeContext(members, [plan]));
          account.start(`${start}T09:00:00Z`, { billingDay });
          const d = addDays(start, cancelOffset);
          account.runDaily(addDays(start, 1), addDays(d, -1));
          account.cancel(`${d}T12:00:00Z`, false);
          const nextAnchor = firstAnchorOnOrAfter(addDays(d, 1), billingDay);
          account.runDaily(d, addDays(d, 400));
          expect(account.prorations.filter((proration) => proration.date >= d)).toEqual([]);
          expect(account.invoices.filter((invoice) => invoice.date > nextAnchor)).toEqual([]);
          expect(
            account.invoices
              .filter((invoice) => invoice.date > d)
              .flatMap((invoice) => invoice.lines)
              .every((line) => line.kind === 'proration'),
          ).toBe(true);
          expect(account.subscription.status).toBe('ended');
        },
      ),
      { numRuns: 60 },
    );
  });
});
