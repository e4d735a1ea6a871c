import { addDays, eachDate, toBillingDate, type IsoDate } from '../../shared/domain/calendar';
import { cancelSubscription, planBillingRun, startSubscription, type BillingStep, type RunOptions } from '../../shared/domain/engine';
import type { Balance, Invoice } from '../../shared/domain/invoice';
import type { BillingContext, Proration } from '../../shared/domain/proration';
import { Ledger } from './ledger';

/** One workspace's subscription in unit tests: starts it, runs the jobs and applies their steps in memory. */
export class Account extends Ledger {
  first!: Invoice;

  constructor(
    public ctx: BillingContext,
    balance?: Balance,
  ) {
    super(ctx.workspace.currency, balance);
  }

  /** Starts the subscription (R10) at `at`, billing date in the workspace zone. */
  start(at: string, options: { planId?: string; billingDay?: number; seats?: number | null } = {}): Invoice {
    const date = toBillingDate(at, this.ctx.workspace.timezone);
    const step = startSubscription(
      this.ctx,
      {
        subscriptionId: 'sub1',
        planId: options.planId ?? this.ctx.catalog.plans[0].id,
        at,
        date,
        billingDay: options.billingDay ?? this.ctx.workspace.billingDay,
        seats: options.seats ?? null,
        addonId: null,
      },
      this.balance,
    );
    if (step.kind !== 'invoice') throw new Error(`expected an invoice step, got ${step.kind}`);
    this.subscription = step.subscription;
    this.balance = step.balance;
    this.first = step.invoice;
    this.invoices.push(step.invoice);
    return step.invoice;
  }

  /** Plans a run and applies its steps in order, as the store would. */
  run(asOf: IsoDate, options: RunOptions = { invoice: true }): BillingStep[] {
    const steps = planBillingRun(this.ctx, this.subscription, this.unbilled(), this.balance, asOf, options);
    this.apply(steps);
    return steps;
  }

  /** Runs the daily accrual job through `through` (no invoicing). */
  accrue(through: IsoDate): Proration[] {
    return this.run(through, { invoice: false, accrueThrough: through }).flatMap((step) => (step.kind === 'accrual' ? step.prorations : []));
  }

  /** Runs the hourly jobs as deployed, day by day from `from` to `to`: accrual through yesterday, then invoicing. */
  runDaily(from: IsoDate, to: IsoDate): void {
    for (const date of eachDate(from, to)) {
      this.accrue(addDays(date, -1));
      this.run(date);
    }
  }

  /** Cancels as the ingest job does (R20): catches up to the date, then ends service. */
  cancel(at: string, atPeriodEnd: boolean): void {
    const date = toBillingDate(at, this.ctx.workspace.timezone);
    this.run(date);
    this.subscription = cancelSubscription(this.subscription, date, atPeriodEnd);
  }

  invoiceOn(date: IsoDate): Invoice | undefined {
    return this.invoices.find((invoice) => invoice.date === date);
  }
}
