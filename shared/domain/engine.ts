import { addDays, firstPeriod, formatRange, fullPeriodFrom, INTERVAL_MONTHS, minDate, monthlyAnchorsInside, remainingFraction, type BillingPeriod, type IsoDate } from './calendar';
import type { Addon, Plan } from './catalog';
import { NotFoundError } from './errors';
import { assembleInvoice, invoiceIdFor, invoiceNumberOf, type Balance, type Invoice, type InvoiceKind, type InvoiceLine } from './invoice';
import { Money, prorate } from './money';
import { accrueProrations, findPlan, seatsLabel, paidQuantityAt, paidQuantityOn, type BillingContext, type Proration } from './proration';
import { currentPeriodOf, invoiceCounterOf, nextAnchorOf, retainRecentPeriods, type PeriodRecord, type SubscriptionState } from './subscription';

/** One atomic write the store applies, in order, each conditioned on the subscription's previous version. */
export type BillingStep =
  | { kind: 'accrual'; subscription: SubscriptionState; prorations: Proration[] }
  | {
      kind: 'invoice';
      subscription: SubscriptionState;
      invoice: Invoice;
      balance: Balance;
      aiCreditsGranted: number;
      /** The balances are as they were (no credit applied or added, no AI credits granted): nothing to write. */
      balanceUnchanged?: true;
      /**
       * A new subscription's first invoice, numbered from the workspace's previous (ended)
       * subscription: that subscription with its version bumped, written in the same transaction,
       * so a purchase numbering from it concurrently loses on the version instead of taking the
       * same number. (Numbered from the balance, the step's balance is bumped the same way.)
       */
      handoff?: SubscriptionState;
    }
  | { kind: 'advance'; subscription: SubscriptionState }
  /**
   * A purchase without an active subscription: the balance, and the ended (or ending) subscription
   * that holds the invoice counter, if the workspace ever had one (`invoiceCounterOf`).
   */
  | { kind: 'purchase'; subscription?: SubscriptionState; invoice: Invoice; balance: Balance };

/** The request to start a subscription (R10). */
export interface StartRequest {
  subscriptionId: string;
  planId: string;
  at: string;
  date: IsoDate;
  billingDay: number;
  seats: number | null;
  addonId: string | null;
}

/**
 * The balances after an invoice: `after` with the next version when an amount moved, else
 * `before` as it was, flagged so the store writes nothing (a renewal on a zero balance costs no
 * write for it, and a concurrent AI-credit spend never conflicts with it).
 */
export function settleBalance(before: Balance, after: Balance): { balance: Balance; balanceUnchanged?: true } {
  if (after.billingCredit.equals(before.billingCredit) && after.aiCredits === before.aiCredits) return { balance: before, balanceUnchanged: true };
  return { balance: { ...after, version: before.version + 1 } };
}

export function findAddon(ctx: BillingContext, addonId: string): Addon {
  const addon = ctx.catalog.addons.find((candidate) => candidate.id === addonId);
  if (!addon) throw new NotFoundError(`add-on ${addonId}`);
  return addon;
}

export function seatsLine(plan: Plan, quantity: number, period: BillingPeriod, ctx: BillingContext): InvoiceLine {
  const fraction = remainingFraction(period.start, period);
  const price = Money.of(plan.seatPrice, ctx.workspace.currency);
  const { unitAmount, amount } = prorate(price, quantity, fraction, ctx.workspace.settings.rounding);
  const partial = fraction.days !== fraction.of ? ` (${fraction.days} of ${fraction.of} days)` : '';
  return {
    kind: 'seats',
    description: `${plan.name} × ${seatsLabel(quantity)}, ${formatRange(period)}${partial}`,
    quantity,
    unitAmount: unitAmount.toString(),
    amount: amount.toString(),
    periodStart: period.start,
    periodEnd: period.end,
  };
}

/** A recurring add-on (R17) for a period: its monthly price times the interval's months. */
export function addonLine(addon: Addon, plan: Plan, period: BillingPeriod, ctx: BillingContext): InvoiceLine {
  const fraction = remainingFraction(period.start, period);
  const months = INTERVAL_MONTHS[plan.interval];
  const price = Money.of(addon.price, ctx.workspace.currency).times(months);
  const { unitAmount, amount } = prorate(price, 1, fraction, ctx.workspace.settings.rounding);
  const partial = fraction.days !== fraction.of ? ` (${fraction.days} of ${fraction.of} days)` : '';
  return {
    kind: 'addon',
    description: `${addon.name}, ${formatRange(period)}${partial}`,
    quantity: 1,
    unitAmount: unitAmount.toString(),
    amount: amount.toString(),
    periodStart: period.start,
    periodEnd: period.end,
  };
}

/** Invoice lines for prorations, oldest first (R11: before the new period's lines). */
export function prorationLines(prorations: readonly Proration[]): InvoiceLine[] {
  return [...prorations]
    .sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.seq - b.seq))
    .map((proration) => ({
      kind: 'proration',
      description: proration.description,
      quantity: proration.delta,
      unitAmount: proration.unitAmount,
      amount: proration.amount,
      periodStart: proration.periodStart,
      periodEnd: proration.periodEnd,
    }));
}

/** The next monthly anchor inside the term after `date` (a split period still counts from its term start). */
export function nextTrueUpAfter(period: BillingPeriod, billingDay: number, date: IsoDate): IsoDate | null {
  const term = period.stub ? period : { ...period, start: period.denominatorStart };
  return monthlyAnchorsInside(term, billingDay).find((anchor) => anchor > date) ?? null;
}

/** The record of a period just invoiced: the period, its plan and price, and the quantity charged for it. */
export function openPeriod(period: BillingPeriod, plan: Plan, quantity: number, invoiceId: string): PeriodRecord {
  // Spelled out rather than spread: spreading periods of mixed origins (stored, computed) took
  // V8's slow path and was a tenth of a renewal. Same keys in the same order as the spread.
  return {
    start: period.start,
    end: period.end,
    denominatorStart: period.denominatorStart,
    stub: period.stub,
    planId: plan.id,
    unitPrice: plan.seatPrice,
    baseQuantity: quantity,
    changes: [],
    invoiceId,
  };
}

export function billedThrough(prorations: readonly Proration[], fallback: number): number {
  return prorations.reduce((next, proration) => Math.max(next, proration.seq + 1), fallback);
}

/**
 * Starts a subscription and issues its first invoice at once (R10): the leading stub to the
 * day before the first anchor (full-period denominator, R3), or the full period when the
 * start date is an anchor, at the paid quantity at the moment of starting, plus the add-on.
 * Its number continues the workspace's counter, from `previous` (the latest ended subscription)
 * or the balance, so numbers never restart or repeat when a workspace subscribes again.
 */
export function startSubscription(ctx: BillingContext, request: StartRequest, balance: Balance, previous?: SubscriptionState): BillingStep {
  const counter = invoiceCounterOf(previous, balance);
  const plan = findPlan(ctx.catalog, request.planId);
  const period = firstPeriod(request.date, request.billingDay, plan.interval);
  const draft: SubscriptionState = {
    id: request.subscriptionId,
    workspace: ctx.workspace.id,
    planId: plan.id,
    billingDay: request.billingDay,
    startDate: request.date,
    startedAt: request.at,
    status: 'active',
    endsAfter: null,
    periods: [],
    initialSeats: plan.seatMode === 'fixed' ? (request.seats ?? plan.minimumSeats) : null,
    seatPurchases: [],
    addonId: request.addonId,
    pendingPlanId: null,
    accruedThrough: addDays(request.date, -1),
    recomputeFrom: null,
    nextTrueUp: null,
    nextProrationSeq: 0,
    billedProrationSeq: 0,
    nextInvoiceSeq: counter.next,
    version: 0,
  };
  const quantity = paidQuantityAt(ctx, draft, plan, request.at, request.date);
  const invoiceId = invoiceIdFor(ctx.workspace.id, 'first', request.date);
  const lines = [seatsLine(plan, quantity, period, ctx)];
  if (request.addonId) lines.push(addonLine(findAddon(ctx, request.addonId), plan, period, ctx));
  const header = headerFor(ctx, draft, 'first', request.date, period, invoiceId, counter.next);
  const assembled = assembleInvoice(header, lines, balance);
  const subscription: SubscriptionState = {
    ...draft,
    periods: [openPeriod(period, plan, quantity, invoiceId)],
    nextTrueUp: nextTrueUpAfter(period, request.billingDay, request.date),
    nextInvoiceSeq: counter.next + 1,
    version: 1,
  };
  const granted = plan.aiCreditsPerPeriod;
  const settled = settleBalance(balance, { ...assembled.balance, aiCredits: assembled.balance.aiCredits + granted });
  // The counter moves to the new subscription: the item it was on is written too, so a concurrent
  // purchase that read it there loses on its version (a check alone would not stop that purchase).
  if (counter.holder === 'balance') {
    return { kind: 'invoice', subscription, invoice: assembled.invoice, balance: { ...settled.balance, invoiceCounterMoved: true, version: balance.version + 1 }, aiCreditsGranted: granted };
  }
  const handoff = { ...counter.holder, invoiceCounterMovedTo: subscription.id, version: counter.holder.version + 1 };
  return { kind: 'invoice', subscription, invoice: assembled.invoice, ...settled, aiCreditsGranted: granted, handoff };
}

/** An invoice's header; `seq` is the workspace's counter as the write that issues it finds it (`invoiceNumberOf`). */
export function headerFor(ctx: BillingContext, subscription: SubscriptionState, kind: InvoiceKind, date: IsoDate, period: { start: IsoDate; end: IsoDate }, id: string, seq: number) {
  return {
    id,
    number: invoiceNumberOf(ctx.workspace, seq),
    workspace: ctx.workspace.id,
    subscription: subscription.id,
    kind,
    date,
    currency: ctx.workspace.currency,
    periodStart: period.start,
    periodEnd: period.end,
  };
}

/** Whether a cancellation has ended service before `date` (R20): nothing renews or accrues from then on. */
export function isEndedBy(subscription: SubscriptionState, date: IsoDate): boolean {
  return subscription.endsAfter !== null && subscription.endsAfter < date;
}

/**
 * Cancels a subscription (R20). At period end (the default) service runs to the end of the
 * current period: seat changes until then accrue and are billed on the anchor date, and
 * nothing renews. Immediately (`atPeriodEnd: false`) service ends the day before `date`: from
 * `date` on nothing accrues, the prorations accrued before are billed on the next anchor date
 * (monthly: the renewal date; quarterly and annual: the next monthly true-up date), and the
 * unused rest of the period is not credited (R13: credits are not refunds). The subscription
 * must be caught up to `date` first, so its current period is the one containing `date`.
 */
export function cancelSubscription(subscription: SubscriptionState, date: IsoDate, atPeriodEnd: boolean): SubscriptionState {
  const endsAfter = atPeriodEnd ? currentPeriodOf(subscription).end : addDays(date, -1);
  // A second cancellation never extends service past an earlier one.
  return { ...subscription, endsAfter: subscription.endsAfter ? minDate(subscription.endsAfter, endsAfter) : endsAfter, version: subscription.version + 1 };
}

/** What a billing run may do. */
export interface RunOptions {
  /** Issue renewal (R11) and true-up (R12) invoices due on or before `asOf`. */
  invoice: boolean;
  /** Also accrue prorations through this date (the daily accrual job: yesterday). */
  accrueThrough?: IsoDate;
}

/** The next date an invoicing run has work for this subscription, or null when it has ended. */
export function nextDueDate(subscription: SubscriptionState): IsoDate | null {
  if (subscription.status === 'ended') return null;
  const anchor = nextAnchorOf(subscription);
  return subscription.nextTrueUp && subscription.nextTrueUp < anchor ? subscription.nextTrueUp : anchor;
}

/**
 * Everything due for one subscription up to the billing date `asOf` (R11, R12, R14), as
 * ordered steps: before each invoice the prorations through the day before are accrued;
 * missed anchors are caught up in date order. Pure: the same inputs give the same steps,
 * so a re-run, a concurrent run or a dry run all see the same invoices. `accrue` is only
 * swapped by tests, which prove the planned steps equal with a day-by-day accrual.
 */
export function planBillingRun(
  ctx: BillingContext,
  start: SubscriptionState,
  unbilled: readonly Proration[],
  startBalance: Balance,
  asOf: IsoDate,
  options: RunOptions,
  accrue: typeof accrueProrations = accrueProrations,
): BillingStep[] {
  const steps: BillingStep[] = [];
  let subscription = start;
  let balance = startBalance;
  let pending = [...unbilled];
  const version = () => subscription.version + 1;

  // Accrual that finds no change only moves `accruedThrough`: the next step carries that state,
  // so it costs no write of its own (one transaction per invoice on a quiet month).
  let unwritten = false;
  const accrueTo = (through: IsoDate) => {
    const result = accrue(ctx, subscription, through);
    if (result.subscription === subscription) return;
    if (result.prorations.length === 0) {
      subscription = result.subscription;
      unwritten = true;
      return;
    }
    subscription = { ...result.subscription, version: version() };
    pending = [...pending, ...result.prorations];
    steps.push({ kind: 'accrual', subscription, prorations: result.prorations });
    unwritten = false;
  };

  while (options.invoice) {
    const due = nextDueDate(subscription);
    if (!due || due > asOf) break;
    accrueTo(addDays(due, -1));
    const anchor = nextAnchorOf(subscription);
    const current = currentPeriodOf(subscription);
    const lines = prorationLines(pending);
    let kind: InvoiceKind;
    let next: SubscriptionState;
    let period: { start: IsoDate; end: IsoDate };
    let granted = 0;
    if (due < anchor) {
      kind = 'true-up';
      period = { start: due, end: current.end };
      // R20: after an immediate cancellation the next anchor's invoice is the last one.
      next = isEndedBy(subscription, due) ? { ...subscription, status: 'ended', nextTrueUp: null } : { ...subscription, nextTrueUp: nextTrueUpAfter(current, subscription.billingDay, due) };
    } else if (isEndedBy(subscription, anchor)) {
      // Canceled: nothing renews; the ended period's unbilled prorations are still billed.
      kind = 'renewal';
      period = { start: current.start, end: current.end };
      next = { ...subscription, status: 'ended', nextTrueUp: null };
    } else {
      kind = 'renewal';
      const plan = findPlan(ctx.catalog, subscription.pendingPlanId ?? subscription.planId);
      const full = fullPeriodFrom(anchor, subscription.billingDay, plan.interval);
      const quantity = paidQuantityOn(ctx, subscription, plan, addDays(anchor, -1));
      lines.push(seatsLine(plan, quantity, full, ctx));
      if (subscription.addonId) lines.push(addonLine(findAddon(ctx, subscription.addonId), plan, full, ctx));
      period = full;
      granted = plan.aiCreditsPerPeriod;
      next = retainRecentPeriods({
        ...subscription,
        planId: plan.id,
        pendingPlanId: null,
        periods: [...subscription.periods, openPeriod(full, plan, quantity, invoiceIdFor(ctx.workspace.id, kind, due))],
        nextTrueUp: nextTrueUpAfter(full, subscription.billingDay, due),
      });
    }
    next = { ...next, version: version(), billedProrationSeq: billedThrough(pending, subscription.billedProrationSeq) };
    const seq = subscription.nextInvoiceSeq;
    // Only an issued invoice takes a number: an anchor with nothing to bill leaves the counter as it is.
    subscription = lines.length === 0 ? next : { ...next, nextInvoiceSeq: seq + 1 };
    unwritten = false;
    if (lines.length === 0) {
      steps.push({ kind: 'advance', subscription });
      continue;
    }
    const assembled = assembleInvoice(headerFor(ctx, subscription, kind, due, period, invoiceIdFor(ctx.workspace.id, kind, due), seq), lines, balance);
    const settled = settleBalance(balance, { ...assembled.balance, aiCredits: assembled.balance.aiCredits + granted });
    balance = settled.balance;
    pending = [];
    steps.push({ kind: 'invoice', subscription, invoice: assembled.invoice, ...settled, aiCreditsGranted: granted });
  }

  if (options.accrueThrough && subscription.status !== 'ended') accrueTo(options.accrueThrough);
  if (unwritten) steps.push({ kind: 'advance', subscription: { ...subscription, version: version() } });
  return steps;
}
