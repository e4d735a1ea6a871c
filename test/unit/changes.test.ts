import fc from 'fast-check';
import { toBillingDate } from '../../shared/domain/calendar';
import { planChange, classifyPlanChange, type ChangePlan, type ChangeRequest } from '../../shared/domain/changes';
import { planBillingRun, startSubscription } from '../../shared/domain/engine';
import { RejectionError } from '../../shared/domain/errors';
import { emptyBalance } from '../../shared/domain/invoice';
import type { BillingContext } from '../../shared/domain/proration';
import { joins, makeContext, makePlan, makeWorkspace, memberEvent } from './fixtures';
import { Ledger } from './ledger';

const UPRO = makePlan({ id: 'upro', name: 'uPro', seatPrice: '70.00', maximumSeats: 20 });
const UBIZ = makePlan({ id: 'ubiz', name: 'uBiz', seatPrice: '100.00' });
const USTARTER = makePlan({ id: 'ustarter', name: 'uStarter', seatPrice: '20.00', maximumSeats: 2 });
const UBASIC = makePlan({ id: 'ubasic', name: 'uBasic', seatPrice: '50.00' });
const UPRO_ANNUAL = makePlan({ id: 'upro-annual', name: 'uPro Annual', interval: 'year', seatPrice: '700.00' });

/** A workspace with 3 members (u1 the owner) on uPro monthly from 1 Jan 2027, and what it was billed. */
class Workspace3 extends Ledger {
  constructor(
    public ctx: BillingContext,
    planId = 'upro',
  ) {
    super(ctx.workspace.currency);
    const first = startSubscription(ctx, { subscriptionId: 's', planId, at: '2027-01-01T09:00:00Z', date: '2027-01-01', billingDay: 1, seats: null, addonId: null }, emptyBalance('USD'));
    if (first.kind !== 'invoice') throw new Error('no first invoice');
    this.subscription = first.subscription;
    this.balance = first.balance;
    this.invoices.push(first.invoice);
  }

  plan(request: ChangeRequest, at: string, requestedBy = 'u1'): ChangePlan {
    return planChange({ ctx: this.ctx, subscription: this.subscription, unbilled: this.unbilled(), balance: this.balance, request, requestedBy, at, date: toBillingDate(at, 'UTC') });
  }

  change(request: ChangeRequest, at: string, requestedBy = 'u1'): ChangePlan {
    const plan = this.plan(request, at, requestedBy);
    this.apply(plan.steps);
    return plan;
  }

  runTo(asOf: string): void {
    this.apply(planBillingRun(this.ctx, this.subscription, this.unbilled(), this.balance, asOf, { invoice: true }));
  }
}

function newWorkspace(settings = {}): Workspace3 {
  return new Workspace3(
    makeContext(
      joins('2027-01-01T08:00:00Z', 3).map((event, i) => (i === 0 ? { ...event, role: 'owner' } : event)),
      [UPRO, UBIZ, USTARTER, UBASIC, UPRO_ANNUAL],
      makeWorkspace({}, settings),
    ),
  );
}

describe('R16 plan changes', () => {
  test('an upgrade on 10 Jan credits unused uPro time and charges remaining uBiz time, 22 of 31 days, invoiced at once', () => {
    const ws = newWorkspace();
    const plan = ws.change({ type: 'plan.change_requested', plan: 'ubiz' }, '2027-01-10T09:00:00Z');
    expect(plan.invoice?.kind).toBe('change');
    expect(plan.invoice?.lines.map((line) => [line.description, line.amount])).toEqual([
      ['Unused time on 3 × uPro after 10 Jan 2027', '-149.04'],
      ['Remaining time on 3 × uBiz after 10 Jan 2027', '212.91'],
    ]);
    expect(plan.invoice?.amountDue).toBe('63.87');
    ws.runTo('2027-02-01');
    expect(ws.invoices.at(-1)?.lines.map((line) => line.amount)).toEqual(['300.00']);
  });

  test('with upgradeBilling next-invoice the same lines wait for the Feb 1 renewal', () => {
    const ws = newWorkspace({ upgradeBilling: 'next-invoice' });
    const plan = ws.change({ type: 'plan.change_requested', plan: 'ubiz' }, '2027-01-10T09:00:00Z');
    expect(plan.invoice).toBeNull();
    expect(plan.accrued.map((proration) => proration.amount)).toEqual(['-149.04', '212.91']);
    ws.runTo('2027-02-01');
    expect(ws.invoices.at(-1)?.lines.map((line) => line.amount)).toEqual(['-149.04', '212.91', '300.00']);
  });

  test('an upgrade and a downgrade on the same day: the upgrade is invoiced, the downgrade waits for the period end', () => {
    const ws = newWorkspace();
    ws.change({ type: 'plan.change_requested', plan: 'ubiz' }, '2027-01-10T09:00:00Z');
    const down = ws.change({ type: 'plan.change_requested', plan: 'upro' }, '2027-01-10T15:00:00Z');
    expect(down.invoice).toBeNull();
    expect(down.atPeriodEnd).toBe('uPro from 1 Feb 2027');
    ws.runTo('2027-02-01');
    const renewal = ws.invoices.at(-1);
    expect(renewal?.lines.map((line) => [line.description, line.amount])).toEqual([['uPro × 3 seats, February 2027', '210.00']]);
    expect(ws.invoices.filter((invoice) => invoice.kind === 'change')).toHaveLength(1);
  });

  test('a downgrade then an upgrade on the same day: the downgrade is replaced and the upgrade invoiced', () => {
    const ws = newWorkspace();
    expect(ws.change({ type: 'plan.change_requested', plan: 'ubasic' }, '2027-01-10T09:00:00Z').atPeriodEnd).toBe('uBasic from 1 Feb 2027');
    const up = ws.change({ type: 'plan.change_requested', plan: 'ubiz' }, '2027-01-10T15:00:00Z');
    expect(up.invoice?.amountDue).toBe('63.87');
    expect(ws.subscription.pendingPlanId).toBeNull();
    ws.runTo('2027-02-01');
    expect(ws.invoices.at(-1)?.lines.map((line) => line.description)).toEqual(['uBiz × 3 seats, February 2027']);
  });

  test('a downgrade that the new plan cannot hold is refused as usage-exceeds-plan (R15)', () => {
    const ws = newWorkspace();
    expect(() => ws.plan({ type: 'plan.change_requested', plan: 'ustarter' }, '2027-01-10T09:00:00Z')).toThrow(expect.objectContaining({ reason: 'usage-exceeds-plan' }));
  });

  test('monthly to annual on 20 Jan: 12/31 unused credited, a 365-day term from today, billing day 20', () => {
    const ws = newWorkspace();
    const plan = ws.change({ type: 'plan.change_requested', plan: 'upro-annual' }, '2027-01-20T09:00:00Z');
    expect(plan.invoice?.lines.map((line) => line.amount)).toEqual(['-81.30', '2100.00']);
    expect(plan.invoice?.periodEnd).toBe('2028-01-19');
    expect(ws.subscription.billingDay).toBe(20);
  });

  test('classifies changes by interval, then by seat price', () => {
    expect(classifyPlanChange(UPRO, UBIZ)).toBe('upgrade');
    expect(classifyPlanChange(UBIZ, UPRO)).toBe('downgrade');
    expect(classifyPlanChange(UPRO, UPRO_ANNUAL)).toBe('interval-up');
    expect(classifyPlanChange(UPRO_ANNUAL, UPRO)).toBe('interval-down');
  });
});

describe('R19 preview equals apply', () => {
  test('planning the same change twice gives the same invoice, lines and balance (one code path)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 31 }),
        fc.constantFrom<ChangeRequest>(
          { type: 'plan.change_requested', plan: 'ubiz' },
          { type: 'plan.change_requested', plan: 'upro-annual' },
          { type: 'plan.change_requested', plan: 'ustarter' },
          { type: 'plan.change_requested', plan: 'upro' },
          { type: 'plan.change_requested', plan: 'upro-annual-small' },
          { type: 'plan.change_requested', plan: 'ubiz-small' },
          { type: 'storage_addon.changed', addon: 'storage-1tb' },
          { type: 'storage_addon.changed', addon: null },
        ),
        fc.boolean(),
        (day, request, paymentMethod) => {
          const ws = workspaceWith({ paymentMethod, storageUsedGb: 500 });
          const at = `2027-01-${String(day).padStart(2, '0')}T12:00:00Z`;
          let preview: ChangePlan | RejectionError;
          let applied: ChangePlan | RejectionError;
          try {
            preview = ws.plan(request, at);
          } catch (error) {
            preview = error as RejectionError;
          }
          try {
            applied = ws.change(request, at);
          } catch (error) {
            applied = error as RejectionError;
          }
          expect(applied).toEqual(preview);
        },
      ),
      { numRuns: 120 },
    );
  });
});

const STORAGE_1TB = { id: 'storage-1tb', name: 'Storage 1 TB', price: '20.00', storageGb: 1000 };
const STORAGE_2TB = { id: 'storage-2tb', name: 'Storage 2 TB', price: '35.00', storageGb: 2000 };
const UPRO_ANNUAL_SMALL = makePlan({ id: 'upro-annual-small', name: 'uPro Annual Small', interval: 'year', seatPrice: '700.00', maximumSeats: 2 });
const UBIZ_SMALL = makePlan({ id: 'ubiz-small', name: 'uBiz Small', seatPrice: '100.00', maximumSeats: 2 });
const UPRO_MIN5 = makePlan({ id: 'upro-min5', name: 'uPro Team', seatPrice: '70.00', minimumSeats: 5 });

/** Three members (u1 the owner) on uPro from 1 Jan 2027, with storage add-ons and a workspace override. */
function workspaceWith(overrides: Parameters<typeof makeWorkspace>[0], members = 3, planId = 'upro', settings = {}): Workspace3 {
  const events = joins('2027-01-01T08:00:00Z', members).map((event, i) => (i === 0 ? { ...event, role: 'owner' } : event));
  const ctx = makeContext(events, [UPRO, UBIZ, USTARTER, UBASIC, UPRO_ANNUAL, UPRO_ANNUAL_SMALL, UBIZ_SMALL, UPRO_MIN5], makeWorkspace(overrides, settings));
  ctx.catalog.addons.push(STORAGE_1TB, STORAGE_2TB);
  return new Workspace3(ctx, planId);
}

function reasonOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof RejectionError ? error.reason : String(error);
  }
}

describe('R15 gate order', () => {
  test('asking for the current plan without a payment method is already-on-plan: it charges nothing', () => {
    const ws = workspaceWith({ paymentMethod: false });
    expect(reasonOf(() => ws.plan({ type: 'plan.change_requested', plan: 'upro' }, '2027-01-10T09:00:00Z'))).toBe('already-on-plan');
  });

  test('asking for the current plan while a downgrade is scheduled cancels the downgrade, even without a payment method', () => {
    const ws = workspaceWith({ paymentMethod: false });
    ws.change({ type: 'plan.change_requested', plan: 'ubasic' }, '2027-01-10T09:00:00Z');
    const back = ws.change({ type: 'plan.change_requested', plan: 'upro' }, '2027-01-12T09:00:00Z');
    expect(back.atPeriodEnd).toBe('the scheduled change to uBasic is canceled');
    expect(ws.subscription.pendingPlanId).toBeNull();
    ws.runTo('2027-02-01');
    expect(ws.invoices.at(-1)?.lines.map((line) => line.description)).toEqual(['uPro × 3 seats, February 2027']);
  });

  test('buying a 1 TB add-on on 10 Jan with 2,000 GB in use (above even the new 1,100 GB) is allowed: 22/31 × $20 = 14.19 accrued', () => {
    const ws = workspaceWith({ storageUsedGb: 2000 });
    const plan = ws.change({ type: 'storage_addon.changed', addon: 'storage-1tb' }, '2027-01-10T09:00:00Z');
    expect(plan.accrued.map((proration) => proration.amount)).toEqual(['14.19']);
  });

  test('enlarging 1 TB → 2 TB on 10 Jan with 5,000 GB in use is allowed: −14.19 and 22/31 × $35 = 24.84', () => {
    const ws = workspaceWith({});
    ws.change({ type: 'storage_addon.changed', addon: 'storage-1tb' }, '2027-01-05T09:00:00Z');
    ws.ctx.workspace.storageUsedGb = 5000;
    const plan = ws.change({ type: 'storage_addon.changed', addon: 'storage-2tb' }, '2027-01-10T09:00:00Z');
    expect(plan.accrued.map((proration) => proration.amount)).toEqual(['-14.19', '24.84']);
  });

  test('removing or shrinking the add-on below the storage in use is usage-exceeds-plan', () => {
    const ws = workspaceWith({});
    ws.change({ type: 'storage_addon.changed', addon: 'storage-2tb' }, '2027-01-05T09:00:00Z');
    ws.ctx.workspace.storageUsedGb = 1500;
    expect(reasonOf(() => ws.plan({ type: 'storage_addon.changed', addon: null }, '2027-01-10T09:00:00Z'))).toBe('usage-exceeds-plan');
    expect(reasonOf(() => ws.plan({ type: 'storage_addon.changed', addon: 'storage-1tb' }, '2027-01-10T09:00:00Z'))).toBe('usage-exceeds-plan');
  });

  test('an interval change to an annual plan limited to 2 seats, with 3 billable members, is usage-exceeds-plan', () => {
    const ws = workspaceWith({});
    expect(reasonOf(() => ws.plan({ type: 'plan.change_requested', plan: 'upro-annual-small' }, '2027-01-10T09:00:00Z'))).toBe('usage-exceeds-plan');
  });

  test('an upgrade to a plan limited to 2 seats, with 3 billable members, is usage-exceeds-plan', () => {
    const ws = workspaceWith({});
    expect(reasonOf(() => ws.plan({ type: 'plan.change_requested', plan: 'ubiz-small' }, '2027-01-10T09:00:00Z'))).toBe('usage-exceeds-plan');
  });

  test("the gates keep the rules' order: no payment method comes before the seat limit on an upgrade", () => {
    const ws = workspaceWith({ paymentMethod: false });
    expect(reasonOf(() => ws.plan({ type: 'plan.change_requested', plan: 'ubiz-small' }, '2027-01-10T09:00:00Z'))).toBe('payment-method-required');
  });
});

describe("R16 the new term of a monthly → annual change is billed at the new plan's paid quantity", () => {
  test('3 members on a 5-seat-minimum monthly plan, annual on 20 Jan: credit 5 × 27.10, the term bills 3 × $700', () => {
    const ws = workspaceWith({}, 3, 'upro-min5');
    expect(ws.invoices[0].lines.map((line) => line.amount)).toEqual(['350.00']);
    const plan = ws.change({ type: 'plan.change_requested', plan: 'upro-annual' }, '2027-01-20T09:00:00Z');
    expect(plan.invoice?.lines.map((line) => [line.quantity, line.amount])).toEqual([
      [-5, '-135.50'],
      [3, '2100.00'],
    ]);
    expect(ws.subscription.periods.at(-1)?.baseQuantity).toBe(3);
  });

  test("seatDecrease none, 10 → 5 members on 5 Jan, annual on 20 Jan: credit the 10 paid, bill 5; the term's high-water mark starts at 5 (a 6th on 1 Feb: 353/365 × 700 = 676.99)", () => {
    const events = joins('2027-01-01T08:00:00Z', 10).map((event, i) => (i === 0 ? { ...event, role: 'owner' } : event));
    for (let i = 6; i <= 10; i += 1) events.push(memberEvent('2027-01-05T10:00:00Z', 'member.removed', `u${i}`));
    events.push(memberEvent('2027-02-01T10:00:00Z', 'member.joined', 'x1'));
    const ws = new Workspace3(makeContext(events, [UPRO, UPRO_ANNUAL], makeWorkspace({}, { seatDecrease: 'none' })));
    const plan = ws.change({ type: 'plan.change_requested', plan: 'upro-annual' }, '2027-01-20T09:00:00Z');
    expect(plan.invoice?.lines.map((line) => [line.quantity, line.amount])).toEqual([
      [-10, '-271.00'],
      [5, '3500.00'],
    ]);
    ws.apply(planBillingRun(ws.ctx, ws.subscription, ws.unbilled(), ws.balance, '2027-02-20', { invoice: true }));
    expect(ws.invoices.at(-1)).toMatchObject({ kind: 'true-up', date: '2027-02-20' });
    expect(ws.invoices.at(-1)?.lines.map((line) => [line.quantity, line.amount])).toEqual([[1, '676.99']]);
  });
});
