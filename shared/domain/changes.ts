import { addDays, formatDay, fullPeriodFrom, INTERVAL_MONTHS, remainingFraction, type IsoDate } from './calendar';
import { BILLING_MANAGER_ROLES, billableRolesOf, type Plan } from './catalog';
import { RejectionError } from './errors';
import { addonLine, billedThrough, findAddon, headerFor, isEndedBy, nextTrueUpAfter, openPeriod, planBillingRun, prorationLines, seatsLine, type BillingStep } from './engine';
import { assembleInvoice, invoiceIdFor, invoiceNumberOf, type Balance, type Invoice, type InvoiceLine } from './invoice';
import { activeRoleAt, billableCountAt } from './members';
import { Money, prorate } from './money';
import { findPlan, paidQuantityAt, seatsLabel, type BillingContext, type Proration } from './proration';
import { chargedQuantityOn, currentPeriodOf, invoiceCounterOf, nextAnchorOf, retainRecentPeriods, type PeriodRecord, type SubscriptionState } from './subscription';
import { fnv1a } from './hash';
import Decimal from 'decimal.js';

/** A self-serve change (R15–R18), as the events and the `changes` invocation carry it. */
export type ChangeRequest =
  | { type: 'plan.change_requested'; plan: string }
  | { type: 'seats.purchased'; seats: number }
  | { type: 'storage_addon.changed'; addon: string | null }
  | { type: 'ai_credit_pack.purchased'; pack: string };

/** Everything a change is planned from; the subscription may be absent (AI credit packs). */
export interface ChangeInput {
  ctx: BillingContext;
  subscription: SubscriptionState | undefined;
  /**
   * Without an active subscription: the workspace's latest ended one, if any. It holds the
   * invoice counter (`invoiceCounterOf`), so a credit pack bought after a cancellation continues
   * the numbers instead of reusing one.
   */
  previous?: SubscriptionState;
  unbilled: readonly Proration[];
  balance: Balance;
  request: ChangeRequest;
  requestedBy: string;
  at: string;
  date: IsoDate;
}

/** The planned result of a change: what preview returns and what apply writes (R19). */
export interface ChangePlan {
  /** Catch-up steps, then the change's own step(s). */
  steps: BillingStep[];
  /** The invoice issued at once (upgrade, interval change, credit pack), if any. */
  invoice: Invoice | null;
  /** Prorations added to the next invoice (accrued upgrades, add-on and seat changes). */
  accrued: Proration[];
  /** What happens at the period end (a scheduled downgrade or interval change). */
  atPeriodEnd: string | null;
  /** Balances after the change. */
  balance: Balance;
  /** The subscription after the change. */
  subscription: SubscriptionState | undefined;
}

type PlanChangeKind = 'upgrade' | 'downgrade' | 'interval-up' | 'interval-down';

/** Classifies a plan change (R16): by interval length, then by monthly seat price. */
export function classifyPlanChange(current: Plan, next: Plan): PlanChangeKind {
  const from = INTERVAL_MONTHS[current.interval];
  const to = INTERVAL_MONTHS[next.interval];
  if (to > from) return 'interval-up';
  if (to < from) return 'interval-down';
  return new Decimal(next.seatPrice).gt(current.seatPrice) ? 'upgrade' : 'downgrade';
}

/**
 * The R15 gates, in the order of the rules: custom contract, unpaid invoice, no payment
 * method for a change that charges, the current plan, the requester's role, and usage
 * that a downgrade could not hold. Throws the first that applies.
 */
function checkGates(input: ChangeInput, options: { charges: boolean; alreadyOnPlan: boolean; usageExceeds: string | null }): void {
  const { ctx } = input;
  if (ctx.workspace.contract === 'custom') throw new RejectionError('contact-sales', `workspace ${ctx.workspace.id} is on a custom contract: contact sales`);
  const failed = ctx.workspace.failedInvoices ?? [];
  if (failed.length > 0) throw new RejectionError('payment-required', `invoice ${failed[0]} is unpaid: pay it first`);
  if (options.charges && !ctx.workspace.paymentMethod) throw new RejectionError('payment-method-required', 'this change charges money and the workspace has no valid payment method');
  if (options.alreadyOnPlan) throw new RejectionError('already-on-plan', 'the workspace is already on this plan');
  const role = activeRoleAt(ctx.members, input.requestedBy, input.at);
  if (!role || !BILLING_MANAGER_ROLES.includes(role)) throw new RejectionError('forbidden', `${input.requestedBy} is not the owner, an admin or a billing admin`);
  if (options.usageExceeds) throw new RejectionError('usage-exceeds-plan', options.usageExceeds);
}

/**
 * Plans a self-serve change at `date` (R15–R19). Pure: preview and apply both call it with
 * the same inputs, so applying at the same `asOf` produces exactly the previewed invoice.
 * The subscription is first caught up (renewals due, prorations through the day before).
 */
export function planChange(input: ChangeInput): ChangePlan {
  const { ctx, request, date } = input;
  let subscription = input.subscription;
  let balance = input.balance;
  let unbilled = [...input.unbilled];
  const steps: BillingStep[] = [];
  if (subscription) {
    const catchUp = planBillingRun(ctx, subscription, unbilled, balance, date, { invoice: true, accrueThrough: addDays(date, -1) });
    for (const step of catchUp) {
      steps.push(step);
      subscription = step.subscription ?? subscription;
      if (step.kind === 'invoice') {
        balance = step.balance;
        unbilled = [];
      }
      if (step.kind === 'accrual') unbilled.push(...step.prorations);
    }
  }
  // The invoice counter stays where it is when the subscription takes no more changes below.
  const holder = subscription ?? input.previous;
  // R20: an ended or immediately canceled subscription takes no more changes.
  if (subscription && (subscription.status === 'ended' || isEndedBy(subscription, date))) subscription = undefined;
  const seq = invoiceCounterOf(holder, balance).next;
  const key = fnv1a(`${request.type}|${JSON.stringify(request)}|${input.at}`).toString(36);
  const result: ChangePlan = { steps, invoice: null, accrued: [], atPeriodEnd: null, balance, subscription };

  if (request.type === 'ai_credit_pack.purchased') {
    const pack = ctx.catalog.creditPacks.find((candidate) => candidate.id === request.pack);
    if (!pack) throw new RejectionError('unknown-pack', `credit pack ${request.pack} is not in the catalog`);
    const price = Money.of(pack.price, ctx.workspace.currency).round(ctx.workspace.settings.rounding.mode);
    checkGates(input, { charges: price.isPositive(), alreadyOnPlan: false, usageExceeds: null });
    const line: InvoiceLine = { kind: 'one-time', description: pack.name, quantity: 1, unitAmount: price.toString(), amount: price.toString(), periodStart: date, periodEnd: date };
    // Billing credit never becomes AI credits (R13, R18): the pack is paid in full.
    const noCredit = { ...balance, billingCredit: Money.zero(ctx.workspace.currency) };
    const id = invoiceIdFor(ctx.workspace.id, 'change', date, key);
    const assembled = assembleInvoice(
      {
        id,
        number: invoiceNumberOf(ctx.workspace, seq),
        workspace: ctx.workspace.id,
        subscription: subscription?.id ?? '',
        kind: 'change',
        date,
        currency: ctx.workspace.currency,
        periodStart: date,
        periodEnd: date,
      },
      [line],
      noCredit,
    );
    const after: Balance = { ...balance, aiCredits: balance.aiCredits + pack.credits, version: balance.version + 1 };
    return finishWithInvoice(result, subscription, assembled.invoice, after, holder);
  }

  if (!subscription) throw new RejectionError('no-subscription', `workspace ${ctx.workspace.id} has no active subscription`);
  const plan = findPlan(ctx.catalog, subscription.planId);
  const period = currentPeriodOf(subscription);
  const fraction = remainingFraction(date, period);
  const rounding = ctx.workspace.settings.rounding;
  const currency = ctx.workspace.currency;
  const quantity = chargedQuantityOn(period, date);
  let prorationSeq = subscription.nextProrationSeq;
  const proration = (subject: Proration['subject'], delta: number, unitPrice: Money, description: string, planId: string): Proration => {
    const { unitAmount, amount } = prorate(unitPrice, delta, fraction, rounding);
    return {
      id: `${subscription?.id}_${date}_${subject}_${key}_${prorationSeq}`,
      workspace: ctx.workspace.id,
      subscription: subscription?.id ?? '',
      seq: prorationSeq++,
      date,
      delta,
      fromQuantity: quantity,
      toQuantity: quantity,
      planId,
      unitPrice: unitPrice.toString(),
      periodStart: date,
      periodEnd: period.end,
      days: fraction.days,
      of: fraction.of,
      unitAmount: unitAmount.toString(),
      amount: amount.toString(),
      adjustment: false,
      description,
      subject,
    };
  };

  if (request.type === 'seats.purchased') {
    if (plan.seatMode !== 'fixed') throw new RejectionError('fixed-seat-only', `${plan.name} bills active members; seats are not bought`);
    checkGates(input, { charges: true, alreadyOnPlan: false, usageExceeds: null });
    const price = Money.of(period.unitPrice, currency);
    const line = proration('seats', request.seats, price, `${seatsLabel(request.seats)} bought on ${formatDay(date)}, ${fraction.days} of ${fraction.of} days × ${price.format()}`, plan.id);
    line.toQuantity = quantity + request.seats;
    const periods = subscription.periods.map((record, index, all) => (index === all.length - 1 ? { ...record, changes: [...record.changes, { date, delta: request.seats }] } : record));
    const next: SubscriptionState = {
      ...subscription,
      periods,
      seatPurchases: [...subscription.seatPurchases, { date, seats: request.seats }],
      nextProrationSeq: prorationSeq,
      version: subscription.version + 1,
    };
    return finishWithAccrual(result, next, [line]);
  }

  if (request.type === 'storage_addon.changed') {
    const from = subscription.addonId ? findAddon(ctx, subscription.addonId) : null;
    if (request.addon && !ctx.catalog.addons.some((addon) => addon.id === request.addon)) throw new RejectionError('unknown-addon', `add-on ${request.addon} is not in the catalog`);
    const to = request.addon ? findAddon(ctx, request.addon) : null;
    const months = INTERVAL_MONTHS[plan.interval];
    const included = plan.storageGb + (to?.storageGb ?? 0);
    const used = ctx.workspace.storageUsedGb ?? 0;
    // R15: only a downgrade or removal can leave usage above what is included; buying or enlarging never is.
    const shrinks = (to?.storageGb ?? 0) < (from?.storageGb ?? 0);
    const fromPrice = from ? Money.of(from.price, currency).times(months) : Money.zero(currency);
    const toPrice = to ? Money.of(to.price, currency).times(months) : Money.zero(currency);
    checkGates(input, {
      charges: toPrice.amount.gt(fromPrice.amount),
      alreadyOnPlan: (from?.id ?? null) === (to?.id ?? null),
      usageExceeds: shrinks && used > included ? `${used} GB in use is more than the ${included} GB this would include` : null,
    });
    const lines: Proration[] = [];
    if (from) lines.push(proration('addon', -1, fromPrice, `Unused time on ${from.name} after ${formatDay(date)}`, from.id));
    if (to) lines.push(proration('addon', 1, toPrice, `Remaining time on ${to.name} after ${formatDay(date)}`, to.id));
    return finishWithAccrual(result, { ...subscription, addonId: to?.id ?? null, nextProrationSeq: prorationSeq, version: subscription.version + 1 }, lines);
  }

  const target = ctx.catalog.plans.find((candidate) => candidate.id === request.plan);
  if (!target) throw new RejectionError('unknown-plan', `plan ${request.plan} is not in the catalog`);
  const samePlan = target.id === subscription.planId;
  if (samePlan && subscription.pendingPlanId) {
    checkGates(input, { charges: false, alreadyOnPlan: false, usageExceeds: null });
    result.subscription = { ...subscription, pendingPlanId: null, version: subscription.version + 1 };
    result.steps = [...steps, { kind: 'advance', subscription: result.subscription }];
    result.atPeriodEnd = `the scheduled change to ${findPlan(ctx.catalog, subscription.pendingPlanId).name} is canceled`;
    return result;
  }
  const kind = samePlan ? 'upgrade' : classifyPlanChange(plan, target);
  const downgrade = kind === 'downgrade' || kind === 'interval-down';
  // R15: asking for the current plan charges nothing, so it is `already-on-plan` even without a payment method.
  checkGates(input, { charges: !samePlan && !downgrade, alreadyOnPlan: samePlan, usageExceeds: samePlan ? null : planUsageExceeded(input, target, subscription, downgrade) });

  if (kind === 'downgrade' || kind === 'interval-down') {
    const anchor = nextAnchorOf(subscription);
    result.subscription = { ...subscription, pendingPlanId: target.id, version: subscription.version + 1 };
    result.steps = [...steps, { kind: 'advance', subscription: result.subscription }];
    result.atPeriodEnd = `${target.name} from ${formatDay(anchor)}`;
    return result;
  }

  const oldPrice = Money.of(period.unitPrice, currency);
  const unused = proration('plan', -quantity, oldPrice, `Unused time on ${quantity} × ${plan.name} after ${formatDay(date)}`, plan.id);
  const closed: PeriodRecord = { ...period, until: addDays(date, -1) };
  const history = subscription.periods.slice(0, -1);

  if (kind === 'upgrade') {
    const newPrice = Money.of(target.seatPrice, currency);
    const remaining = proration('plan', quantity, newPrice, `Remaining time on ${quantity} × ${target.name} after ${formatDay(date)}`, target.id);
    const split: PeriodRecord = { ...period, start: date, until: undefined, planId: target.id, unitPrice: target.seatPrice, baseQuantity: quantity, changes: [] };
    const next: SubscriptionState = {
      ...subscription,
      planId: target.id,
      pendingPlanId: null,
      periods: [...history, closed, split],
      nextProrationSeq: prorationSeq,
      version: subscription.version + 1,
    };
    if (ctx.workspace.settings.upgradeBilling === 'next-invoice') return finishWithAccrual(result, next, [unused, remaining]);
    const id = invoiceIdFor(ctx.workspace.id, 'change', date, key);
    const lines = prorationLines([unused, remaining]);
    const assembled = assembleInvoice(headerFor(ctx, next, 'change', date, { start: date, end: period.end }, id, seq), lines, balance);
    return finishWithInvoice(result, { ...next, nextProrationSeq: subscription.nextProrationSeq }, assembled.invoice, { ...assembled.balance, version: balance.version + 1 }, holder);
  }

  // Monthly to annual (R16): unused monthly time is credited, the term starts today, the billing day moves,
  // and the new term is billed at the new plan's paid quantity (R8), not the old minimum or high-water mark.
  const billingDay = Number(date.slice(8, 10));
  const term = fullPeriodFrom(date, billingDay, target.interval);
  const id = invoiceIdFor(ctx.workspace.id, 'change', date, key);
  const termQuantity = paidQuantityAt(ctx, subscription, target, input.at, date);
  const pendingLines = prorationLines(unbilled);
  const lines = [...pendingLines, ...prorationLines([unused]), seatsLine(target, termQuantity, term, ctx)];
  if (subscription.addonId) {
    const addon = findAddon(ctx, subscription.addonId);
    const addonCredit = proration('addon', -1, Money.of(addon.price, currency).times(INTERVAL_MONTHS[plan.interval]), `Unused time on ${addon.name} after ${formatDay(date)}`, addon.id);
    lines.push(...prorationLines([addonCredit]), addonLine(addon, target, term, ctx));
  }
  const next: SubscriptionState = retainRecentPeriods({
    ...subscription,
    planId: target.id,
    pendingPlanId: null,
    billingDay,
    periods: [...history, closed, openPeriod(term, target, termQuantity, id)],
    nextTrueUp: nextTrueUpAfter(term, billingDay, date),
    billedProrationSeq: billedThrough(unbilled, subscription.billedProrationSeq),
    version: subscription.version + 1,
  });
  const assembled = assembleInvoice(headerFor(ctx, next, 'change', date, term, id, seq), lines, balance);
  const granted = target.aiCreditsPerPeriod;
  return finishWithInvoice(result, next, assembled.invoice, { ...assembled.balance, aiCredits: assembled.balance.aiCredits + granted, version: balance.version + 1 }, holder);
}

/**
 * The R15 usage gate of a plan change: every change of plan (upgrade, downgrade or interval
 * change) must fit the billable members under the new plan's seat limit; only a downgrade can
 * leave more storage in use than the new plan and the add-on include.
 */
function planUsageExceeded(input: ChangeInput, target: Plan, subscription: SubscriptionState, downgrade: boolean): string | null {
  const { ctx } = input;
  const count = billableCountAt(ctx.members, input.at, billableRolesOf(target));
  if (target.maximumSeats !== null && count > target.maximumSeats) return `${count} billable members is more than the ${target.maximumSeats} seats of ${target.name}`;
  if (!downgrade) return null;
  const used = ctx.workspace.storageUsedGb ?? 0;
  const included = target.storageGb + (subscription.addonId ? findAddon(ctx, subscription.addonId).storageGb : 0);
  return used > included ? `${used} GB in use is more than the ${included} GB ${target.name} includes` : null;
}

function finishWithAccrual(result: ChangePlan, subscription: SubscriptionState, prorations: Proration[]): ChangePlan {
  return { ...result, subscription, accrued: prorations, steps: [...result.steps, { kind: 'accrual', subscription, prorations }] };
}

/**
 * Ends a change with its invoice, taking its number from the workspace's counter in the same
 * step: on the subscription, or, without an active one, on `holder` (the ended subscription)
 * or the balance (`invoiceCounterOf`).
 */
function finishWithInvoice(result: ChangePlan, subscription: SubscriptionState | undefined, invoice: Invoice, balance: Balance, holder: SubscriptionState | undefined): ChangePlan {
  if (!subscription) {
    const counted = holder
      ? { subscription: { ...holder, nextInvoiceSeq: holder.nextInvoiceSeq + 1, version: holder.version + 1 }, balance }
      : { balance: { ...balance, nextInvoiceSeq: (balance.nextInvoiceSeq ?? 1) + 1 } };
    return { ...result, invoice, balance: counted.balance, steps: [...result.steps, { kind: 'purchase', invoice, ...counted }] };
  }
  const bumped = subscription.version === result.subscription?.version ? { ...subscription, version: subscription.version + 1 } : subscription;
  const next = { ...bumped, nextInvoiceSeq: subscription.nextInvoiceSeq + 1 };
  return { ...result, subscription: next, invoice, balance, steps: [...result.steps, { kind: 'invoice', subscription: next, invoice, balance, aiCreditsGranted: 0 }] };
}
