import { createHash } from 'node:crypto';
import { toBillingDate } from '../domain/calendar';
import { planChange, type ChangePlan, type ChangeRequest } from '../domain/changes';
import { RejectionError } from '../domain/errors';
import type { Invoice } from '../domain/invoice';
import type { Proration } from '../domain/proration';
import { loadCatalog, loadContext } from './context';
import { withConflictRetry, type Dependencies } from './dependencies';

/** A change request from either door: an app event or the on-demand `changes` invocation. */
export interface ChangeCommand {
  workspace: string;
  change: ChangeRequest;
  requestedBy: string;
  /** The instant the change is made (or previewed) at. */
  asOf: string;
  preview: boolean;
  /** The delivering event's id, for the rejection record. */
  eventId?: string;
  /** Applying twice with one key changes once and returns the first response (default: the event id, else a hash of the request). */
  idempotencyKey?: string;
}

/** What a change did (or, previewed, would do) (R19). */
export type ChangeResult =
  | {
      status: 'applied' | 'preview';
      invoice: Invoice | null;
      accrued: Proration[];
      atPeriodEnd: string | null;
      balance: { billingCredit: string; aiCredits: number };
    }
  | { status: 'rejected'; reason: string; message: string };

/**
 * Previews or applies a change through one code path (R19): load, plan with the pure core,
 * and either return the plan (preview, nothing written) or write its steps. A rejection
 * writes only its rejection record and a `Change Rejected` event (never on preview).
 *
 * Applying is idempotent by key, as Stripe's idempotency keys are: the change's writes and a
 * record of its response commit in one transaction, so a retry (after a timeout, a lost
 * response or a redelivered event) returns that first response byte for byte and changes
 * nothing. A rejection's response is recorded too. A version conflict is never taken for a
 * retry: only the key's record is, and a conflict without one re-plans.
 */
export async function requestChange(deps: Dependencies, command: ChangeCommand): Promise<ChangeResult> {
  const key = command.preview ? undefined : `change:${command.idempotencyKey ?? command.eventId ?? changeRequestId(command)}`;
  const recorded = async () => {
    const record = key ? await deps.store.getIdempotency(key) : undefined;
    return record ? (JSON.parse(record.response) as ChangeResult) : undefined;
  };
  const first = await recorded();
  if (first) return first;
  try {
    return await withConflictRetry(async () => {
      const plan = await planFor(deps, command);
      const result = serialized<ChangeResult>({
        status: command.preview ? 'preview' : 'applied',
        invoice: plan.invoice,
        accrued: plan.accrued,
        atPeriodEnd: plan.atPeriodEnd,
        balance: { billingCredit: plan.balance.billingCredit.toString(), aiCredits: plan.balance.aiCredits },
      });
      if (!key) return result;
      const workspace = await deps.store.getWorkspace(command.workspace);
      if (!workspace) return result;
      try {
        await deps.store.applySteps(workspace, plan.steps, command.asOf, { once: { key, response: JSON.stringify(result), at: command.asOf } });
      } catch (error) {
        // Our own earlier attempt may have landed (its response was lost): its record says so.
        const landed = error instanceof Error && error.name === 'ConflictError' ? await recorded() : undefined;
        if (landed) return landed;
        throw error;
      }
      return result;
    });
  } catch (error) {
    if (!(error instanceof RejectionError)) throw error;
    const result = serialized<ChangeResult>({ status: 'rejected', reason: error.reason, message: error.message });
    if (key) {
      const eventId = command.eventId ?? changeRequestId(command);
      await deps.store.recordRejection({ at: command.asOf, workspace: command.workspace, type: command.change.type, reason: error.reason, message: error.message, eventId, payload: command.change });
      await deps.store.enqueueEvent(
        `rejection_${eventId}`,
        'Change Rejected',
        { workspace: command.workspace, type: command.change.type, reason: error.reason, message: error.message, at: command.asOf },
        command.asOf,
      );
      await deps.store.putIdempotency({ key, response: JSON.stringify(result), at: command.asOf });
      return (await recorded()) ?? result;
    }
    return result;
  }
}

/** The value as JSON gives it back, so a first response and its replay serialize to the same bytes. */
function serialized<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/**
 * The id of an on-demand change request without a delivering event: a hash of the whole
 * request, so two different requests at the same instant keep two rejection records and two
 * `Change Rejected` events, while the same request retried is recorded once.
 */
export function changeRequestId(command: Pick<ChangeCommand, 'workspace' | 'change' | 'requestedBy' | 'asOf'>): string {
  const request = canonicalJson({ workspace: command.workspace, change: command.change, requestedBy: command.requestedBy, asOf: command.asOf });
  return `change-${createHash('sha256').update(request).digest('hex').slice(0, 32)}`;
}

/** JSON with object keys sorted, so the same request hashes the same whatever its key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, field]) => field !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, field]) => `${JSON.stringify(key)}:${canonicalJson(field)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

async function planFor(deps: Dependencies, command: ChangeCommand): Promise<ChangePlan> {
  const workspace = await deps.store.getWorkspace(command.workspace);
  if (!workspace) throw new RejectionError('unknown-workspace', `workspace ${command.workspace} is not configured`);
  const catalog = await loadCatalog(deps.store);
  const { active: subscription, previous } = await deps.store.getSubscriptions(workspace.id);
  const [ctx, unbilled, balance] = await Promise.all([
    loadContext(deps.store, workspace, catalog, subscription, toBillingDate(command.asOf, workspace.timezone)),
    subscription ? deps.store.listUnbilledProrations(subscription) : Promise.resolve([]),
    deps.store.getBalance(workspace.id, workspace.currency),
  ]);
  return planChange({
    ctx,
    subscription,
    previous,
    unbilled,
    balance,
    request: command.change,
    requestedBy: command.requestedBy,
    at: command.asOf,
    date: toBillingDate(command.asOf, workspace.timezone),
  });
}
