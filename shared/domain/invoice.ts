import type { IsoDate } from './calendar';
import { Money } from './money';

/** Line kinds of the scenario format. */
export type LineKind = 'seats' | 'proration' | 'addon' | 'one-time';

/** Invoice kinds of the scenario format. */
export type InvoiceKind = 'first' | 'renewal' | 'true-up' | 'change';

/** One invoice line; amounts are strings in the currency's minor units. */
export interface InvoiceLine {
  kind: LineKind;
  description: string;
  quantity: number;
  unitAmount: string;
  amount: string;
  periodStart: IsoDate;
  periodEnd: IsoDate;
}

/** An issued invoice (R10–R13). Its id is deterministic (R14). */
export interface Invoice {
  id: string;
  workspace: string;
  subscription: string;
  kind: InvoiceKind;
  date: IsoDate;
  currency: string;
  periodStart: IsoDate;
  periodEnd: IsoDate;
  lines: InvoiceLine[];
  subtotal: string;
  creditApplied: string;
  amountDue: string;
}

/** A workspace's balances: billing credit (R13) and, apart from it, AI credits (R18). */
export interface Balance {
  billingCredit: Money;
  aiCredits: number;
  version: number;
}

/** An empty balance. */
export function emptyBalance(currency: string): Balance {
  return { billingCredit: Money.zero(currency), aiCredits: 0, version: 0 };
}

/** The deterministic invoice id (R14): one invoice per workspace, kind and date (and key). */
export function invoiceIdFor(workspace: string, kind: InvoiceKind, date: IsoDate, key?: string): string {
  return ['inv', workspace, date, kind, ...(key ? [key] : [])].join('_');
}

/** What settling an invoice's lines against the billing-credit balance gives (R13). */
export interface Settlement {
  subtotal: Money;
  creditApplied: Money;
  amountDue: Money;
  balanceAfter: Money;
}

/**
 * Settles lines against the balance (R13): the subtotal is the exact sum of the lines; a
 * positive subtotal uses the balance up to itself; a negative one adds to the balance and
 * nothing is due. Credits are never paid out.
 */
export function settleLines(lines: readonly InvoiceLine[], balance: Money): Settlement {
  const currency = balance.currency;
  const subtotal = Money.sum(lines.map((line) => Money.of(line.amount, currency)), currency);
  if (subtotal.isPositive()) {
    const creditApplied = balance.isPositive() ? balance.min(subtotal) : Money.zero(currency);
    return { subtotal, creditApplied, amountDue: subtotal.minus(creditApplied), balanceAfter: balance.minus(creditApplied) };
  }
  return { subtotal, creditApplied: Money.zero(currency), amountDue: Money.zero(currency), balanceAfter: balance.minus(subtotal) };
}

/** Assembles an invoice from its lines and settles it against the balance. */
export function assembleInvoice(
  header: Omit<Invoice, 'lines' | 'subtotal' | 'creditApplied' | 'amountDue'>,
  lines: InvoiceLine[],
  balance: Balance,
): { invoice: Invoice; balance: Balance } {
  const settlement = settleLines(lines, balance.billingCredit);
  // Spelled out rather than spread (headers of several origins made the spread V8's slow path);
  // the keys keep the order every header has, so the invoice serialises as before.
  const invoice: Invoice = {
    id: header.id,
    workspace: header.workspace,
    subscription: header.subscription,
    kind: header.kind,
    date: header.date,
    currency: header.currency,
    periodStart: header.periodStart,
    periodEnd: header.periodEnd,
    lines,
    subtotal: settlement.subtotal.toString(),
    creditApplied: settlement.creditApplied.toString(),
    amountDue: settlement.amountDue.toString(),
  };
  return { invoice, balance: { ...balance, billingCredit: settlement.balanceAfter } };
}
