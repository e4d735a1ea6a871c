/**
 * True-ups (R12) under re-runs, concurrency and catch-up (R14), late member events (R9),
 * fixed-seat plans (R8) and accrual across a period boundary, against DynamoDB Local.
 * Every amount below was computed by hand from billing-rules.md.
 */
import { runBillingJob } from '../../shared/jobs/billing-jobs';
import type { Dependencies } from '../../shared/jobs/dependencies';
import type { BillingStore } from '../../shared/store/dynamo-store';
import type { Plan } from '../../shared/domain/catalog';
import type { Proration } from '../../shared/domain/proration';
import { deliver, issued, makeCatalog, seed, setupDynamo, storedInvoices, subscribe, summary, UPRO_MONTHLY, makeWorkspace } from './harness';

const dynamo = setupDynamo();

const PRO_QUARTERLY: Plan = { ...UPRO_MONTHLY, id: 'pro-quarterly', name: 'Pro', interval: 'quarter', seatPrice: '150.00' };
const PRO_ANNUAL: Plan = { ...UPRO_MONTHLY, id: 'pro-annual', interval: 'year', seatPrice: '600.00' };
const FIXED10: Plan = { ...UPRO_MONTHLY, id: 'fixed10', seatMode: 'fixed' };

async function invoicing(deps: Dependencies, scheduledTime: string) {
  return runBillingJob(deps, 'invoicing', { scheduledTime });
}

async function accrual(deps: Dependencies, scheduledTime: string) {
  return runBillingJob(deps, 'accrual', { scheduledTime });
}

async function unbilled(store: BillingStore, workspace = 'acme'): Promise<Proration[]> {
  const subscription = await store.getActiveSubscription(workspace);
  if (!subscription) throw new Error(`no active subscription for ${workspace}`);
  return store.listUnbilledProrations(subscription);
}

function reportedInvoices(report: Awaited<ReturnType<typeof invoicing>>) {
  return report.workspaces.flatMap((entry) => entry.invoices);
}

function reportedProrations(report: Awaited<ReturnType<typeof accrual>>) {
  return report.workspaces.flatMap((entry) => entry.prorations);
}

describe('true-ups (R12) and accrual (R9) under re-runs, concurrency and late events (DynamoDB Local)', () => {
  test('R12/R14: the quarterly Mar 1 true-up (40/90 × 150 = 66.67) is issued once across sequential and concurrent runs', async () => {
    const w = await dynamo.world();
    await seed(w.store, [makeWorkspace()], makeCatalog([UPRO_MONTHLY, PRO_QUARTERLY]));
    await subscribe(w.deps, 'acme', '2027-01-01T08:00:00Z', '2027-01-01T09:00:00Z', 1, PRO_QUARTERLY.id);
    const first = await storedInvoices(w.store, 'acme');
    expect(summary(first)).toEqual([{ kind: 'first', date: '2027-01-01', amountDue: '150.00' }]);
    expect(first[0]).toMatchObject({ periodStart: '2027-01-01', periodEnd: '2027-03-31' });

    // Feb 1: a true-up date inside the term, but nothing to bill: no invoice (R12).
    const february = await invoicing(w.deps, '2027-02-01T00:05:00Z');
    expect(reportedInvoices(february)).toEqual([]);
    expect(await w.store.listInvoices('acme')).toHaveLength(1);

    expect(await deliver(w.deps, 'member.joined', '2027-02-20T10:00:00Z', { workspace: 'acme', member: 'u2', role: 'member' })).toEqual({ status: 'stored' });

    const once = await invoicing(w.deps, '2027-03-01T00:05:00Z');
    const twice = await invoicing(w.deps, '2027-03-01T00:05:00Z');
    const concurrent = await Promise.all(Array.from({ length: 4 }, () => invoicing(w.newDeps(), '2027-03-01T00:05:00Z')));

    const expected = [{ kind: 'true-up', date: '2027-03-01', amountDue: '66.67' }];
    expect(summary(reportedInvoices(once))).toEqual(expected);
    expect(reportedInvoices(twice)).toEqual([]);
    expect(concurrent.flatMap(reportedInvoices)).toEqual([]);

    const invoices = await storedInvoices(w.store, 'acme');
    expect(summary(invoices)).toEqual([{ kind: 'first', date: '2027-01-01', amountDue: '150.00' }, ...expected]);
    const trueUp = invoices[1];
    expect(trueUp).toMatchObject({ subtotal: '66.67', creditApplied: '0.00', periodStart: '2027-03-01', periodEnd: '2027-03-31' });
    expect(trueUp.lines).toEqual([expect.objectContaining({ kind: 'proration', quantity: 1, unitAmount: '66.67', amount: '66.67', periodStart: '2027-02-20', periodEnd: '2027-03-31' })]);
    expect(await unbilled(w.store)).toEqual([]);

    await w.publishAll();
    await w.publishAll();
    const trueUps = issued(w.published).filter((invoice) => invoice.kind === 'true-up');
    expect(summary(trueUps)).toEqual(expected);
    expect(trueUps[0].id).toBe(trueUp.id);
    expect(await w.store.listOutbox()).toEqual([]);
  });

  test('R12: annual $600, 10 seats, 2 added Mar 10 → 976.44 on the Apr 1 true-up; a lone Jun 1 run catches it up, dated Apr 1, and nothing for May/Jun', async () => {
    const catalog = makeCatalog([UPRO_MONTHLY, PRO_ANNUAL]);
    const setUp = async () => {
      const w = await dynamo.world();
      await seed(w.store, [makeWorkspace()], catalog);
      await subscribe(w.deps, 'acme', '2027-01-01T08:00:00Z', '2027-01-01T09:00:00Z', 10, PRO_ANNUAL.id);
      expect(summary(await w.store.listInvoices('acme'))).toEqual([{ kind: 'first', date: '2027-01-01', amountDue: '6000.00' }]);
      return w;
    };
    const join = async (deps: Dependencies) => {
      for (const member of ['u11', 'u12']) {
        expect(await deliver(deps, 'member.joined', '2027-03-10T10:00:00Z', { workspace: 'acme', member, role: 'member' })).toEqual({ status: 'stored' });
      }
    };
    // 600 × 297/365 = 488.2192 → 488.22 per seat, × 2.
    const trueUpLine = expect.objectContaining({ kind: 'proration', quantity: 2, unitAmount: '488.22', amount: '976.44', periodStart: '2027-03-10', periodEnd: '2027-12-31' });
    const expected = [
      { kind: 'first', date: '2027-01-01', amountDue: '6000.00' },
      { kind: 'true-up', date: '2027-04-01', amountDue: '976.44' },
    ];

    // On schedule: Feb 1 and Mar 1 have nothing to bill, Apr 1 bills the two seats.
    const onTime = await setUp();
    expect(reportedInvoices(await invoicing(onTime.deps, '2027-02-01T00:05:00Z'))).toEqual([]);
    expect(reportedInvoices(await invoicing(onTime.deps, '2027-03-01T00:05:00Z'))).toEqual([]);
    await join(onTime.deps);
    const april = await invoicing(onTime.deps, '2027-04-01T00:05:00Z');
    expect(summary(reportedInvoices(april))).toEqual([expected[1]]);
    const onTimeInvoices = await storedInvoices(onTime.store, 'acme');
    expect(summary(onTimeInvoices)).toEqual(expected);
    expect(onTimeInvoices[1].lines).toEqual([trueUpLine]);

    // Catch-up: no run at all between the start and Jun 1.
    const late = await setUp();
    await join(late.deps);
    const june = await invoicing(late.deps, '2027-06-01T00:05:00Z');
    expect(summary(reportedInvoices(june))).toEqual([expected[1]]);
    const lateInvoices = await storedInvoices(late.store, 'acme');
    expect(summary(lateInvoices)).toEqual(expected);
    expect(lateInvoices[1].lines).toEqual([trueUpLine]);
    expect(lateInvoices[1]).toMatchObject({ periodStart: '2027-04-01', periodEnd: '2027-12-31' });
    expect(lateInvoices.filter((invoice) => invoice.date >= '2027-05-01')).toEqual([]);
    // Again, later the same day: nothing.
    expect(reportedInvoices(await invoicing(late.deps, '2027-06-01T06:05:00Z'))).toEqual([]);
    expect(await late.store.listInvoices('acme')).toHaveLength(2);
  });

  test('R9 late event: a removal dated Nov 3 delivered after the Nov 5 join was accrued becomes an adjustment dated Nov 3', async () => {
    const w = await dynamo.world();
    await seed(w.store);
    await subscribe(w.deps, 'acme', '2026-11-01T08:00:00Z', '2026-11-01T09:00:00Z', 3);
    expect(summary(await w.store.listInvoices('acme'))).toEqual([{ kind: 'first', date: '2026-11-01', amountDue: '210.00' }]);

    expect(await deliver(w.deps, 'member.joined', '2026-11-05T10:00:00Z', { workspace: 'acme', member: 'u4', role: 'member' })).toEqual({ status: 'stored' });
    const nov6 = await accrual(w.deps, '2026-11-06T00:05:00Z');
    // 70 × 26/30 = 60.6667 → 60.67.
    const joined = { date: '2026-11-05', delta: 1, fromQuantity: 3, toQuantity: 4, days: 26, of: 30, unitAmount: '60.67', amount: '60.67', adjustment: false };
    expect(reportedProrations(nov6)).toEqual([expect.objectContaining(joined)]);

    // u2's removal happened on Nov 3 but arrives only now.
    expect(await deliver(w.deps, 'member.removed', '2026-11-03T10:00:00Z', { workspace: 'acme', member: 'u2' })).toEqual({ status: 'stored' });
    const nov7 = await accrual(w.deps, '2026-11-07T00:05:00Z');
    // 70 × 28/30 = 65.3333 → 65.33, credited.
    const removed = { date: '2026-11-03', delta: -1, fromQuantity: 3, toQuantity: 2, periodStart: '2026-11-03', periodEnd: '2026-11-30', days: 28, of: 30, amount: '-65.33', adjustment: true };
    expect(reportedProrations(nov7)).toEqual([expect.objectContaining(removed)]);
    expect(reportedProrations(nov7)[0].description).toMatch(/^Adjustment:/);
    expect(await unbilled(w.store)).toEqual([expect.objectContaining(joined), expect.objectContaining(removed)]);

    // A re-run adds nothing.
    expect(reportedProrations(await accrual(w.deps, '2026-11-07T00:05:00Z'))).toEqual([]);

    const december = await invoicing(w.deps, '2026-12-01T00:05:00Z');
    // 210.00 − 65.33 + 60.67 = 205.34.
    expect(summary(reportedInvoices(december))).toEqual([{ kind: 'renewal', date: '2026-12-01', amountDue: '205.34' }]);
    const renewal = (await storedInvoices(w.store, 'acme')).find((invoice) => invoice.kind === 'renewal');
    expect(renewal?.lines).toEqual([
      expect.objectContaining({ kind: 'proration', description: expect.stringMatching(/^Adjustment:/), quantity: -1, amount: '-65.33', periodStart: '2026-11-03', periodEnd: '2026-11-30' }),
      expect.objectContaining({
        kind: 'proration',
        description: expect.not.stringMatching(/^Adjustment:/),
        quantity: 1,
        unitAmount: '60.67',
        amount: '60.67',
        periodStart: '2026-11-05',
        periodEnd: '2026-11-30',
      }),
      expect.objectContaining({ kind: 'seats', quantity: 3, unitAmount: '70.00', amount: '210.00', periodStart: '2026-12-01', periodEnd: '2026-12-31' }),
    ]);
    expect(renewal?.subtotal).toBe('205.34');
    expect(await unbilled(w.store)).toEqual([]);
  });

  test('R8 fixed seats: a third member raises Seat Limit Exceeded and is never charged; buying a seat Nov 16 accrues 35.00 and renews 3 seats', async () => {
    const catalog = makeCatalog([UPRO_MONTHLY, FIXED10]);
    const setUp = async () => {
      const w = await dynamo.world();
      await seed(w.store, [makeWorkspace()], catalog);
      for (const [member, role] of [
        ['u1', 'owner'],
        ['u2', 'member'],
      ]) {
        expect(await deliver(w.deps, 'member.joined', '2026-11-01T08:00:00Z', { workspace: 'acme', member, role })).toEqual({ status: 'stored' });
      }
      expect(await deliver(w.deps, 'subscription.started', '2026-11-01T09:00:00Z', { workspace: 'acme', plan: FIXED10.id, seats: 2 })).toEqual({ status: 'stored' });
      expect(summary(await w.store.listInvoices('acme'))).toEqual([{ kind: 'first', date: '2026-11-01', amountDue: '140.00' }]);
      expect(await deliver(w.deps, 'member.joined', '2026-11-10T10:00:00Z', { workspace: 'acme', member: 'u3', role: 'member' })).toEqual({ status: 'stored' });
      await w.publishAll();
      return w;
    };

    // Without a purchase: a warning, no charge, and December still bills the 2 seats owned.
    const warned = await setUp();
    const warnings = warned.published.filter((event) => event.detailType === 'Seat Limit Exceeded');
    expect(warnings).toHaveLength(1);
    expect(warnings[0].detail).toMatchObject({ workspace: 'acme', billableMembers: 3, seats: 2 });
    expect(reportedProrations(await accrual(warned.deps, '2026-11-11T00:05:00Z'))).toEqual([]);
    expect(await unbilled(warned.store)).toEqual([]);
    await invoicing(warned.deps, '2026-12-01T00:05:00Z');
    const plain = (await storedInvoices(warned.store, 'acme')).find((invoice) => invoice.kind === 'renewal');
    expect(plain).toMatchObject({ date: '2026-12-01', amountDue: '140.00' });
    expect(plain?.lines).toEqual([expect.objectContaining({ kind: 'seats', quantity: 2, unitAmount: '70.00', amount: '140.00' })]);

    // With one seat bought on Nov 16: 70 × 15/30 = 35.00 accrued, then 3 seats from Dec 1.
    const bought = await setUp();
    expect(bought.published.filter((event) => event.detailType === 'Seat Limit Exceeded')).toHaveLength(1);
    expect(await deliver(bought.deps, 'seats.purchased', '2026-11-16T12:00:00Z', { workspace: 'acme', seats: 1, requestedBy: 'u1' })).toEqual({ status: 'stored' });
    expect(await unbilled(bought.store)).toEqual([expect.objectContaining({ date: '2026-11-16', delta: 1, days: 15, of: 30, unitAmount: '35.00', amount: '35.00' })]);
    // No invoice of its own (R9).
    expect(await bought.store.listInvoices('acme')).toHaveLength(1);
    const report = await invoicing(bought.deps, '2026-12-01T00:05:00Z');
    expect(summary(reportedInvoices(report))).toEqual([{ kind: 'renewal', date: '2026-12-01', amountDue: '245.00' }]);
    const renewal = (await storedInvoices(bought.store, 'acme')).find((invoice) => invoice.kind === 'renewal');
    expect(renewal?.lines).toEqual([
      expect.objectContaining({ kind: 'proration', quantity: 1, unitAmount: '35.00', amount: '35.00', periodStart: '2026-11-16', periodEnd: '2026-11-30' }),
      expect.objectContaining({ kind: 'seats', quantity: 3, unitAmount: '70.00', amount: '210.00', periodStart: '2026-12-01', periodEnd: '2026-12-31' }),
    ]);
    await bought.publishAll();
    expect(bought.published.filter((event) => event.detailType === 'Seat Limit Exceeded')).toHaveLength(1);
  });

  test('R9/R14 catch-up across a period boundary: an accrual run before the Dec 1 renewal keeps the Dec 1 join for the next run (31/31 × 70)', async () => {
    const w = await dynamo.world();
    await seed(w.store);
    await subscribe(w.deps, 'acme', '2026-11-01T08:00:00Z', '2026-11-01T09:00:00Z', 3);
    expect(await deliver(w.deps, 'member.joined', '2026-12-01T10:00:00Z', { workspace: 'acme', member: 'u4', role: 'member' })).toEqual({ status: 'stored' });

    // No job ran on Dec 1 or 2. The accrual job fires first: the subscription is still in November.
    const early = await accrual(w.deps, '2026-12-03T00:05:00Z');
    expect(reportedProrations(early)).toEqual([]);
    expect(await w.store.listInvoices('acme')).toHaveLength(1);

    // Then the invoicing job renews Dec 1 at the count at the end of Nov 30.
    const renewal = await invoicing(w.deps, '2026-12-03T00:05:00Z');
    expect(summary(reportedInvoices(renewal))).toEqual([{ kind: 'renewal', date: '2026-12-01', amountDue: '210.00' }]);

    // The next accrual run still finds the Dec 1 change.
    const next = await accrual(w.deps, '2026-12-03T01:05:00Z');
    const expected = { date: '2026-12-01', delta: 1, fromQuantity: 3, toQuantity: 4, periodStart: '2026-12-01', periodEnd: '2026-12-31', days: 31, of: 31, unitAmount: '70.00', amount: '70.00' };
    expect(reportedProrations(next)).toEqual([expect.objectContaining(expected)]);
    expect(await unbilled(w.store)).toEqual([expect.objectContaining(expected)]);

    const january = await invoicing(w.deps, '2027-01-01T00:05:00Z');
    expect(summary(reportedInvoices(january))).toEqual([{ kind: 'renewal', date: '2027-01-01', amountDue: '350.00' }]);
    const jan = (await storedInvoices(w.store, 'acme')).find((invoice) => invoice.date === '2027-01-01');
    expect(jan?.lines).toEqual([
      expect.objectContaining({ kind: 'proration', quantity: 1, unitAmount: '70.00', amount: '70.00', periodStart: '2026-12-01', periodEnd: '2026-12-31' }),
      expect.objectContaining({ kind: 'seats', quantity: 4, unitAmount: '70.00', amount: '280.00', periodStart: '2027-01-01', periodEnd: '2027-01-31' }),
    ]);
  });
});
