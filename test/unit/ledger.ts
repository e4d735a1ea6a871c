import type { BillingStep } from '../../shared/domain/engine';
import { emptyBalance, type Balance, type Invoice } from '../../shared/domain/invoice';
import type { Proration } from '../../shared/domain/proration';
import type { SubscriptionState } from '../../shared/domain/subscription';

/**
 * An in-memory stand-in for the store in unit tests of the pure core: it applies the steps
 * the core plans, in order, exactly as `BillingStore.applySteps` persists them.
 */
export class Ledger {
  subscription!: SubscriptionState;
  balance: Balance;
  readonly prorations: Proration[] = [];
  readonly invoices: Invoice[] = [];

  constructor(currency: string, balance?: Balance) {
    this.balance = balance ?? emptyBalance(currency);
  }

  /** Applies planned steps: the subscription, prorations, invoices and balances they carry. */
  apply(steps: readonly BillingStep[]): void {
    for (const step of steps) {
      if (step.subscription) this.subscription = step.subscription;
      if (step.kind === 'accrual') this.prorations.push(...step.prorations);
      if ('invoice' in step) {
        this.invoices.push(step.invoice);
        this.balance = step.balance;
      }
    }
  }

  /** Prorations not billed yet (numbered at or above the subscription's billed mark). */
  unbilled(): Proration[] {
    return this.prorations.filter((proration) => proration.seq >= this.subscription.billedProrationSeq);
  }
}
