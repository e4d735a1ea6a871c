import { toBillingDate } from '../../shared/domain/calendar';
import type { Catalog } from '../../shared/domain/catalog';
import { planChange, type ChangePlan, type ChangeRequest } from '../../shared/domain/changes';
import { cancelSubscription, planBillingRun, startSubscription, type BillingStep } from '../../shared/domain/engine';
import { ConflictError, RejectionError } from '../../shared/domain/errors';
import { defaultInvoicePrefix, invoiceNumberOf, invoicePrefixOf } from '../../shared/domain/invoice';
import type { BillingContext } from '../../shared/domain/proration';
import type { SubscriptionState } from '../../shared/domain/subscription';
import { parseScenario, workspacesOf } from '../../simulator/scenario';
import { joins, makePlan, makeWorkspace, memberEvent } from './fixtures';
import { Ledger } from './ledger';

const MONTHLY = makePlan({ id: 'pro', name: 'Pro', seatPrice: '70.00' });
const BIGGER = makePlan({ id: 'biz', name: 'Biz', seatPrice: '100.00' });
const ANNUAL = makePlan({ id: 'biz-annual', name: 'Biz Annual', interval: 'year', seatPrice: '1000.00' });
const CATALOG: Catalog = { plans: [MONTHLY, BIGGER, ANNUAL], addons: [], creditPacks: [{ id: 'ai-1000', name: '1,000 AI credits', price: '10.00', credits: 1000 }] };

/** Owner u1 and two members from 1 Jan 2027, a fourth and a fifth joining on 20 Mar and 20 Apr (annual true-ups' charges). */
function context(invoicePrefix?: string): BillingContext {
  const members = [
    ...joins('2027-01-01T08:00:00Z', 3).map((event, i) => (i === 0 ? { ...event, role: 'owner' } : event)),
    memberEvent('2027-03-20T10:00:00Z', 'member.joined', 'u4'),
    memberEvent('2027-04-20T10:00:00Z', 'member.joined', 'u5'),
  ];
  return { workspace: makeWorkspace(invoicePrefix ? { invoicePrefix } : {}), catalog: CATALOG, members };
}

/** One workspace's books in memory: steps applied as the store applies them, and the latest ended subscription kept. */
class Books extends Ledger {
  active: SubscriptionState | undefined;
  previous: SubscriptionState | undefined;

  constructor(public ctx: BillingContext) {
    super('USD');
  }

  override apply(steps: readonly BillingStep[]): void {
    super.apply(steps);
    for (const step of steps) {
      if (step.kind === 'invoice' && step.handoff) this.previous = step.handoff;
      if (!step.subscription) continue;
      if (step.subscription.status === 'active') this.active = step.subscription;
      else {
        this.active = undefined;
        this.previous = step.subscription;
      }
    }
  }

  start(at: string, planId = MONTHLY.id): BillingStep {
    const date = toBillingDate(at, 'UTC');
    const step = startSubscription(this.ctx, { subscriptionId: `sub_${date}`, planId, at, date, billingDay: 1, seats: null, addonId: null }, this.balance, this.previous);
    this.apply([step]);
    return step;
  }

  plan(request: ChangeRequest, at: string, requestedBy = 'u1'): ChangePlan {
    return planChange({
      ctx: this.ctx,
      subscription: this.active,
      previous: this.previous,
      unbilled: this.active ? this.unbilled() : [],
      balance: this.balance,
      request,
      requestedBy,
      at,
      date: toBillingDate(at, 'UTC'),
    });
  }

  change(request: ChangeRequest, at: string, requestedBy = 'u1'): ChangePlan {
    const plan = this.plan(request, at, requestedBy);
    this.apply(plan.steps);
    return plan;
  }

  run(asOf: string): BillingStep[] {
    if (!this.active) return [];
    const steps = planBillingRun(this.ctx, this.active, this.unbilled(), this.balance, asOf, { invoice: true, accrueThrough: asOf });
    this.apply(steps);
    return steps;
  }

  cancel(date: string, atPeriodEnd: boolean): void {
    this.run(date);
    if (this.active) this.apply([{ kind: 'advance', subscription: cancelSubscription(this.active, date, atPeriodEnd) }]);
  }

  numbers(): string[] {
    return this.invoices.map((invoice) => invoice.number);
  }
}

const PACK: ChangeRequest = { type: 'ai_credit_pack.purchased', pack: 'ai-1000' };

describe('invoice numbers (issue 11 item 4)', () => {
  test('the default prefix is the id upper-cased plus a hash of the exact id, so ids that read alike stay apart', () => {
    expect(defaultInvoicePrefix('acme')).toMatch(/^ACME-[0-9A-Z]{4}$/);
    expect(defaultInvoicePrefix('acme')).toBe(defaultInvoicePrefix('acme'));
    expect(defaultInvoicePrefix('acme')).not.toBe(defaultInvoicePrefix('Acme'));
    expect(defaultInvoicePrefix('northwind-traders-eu')).toMatch(/^NORTHWIN-[0-9A-Z]{4}$/);
    expect(defaultInvoicePrefix('northwind-traders-eu')).not.toBe(defaultInvoicePrefix('northwind-traders-us'));
    expect(invoicePrefixOf({ id: 'acme', invoicePrefix: 'RE/2027' })).toBe('RE/2027');
    expect(invoiceNumberOf({ id: 'acme', invoicePrefix: 'RE/2027' }, 7)).toBe('RE/2027-0007');
    expect(invoiceNumberOf({ id: 'acme', invoicePrefix: 'RE' }, 12345)).toBe('RE-12345');
  });

  test('the core numbers 1, 2, 3… across the first invoice, renewals, an upgrade, a pack, an interval change and true-ups', () => {
    const books = new Books(context('ACME'));
    books.start('2027-01-01T09:00:00Z');
    books.run('2027-02-01');
    books.change({ type: 'plan.change_requested', plan: BIGGER.id }, '2027-02-10T09:00:00Z');
    books.change(PACK, '2027-02-12T09:00:00Z');
    books.run('2027-03-01');
    books.change({ type: 'plan.change_requested', plan: ANNUAL.id }, '2027-03-15T09:00:00Z');
    books.run('2027-05-15');
    expect(books.invoices.map((invoice) => invoice.kind)).toEqual(['first', 'renewal', 'change', 'change', 'renewal', 'change', 'true-up', 'true-up']);
    expect(books.numbers()).toEqual(['ACME-0001', 'ACME-0002', 'ACME-0003', 'ACME-0004', 'ACME-0005', 'ACME-0006', 'ACME-0007', 'ACME-0008']);
    expect(books.active?.nextInvoiceSeq).toBe(9);
  });

  test('a re-plan from the same state (a retry, a concurrent run) gives the same numbers; the run that commits first wins them', () => {
    const books = new Books(context('ACME'));
    books.start('2027-01-01T09:00:00Z');
    const active = books.active as SubscriptionState;
    const first = planBillingRun(books.ctx, active, books.unbilled(), books.balance, '2027-04-01', { invoice: true });
    const again = planBillingRun(books.ctx, active, books.unbilled(), books.balance, '2027-04-01', { invoice: true });
    expect(again).toEqual(first);
    const numbers = first.flatMap((step) => (step.kind === 'invoice' ? [step.invoice.number] : []));
    expect(numbers).toEqual(['ACME-0002', 'ACME-0003', 'ACME-0004']);
    // Each number is taken together with a new subscription version: a second writer from the same state loses on it.
    const versions = first.flatMap((step) => (step.kind === 'invoice' ? [step.subscription.version] : []));
    expect(new Set(versions).size).toBe(3);
  });

  test('a rejected change and a preview consume no number', () => {
    const books = new Books(context('ACME'));
    books.start('2027-01-01T09:00:00Z');
    expect(() => books.plan({ type: 'plan.change_requested', plan: BIGGER.id }, '2027-01-10T09:00:00Z', 'u2')).toThrow(RejectionError);
    // A preview is a plan that is not applied: it shows the number the invoice would get now.
    const preview = books.plan({ type: 'plan.change_requested', plan: BIGGER.id }, '2027-01-10T09:00:00Z');
    expect(preview.invoice?.number).toBe('ACME-0002');
    books.change(PACK, '2027-01-11T09:00:00Z');
    books.change({ type: 'plan.change_requested', plan: BIGGER.id }, '2027-01-12T09:00:00Z');
    books.run('2027-02-01');
    expect(books.numbers()).toEqual(['ACME-0001', 'ACME-0002', 'ACME-0003', 'ACME-0004']);
  });

  test('an anchor with nothing to bill (a canceled period ending) takes no number', () => {
    const books = new Books(context('ACME'));
    books.start('2027-01-01T09:00:00Z');
    books.cancel('2027-01-20', true);
    const steps = books.run('2027-02-01');
    expect(steps.map((step) => step.kind)).toEqual(['advance']);
    expect(books.previous?.status).toBe('ended');
    expect(books.previous?.nextInvoiceSeq).toBe(2);
  });

  test('without a subscription the counter lives on the balance, then on the latest subscription: numbers never restart or repeat', () => {
    const books = new Books(context());
    const prefix = defaultInvoicePrefix('acme');
    // A pack before ever subscribing: numbered from the balance, which carries the counter.
    const early = books.change(PACK, '2027-01-01T08:30:00Z');
    expect(early.steps.map((step) => [step.kind, step.subscription])).toEqual([['purchase', undefined]]);
    expect(books.balance.nextInvoiceSeq).toBe(2);
    // The first subscription continues from the balance, and writes it (a new version) so a concurrent pack loses.
    const balanceBefore = books.balance.version;
    const first = books.start('2027-01-01T09:00:00Z');
    expect(first).not.toHaveProperty('balanceUnchanged');
    expect(books.balance.version).toBe(balanceBefore + 1);
    // A pack planned from that balance without seeing the new subscription (reads straddling the start) re-reads.
    expect(() =>
      planChange({ ctx: books.ctx, subscription: undefined, unbilled: [], balance: books.balance, request: PACK, requestedBy: 'u1', at: '2027-01-01T10:00:00Z', date: '2027-01-01' }),
    ).toThrow(ConflictError);
    books.run('2027-02-01');
    // Canceled at once: the pack bought meanwhile bumps the counter on the (ending) subscription.
    books.cancel('2027-02-05', false);
    const pack = books.change(PACK, '2027-02-06T09:00:00Z');
    expect(pack.subscription).toBeUndefined();
    expect(pack.steps.at(-1)).toMatchObject({ kind: 'purchase', subscription: { id: 'sub_2027-01-01', nextInvoiceSeq: 5 } });
    books.run('2027-03-01');
    expect(books.active).toBeUndefined();
    books.change(PACK, '2027-03-05T09:00:00Z');
    // Subscribing again continues from the ended subscription, which it writes back with a new version.
    const ended = books.previous as SubscriptionState;
    const again = books.start('2027-04-01T09:00:00Z');
    expect(again.kind === 'invoice' && again.handoff).toMatchObject({ id: 'sub_2027-01-01', status: 'ended', version: ended.version + 1, invoiceCounterMovedTo: 'sub_2027-04-01' });
    const handedOver = books.previous as SubscriptionState;
    expect(() =>
      planChange({
        ctx: books.ctx,
        subscription: undefined,
        previous: handedOver,
        unbilled: [],
        balance: books.balance,
        request: PACK,
        requestedBy: 'u1',
        at: '2027-04-02T10:00:00Z',
        date: '2027-04-02',
      }),
    ).toThrow(ConflictError);
    books.run('2027-05-01');
    expect(books.invoices.map((invoice) => invoice.kind)).toEqual(['change', 'first', 'renewal', 'change', 'change', 'first', 'renewal']);
    expect(books.numbers()).toEqual([1, 2, 3, 4, 5, 6, 7].map((seq) => `${prefix}-000${seq}`));
  });

  test('the scenario workspace field sets the prefix; two workspaces may not share one', () => {
    const base = { currency: 'EUR', plans: [{ id: 'pro', name: 'Pro', interval: 'month', seatPrice: '10.00' }], until: '2027-02-01T00:00:00Z' };
    // `npm run configure` loads the same document: the prefix goes with the workspace into the table.
    expect(workspacesOf(parseScenario({ ...base, workspaces: [{ id: 'acme', invoicePrefix: 'RE-ACME' }, { id: 'globex' }] })).map((workspace) => workspace.invoicePrefix)).toEqual([
      'RE-ACME',
      undefined,
    ]);
    expect(() => parseScenario({ ...base, workspaces: [{ id: 'acme', invoicePrefix: 'has space' }] })).toThrow(/workspaces\.0\.invoicePrefix/);
    expect(() =>
      parseScenario({
        ...base,
        workspaces: [
          { id: 'acme', invoicePrefix: 'RE' },
          { id: 'globex', invoicePrefix: 'RE' },
        ],
      }),
    ).toThrow(/workspaces\.1\.invoicePrefix/);
    expect(() => parseScenario({ ...base, workspaces: [{ id: 'acme' }, { id: 'globex', invoicePrefix: defaultInvoicePrefix('acme') }] })).toThrow(/already that of workspace acme/);
  });
});
