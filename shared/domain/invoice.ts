import type { IsoDate } from './calendar';
import { fnv1a } from './hash';
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

/**
 * An issued invoice (R10–R13). Its id is deterministic (R14) and stays the idempotency key;
 * `number` is the human one (`<prefix>-<seq>`, gapless per workspace, `invoiceNumberOf`).
 */
export interface Invoice {
  id: string;
  number: string;
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
  /**
   * The workspace's next invoice sequence number while it has never had a subscription (a credit
   * pack bought before subscribing); absent means 1. Once a subscription exists the counter lives
   * on the latest subscription instead (`invoiceCounterOf`) and this one is no longer read.
   */
  nextInvoiceSeq?: number;
  /** Set by the workspace's first subscription, which took the invoice counter over (`startSubscription`). */
  invoiceCounterMoved?: true;
}

/** An empty balance. */
export function emptyBalance(currency: string): Balance {
  return { billingCredit: Money.zero(currency), aiCredits: 0, version: 0 };
}

/** The deterministic invoice id (R14): one invoice per workspace, kind and date (and key). */
export function invoiceIdFor(workspace: string, kind: InvoiceKind, date: IsoDate, key?: string): string {
  return ['inv', workspace, date, kind, ...(key ? [key] : [])].join('_');
}

/**
 * A configured invoice prefix: 1 to 24 letters, digits, `.`, `_`, `/` and `-`, starting with a
 * letter or digit (short enough, with the sequence, for any ledger's reference field).
 */
export const INVOICE_PREFIX_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,23}$/;

/**
 * The invoice prefix of a workspace without a configured one: the letters and digits of its id,
 * upper-cased, cut to 8, then `-` and 4 base-36 characters of the FNV-1a hash of the exact id
 * (`acme` → `ACME-…`). The id alone would read better, but upper-casing and cutting are not
 * one-to-one (`acme` and `Acme`, two long ids sharing a start), and two workspaces must not
 * print the same number: the hash keeps such ids apart.
 */
export function defaultInvoicePrefix(workspaceId: string): string {
  const letters = workspaceId
    .replace(/[^A-Za-z0-9]/g, '')
    .toUpperCase()
    .slice(0, 8);
  const hash = fnv1a(workspaceId).toString(36).toUpperCase().padStart(4, '0').slice(-4);
  return `${letters}-${hash}`;
}

/** The prefix a workspace's invoice numbers carry: the configured `invoicePrefix`, else `defaultInvoicePrefix`. */
export function invoicePrefixOf(workspace: { id: string; invoicePrefix?: string }): string {
  return workspace.invoicePrefix ?? defaultInvoicePrefix(workspace.id);
}

/**
 * The human invoice number (issue 11 item 4): `<prefix>-<seq>`, the sequence zero-padded to 4
 * digits (it grows past 9999) so numbers of one workspace sort as text too.
 */
export function invoiceNumberOf(workspace: { id: string; invoicePrefix?: string }, seq: number): string {
  return `${invoicePrefixOf(workspace)}-${String(seq).padStart(4, '0')}`;
}

/** The sequence part of an invoice number (`<prefix>-<seq>`: the digits after the last `-`). */
export function invoiceSeqOf(number: string): number {
  const seq = Number(number.slice(number.lastIndexOf('-') + 1));
  if (!Number.isSafeInteger(seq) || seq < 1) throw new Error(`invoice number ${number} has no sequence`);
  return seq;
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
  const subtotal = Money.sum(
    lines.map((line) => Money.of(line.amount, currency)),
    currency,
  );
  if (subtotal.isPositive()) {
    const creditApplied = balance.isPositive() ? balance.min(subtotal) : Money.zero(currency);
    return { subtotal, creditApplied, amountDue: subtotal.minus(creditApplied), balanceAfter: balance.minus(creditApplied) };
  }
  return { subtotal, creditApplied: Money.zero(currency), amountDue: Money.zero(currency), balanceAfter: balance.minus(subtotal) };
}

/** Assembles an invoice from its lines and settles it against the balance. */
export function assembleInvoice(header: Omit<Invoice, 'lines' | 'subtotal' | 'creditApplied' | 'amountDue'>, lines: InvoiceLine[], balance: Balance): { invoice: Invoice; balance: Balance } {
  const settlement = settleLines(lines, balance.billingCredit);
  // Spelled out rather than spread (headers of several origins made the spread V8's slow path);
  // the keys keep the order every header has, so the invoice serialises as before.
  const invoice: Invoice = {
    id: header.id,
    number: header.number,
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
