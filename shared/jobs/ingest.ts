import { addDays, minDate, toBillingDate } from '../domain/calendar';
import { billableRolesOf, type Workspace } from '../domain/catalog';
import { cancelSubscription, startSubscription, planBillingRun } from '../domain/engine';
import { RejectionError } from '../domain/errors';
import { billableCountAt, MEMBER_EVENT_TYPES, type MemberEventType } from '../domain/members';
import { findPlan, ownedSeatsOn } from '../domain/proration';
import type { SubscriptionState } from '../domain/subscription';
import type { AppEvent, EventDetail } from '../contracts/events';
import type { ChangeRequest } from '../domain/changes';
import { requestChange } from './changes';
import { foldMembersInto, loadCatalog, loadContext, loadMembers } from './context';
import { withConflictRetry, type Dependencies } from './dependencies';

/** What became of one ingested event. */
export type IngestOutcome = { status: 'stored' } | { status: 'duplicate' } | { status: 'rejected'; reason: string; message: string; recorded?: boolean };

function isMemberEvent(type: string): type is MemberEventType {
  return (MEMBER_EVENT_TYPES as readonly string[]).includes(type);
}

/**
 * Ingests one validated app event: stores member history effective-dated (R4, R7), starts
 * subscriptions with their first invoice (R10), schedules cancellations. Anything the
 * engine does not handle is kept as a rejection record with a reason, never dropped.
 */
export async function ingestEvent(deps: Dependencies, event: AppEvent): Promise<IngestOutcome> {
  const key = `event:${event.id}`;
  if (await deps.store.getIdempotency(key)) return { status: 'duplicate' };
  const outcome = await applyEvent(deps, event);
  // Written last: an attempt that failed anywhere before leaves no record, so the retry redoes
  // every step, each of which is idempotent, and completes what the failed attempt left undone.
  await deps.store.putIdempotency({ key, response: JSON.stringify(outcome), at: event.at });
  return outcome;
}

/** Applies one event; safe to repeat after a partial failure (every write is keyed or conditional). */
async function applyEvent(deps: Dependencies, event: AppEvent): Promise<IngestOutcome> {
  const workspace = await deps.store.getWorkspace(event.workspace);
  try {
    if (!workspace) throw new RejectionError('unknown-workspace', `workspace ${event.workspace} is not configured`);
    if (isMemberEvent(event.type)) return await ingestMemberEvent(deps, workspace, event, event.type);
    switch (event.type) {
      case 'subscription.started':
        return await startFromEvent(deps, workspace, event, event.detail as EventDetail<'subscription.started'>);
      case 'subscription.canceled':
        return await cancelFromEvent(deps, workspace, event, event.detail as EventDetail<'subscription.canceled'>);
      // Profile updates are single atomic UpdateItems (no read-modify-write), so concurrent
      // deliveries never lose one another; a dated update older than the stored one is ignored.
      case 'payment_method.updated':
        await deps.store.setPaymentMethod(workspace.id, (event.detail as EventDetail<'payment_method.updated'>).present, event.at);
        return { status: 'stored' };
      case 'storage.usage_reported':
        await deps.store.setStorageUsage(workspace.id, (event.detail as EventDetail<'storage.usage_reported'>).usedGb, event.at);
        return { status: 'stored' };
      case 'invoice.payment_failed':
        await deps.store.addFailedInvoice(workspace.id, (event.detail as EventDetail<'invoice.payment_failed'>).invoice);
        return { status: 'stored' };
      case 'invoice.paid':
        await deps.store.removeFailedInvoice(workspace.id, (event.detail as EventDetail<'invoice.paid'>).invoice);
        return { status: 'stored' };
      case 'ai_credits.consumed':
        return await consumeAiCredits(deps, workspace, event, (event.detail as EventDetail<'ai_credits.consumed'>).credits);
      case 'plan.change_requested':
      case 'seats.purchased':
      case 'storage_addon.changed':
      case 'ai_credit_pack.purchased':
        return await changeFromEvent(deps, event);
      default:
        throw new RejectionError('unsupported', `${event.type} is not handled by this version of the engine`);
    }
  } catch (error) {
    if (!(error instanceof RejectionError)) throw error;
    await deps.store.recordRejection({ at: event.at, workspace: event.workspace, type: event.type, reason: error.reason, message: error.message, eventId: event.id, payload: event.detail });
    await deps.store.enqueueEvent(`rejection_${event.id}`, 'Change Rejected', { workspace: event.workspace, type: event.type, reason: error.reason, message: error.message, at: event.at }, event.at);
    return { status: 'rejected', reason: error.reason, message: error.message };
  }
}

async function ingestMemberEvent(deps: Dependencies, workspace: Workspace, event: AppEvent, type: MemberEventType): Promise<IngestOutcome> {
  const detail = event.detail as { member: string; role?: string };
  const date = toBillingDate(event.at, workspace.timezone);
  // Already stored means an earlier attempt got this far: its follow-up work may not have, so it runs again.
  await deps.store.appendMemberEvent(workspace.id, event.id, { type, member: detail.member, role: detail.role, at: event.at, date });
  await withConflictRetry(async () => {
    const subscription = await deps.store.getActiveSubscription(workspace.id);
    if (!subscription) return;
    // A late event (its day already accrued) makes the next accrual recompute from its day.
    // One dated on or before the member snapshot's cutoff makes the snapshot stale: the next run
    // reads the whole history and folds it again (`loadMembers`).
    if (date <= subscription.accruedThrough) {
      const recomputeFrom = subscription.recomputeFrom ? minDate(subscription.recomputeFrom, date) : date;
      const stale = subscription.membersFoldedThrough && date <= subscription.membersFoldedThrough;
      await deps.store.putSubscription(workspace, { ...subscription, recomputeFrom, ...(stale ? { membersFoldedThrough: null } : {}), version: subscription.version + 1 });
    }
    await deps.store.markAccrualDue(workspace, date, addDays(date, 1));
    await warnIfOverSeats(deps, workspace, event, subscription.planId, subscription);
  });
  return { status: 'stored' };
}

/** Fixed-seat plans (R8): a count above the seats bought raises a warning, never a charge. */
async function warnIfOverSeats(deps: Dependencies, workspace: Workspace, event: AppEvent, planId: string, subscription: SubscriptionState): Promise<void> {
  const catalog = await loadCatalog(deps.store);
  const plan = findPlan(catalog, planId);
  if (plan.seatMode !== 'fixed') return;
  const { members } = await loadContext(deps.store, workspace, catalog, subscription, toBillingDate(event.at, workspace.timezone));
  const count = billableCountAt(members, event.at, billableRolesOf(plan));
  const seats = ownedSeatsOn(subscription, toBillingDate(event.at, workspace.timezone));
  if (count <= seats) return;
  await deps.store.enqueueEvent(`seat-limit_${event.id}`, 'Seat Limit Exceeded', { workspace: workspace.id, at: event.at, billableMembers: count, seats }, event.at);
}

async function startFromEvent(deps: Dependencies, workspace: Workspace, event: AppEvent, detail: EventDetail<'subscription.started'>): Promise<IngestOutcome> {
  // A conflict re-plans: the reload then shows whether our own earlier write landed.
  return withConflictRetry(() => startOnce(deps, workspace, event, detail));
}

async function startOnce(deps: Dependencies, workspace: Workspace, event: AppEvent, detail: EventDetail<'subscription.started'>): Promise<IngestOutcome> {
  const { active: existing, previous } = await deps.store.getSubscriptions(workspace.id);
  // A start sent again (same instant) is the subscription we already have, whatever plan it has
  // moved to since: the stored periods may be pruned or changed, the start instant never is.
  if (existing && existing.startedAt === event.at) return { status: 'duplicate' };
  if (existing) throw new RejectionError('already-subscribed', `workspace ${workspace.id} already has subscription ${existing.id}`);
  const catalog = await loadCatalog(deps.store);
  if (!catalog.plans.some((plan) => plan.id === detail.plan)) throw new RejectionError('unknown-plan', `plan ${detail.plan} is not in the catalog`);
  if (detail.addon && !catalog.addons.some((addon) => addon.id === detail.addon)) throw new RejectionError('unknown-addon', `add-on ${detail.addon} is not in the catalog`);
  const date = toBillingDate(event.at, workspace.timezone);
  const [loaded, balance] = await Promise.all([loadMembers(deps.store, workspace.id), deps.store.getBalance(workspace.id, workspace.currency)]);
  const ctx = { workspace, catalog, members: loaded.members };
  const step = startSubscription(
    ctx,
    {
      subscriptionId: `sub_${workspace.id}_${date}`,
      planId: detail.plan,
      at: event.at,
      date,
      billingDay: detail.billingDay ?? workspace.billingDay,
      seats: detail.seats ?? null,
      addonId: detail.addon ?? null,
    },
    balance,
    previous,
  );
  await deps.store.applySteps(workspace, await foldMembersInto(deps.store, workspace.id, loaded, [step]), event.at);
  return { status: 'stored' };
}

/** Cancels a subscription (R20, `cancelSubscription`), after catching it up to the cancellation date. */
async function cancelFromEvent(deps: Dependencies, workspace: Workspace, event: AppEvent, detail: EventDetail<'subscription.canceled'>): Promise<IngestOutcome> {
  return withConflictRetry(async () => {
    const subscription = await deps.store.getActiveSubscription(workspace.id);
    if (!subscription) throw new RejectionError('no-subscription', `workspace ${workspace.id} has no active subscription`);
    const date = toBillingDate(event.at, workspace.timezone);
    // Catch up first, so "the current period" is the one containing the cancellation date.
    const catalog = await loadCatalog(deps.store);
    const [loaded, unbilled, balance] = await Promise.all([
      loadMembers(deps.store, workspace.id, subscription),
      deps.store.listUnbilledProrations(subscription),
      deps.store.getBalance(workspace.id, workspace.currency),
    ]);
    const ctx = { workspace, catalog, members: loaded.members };
    const steps = await foldMembersInto(deps.store, workspace.id, loaded, planBillingRun(ctx, subscription, unbilled, balance, date, { invoice: true }));
    await deps.store.applySteps(workspace, steps, event.at);
    const current = steps.reduce((latest, step) => step.subscription ?? latest, subscription);
    const canceled = cancelSubscription(current, date, detail.atPeriodEnd);
    // A redelivery whose first attempt's write landed finds the cancellation applied: writing it
    // again would change nothing but the version (found by test/integration/fault-injection.test.ts).
    if (canceled.endsAfter !== current.endsAfter) await deps.store.putSubscription(workspace, canceled);
    return { status: 'stored' } as const;
  });
}

function changeRequestOf(event: AppEvent): ChangeRequest {
  switch (event.type) {
    case 'plan.change_requested':
      return { type: event.type, plan: (event.detail as EventDetail<'plan.change_requested'>).plan };
    case 'seats.purchased':
      return { type: event.type, seats: (event.detail as EventDetail<'seats.purchased'>).seats };
    case 'storage_addon.changed':
      return { type: event.type, addon: (event.detail as EventDetail<'storage_addon.changed'>).addon };
    default:
      return { type: 'ai_credit_pack.purchased', pack: (event.detail as EventDetail<'ai_credit_pack.purchased'>).pack };
  }
}

/** The event door of self-serve changes: the same path as the `changes` invocation (R19). */
async function changeFromEvent(deps: Dependencies, event: AppEvent): Promise<IngestOutcome> {
  const requestedBy = String((event.detail as { requestedBy: string }).requestedBy);
  const result = await requestChange(deps, { workspace: event.workspace, change: changeRequestOf(event), requestedBy, asOf: event.at, preview: false, eventId: event.id });
  if (result.status === 'rejected') return { status: 'rejected', reason: result.reason, message: result.message, recorded: true };
  return { status: 'stored' };
}

/** Spends AI credits (R18); more than the balance is rejected as `insufficient-ai-credits`. */
async function consumeAiCredits(deps: Dependencies, workspace: Workspace, event: AppEvent, credits: number): Promise<IngestOutcome> {
  // The deduction and its event's record commit together, so a redelivery never deducts twice.
  const key = `credits:${event.id}`;
  const stored = { status: 'stored' } as const;
  return withConflictRetry(async () => {
    if (await deps.store.getIdempotency(key)) return stored;
    const balance = await deps.store.getBalance(workspace.id, workspace.currency);
    if (credits > balance.aiCredits) throw new RejectionError('insufficient-ai-credits', `${credits} AI credits asked, ${balance.aiCredits} available`);
    await deps.store.putBalance(workspace.id, { ...balance, aiCredits: balance.aiCredits - credits, version: balance.version + 1 }, { key, response: JSON.stringify(stored), at: event.at });
    return stored;
  });
}
