import '../simulator/quiet';
import { addDays, eachDate, type Interval } from '../shared/domain/calendar';
import { DEFAULT_SETTINGS, type Plan } from '../shared/domain/catalog';
import { planBillingRun, startSubscription, type BillingStep } from '../shared/domain/engine';
import { emptyBalance, invoiceSeqOf, type Invoice } from '../shared/domain/invoice';
import type { MemberEvent } from '../shared/domain/members';
import type { BillingContext, Proration } from '../shared/domain/proration';
import type { SubscriptionState } from '../shared/domain/subscription';
import { invoiceEventDetail } from '../shared/store/dynamo-store';
import { itemSizeBytes } from '../shared/store/item-size';
import { keys } from '../shared/store/keys';

/**
 * `npx tsx scripts/item-sizes.ts`: the DynamoDB sizes README's "Cost and scale" quotes. The
 * subscription item over 36 months of a seat change every day (pure core, monthly and annual
 * plans), and the invoice item and `Invoice Issued` event of a renewal billing one such annual
 * term's adjustments, one line per day.
 */
const months = 36;

function churn(): MemberEvent[] {
  const events: MemberEvent[] = Array.from({ length: 5 }, (_, i) => ({ type: 'member.joined', member: `u${i}`, role: 'member', at: '2027-01-01T08:00:00Z', date: '2027-01-01', seq: i }));
  eachDate('2027-01-02', addDays('2027-01-01', months * 31)).forEach((date, day) => {
    events.push({ type: day % 2 === 0 ? 'member.joined' : 'member.removed', member: `d${Math.floor(day / 2)}`, role: 'member', at: `${date}T10:00:00Z`, date, seq: events.length });
  });
  return events;
}

function subscriptionBytes(subscription: SubscriptionState): number {
  const index = keys.dueIndex('DUE', subscription.workspace, '2030-01-01T00:00:00Z', 16);
  return itemSizeBytes({ ...keys.subscription(subscription.workspace, subscription.id), ...index, state: subscription, version: subscription.version });
}

/** Runs the daily jobs for `months` months; returns the largest subscription item per year and the invoices. */
function replay(interval: Interval): { largest: Map<string, number>; invoices: Invoice[] } {
  const plan: Plan = {
    id: 'pro',
    name: 'Pro',
    interval,
    seatPrice: interval === 'year' ? '600.00' : '50.00',
    seatMode: 'flexible',
    minimumSeats: 1,
    maximumSeats: null,
    storageGb: 0,
    aiCreditsPerPeriod: 0,
  };
  const ctx: BillingContext = {
    workspace: { id: 'acme', name: 'Acme', timezone: 'UTC', currency: 'USD', billingDay: 1, contract: 'standard', paymentMethod: true, settings: DEFAULT_SETTINGS },
    catalog: { plans: [plan], addons: [], creditPacks: [] },
    members: churn(),
  };
  const first = startSubscription(
    ctx,
    { subscriptionId: 'sub_acme_2027-01-01', planId: plan.id, at: '2027-01-01T09:00:00Z', date: '2027-01-01', billingDay: 1, seats: null, addonId: null },
    emptyBalance('USD'),
  );
  if (first.kind !== 'invoice') throw new Error('no first invoice');
  let subscription = first.subscription;
  let balance = first.balance;
  const prorations: Proration[] = [];
  const invoices: Invoice[] = [first.invoice];
  const largest = new Map<string, number>();
  const apply = (steps: BillingStep[]) => {
    for (const step of steps) {
      if (step.subscription) subscription = step.subscription;
      if (step.kind === 'accrual') prorations.push(...step.prorations);
      if (step.kind === 'invoice') {
        invoices.push(step.invoice);
        balance = step.balance;
      }
    }
  };
  for (const date of eachDate('2027-01-02', addDays(`${2027 + months / 12}-01-01`, 0))) {
    const unbilled = () => prorations.filter((proration) => proration.seq >= subscription.billedProrationSeq);
    apply(planBillingRun(ctx, subscription, unbilled(), balance, addDays(date, -1), { invoice: false, accrueThrough: addDays(date, -1) }));
    apply(planBillingRun(ctx, subscription, unbilled(), balance, date, { invoice: true }));
    const year = addDays(date, -1).slice(0, 4);
    largest.set(year, Math.max(largest.get(year) ?? 0, subscriptionBytes(subscription)));
  }
  return { largest, invoices };
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
for (const interval of ['month', 'year'] as const) {
  const { largest, invoices } = replay(interval);
  console.log(
    `${interval === 'year' ? 'annual' : 'monthly'} plan, a seat change every day: largest subscription item per year ${[...largest].map(([year, bytes]) => `${year} ${kb(bytes)}`).join(', ')}`,
  );
  if (interval === 'year') {
    // True-ups bill each month's changes; a term's worth on one invoice is what late events give.
    const lines = invoices.filter((invoice) => invoice.kind !== 'first').flatMap((invoice) => invoice.lines.filter((line) => line.kind === 'proration'));
    const term = { ...invoices[invoices.length - 1], lines: [...lines, ...lines, ...lines].slice(0, 1000) };
    const item = { ...keys.invoice('acme', invoiceSeqOf(term.number)), invoice: term, issuedAt: '2030-01-01T00:05:00Z' };
    console.log(
      `an invoice of ${term.lines.length} adjustment lines: item ${kb(itemSizeBytes(item))} (limit 400 KB), event detail ${kb(Buffer.byteLength(JSON.stringify(invoiceEventDetail(term))))} (limit 256 KB)`,
    );
  }
}
