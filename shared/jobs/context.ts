import { addDays, maxDate, minDate, type IsoDate } from '../domain/calendar';
import type { Catalog, Workspace } from '../domain/catalog';
import { NotFoundError } from '../domain/errors';
import { foldMembers, foldMemberTail, type MemberEvent, type MemberSnapshot } from '../domain/members';
import type { BillingStep } from '../domain/engine';
import type { BillingContext } from '../domain/proration';
import type { SubscriptionState } from '../domain/subscription';
import type { BillingStore, MemberRead } from '../store/dynamo-store';

/** Loads the catalog, or fails clearly when the engine was never configured. */
export async function loadCatalog(store: BillingStore): Promise<Catalog> {
  const catalog = await store.getCatalog();
  if (!catalog) throw new NotFoundError('catalog (configure the engine first)');
  return catalog;
}

/**
 * The member events the core needs, and how they were read: from the subscription's snapshot and
 * the events dated after it (`fromSnapshot`), or the whole history (`read` is then every event).
 */
export interface LoadedMembers {
  members: MemberEvent[];
  read: MemberRead;
  fromSnapshot: boolean;
}

/**
 * Reads a workspace's member events with one Query (which brings its profile too): the snapshot
 * and the events after it when the subscription says it has one and it can stand in for the
 * history (`foldMemberTail`), else the whole history.
 */
export async function loadMembers(store: BillingStore, ws: string, subscription?: SubscriptionState): Promise<LoadedMembers> {
  const foldedThrough = subscription?.membersFoldedThrough ?? undefined;
  if (foldedThrough) {
    const read = await store.readMembers(ws, addDays(foldedThrough, 1));
    // A snapshot behind the subscription's mark misses events the tail read skipped.
    const members = read.snapshot && read.snapshot.cutoff >= foldedThrough ? foldMemberTail(read.snapshot, read.events) : undefined;
    if (members) return { members, read, fromSnapshot: true };
  }
  const read = await store.readMembers(ws);
  return { members: read.events, read, fromSnapshot: false };
}

/**
 * Loads what the pure core reads for one workspace: the member history through the subscription's
 * snapshot when it has one and nothing is asked about a day it covers (`from`: the earliest
 * billing date the caller asks about), else the whole history.
 */
export async function loadContext(store: BillingStore, workspace: Workspace, catalog: Catalog, subscription?: SubscriptionState, from?: IsoDate): Promise<BillingContext> {
  const usable = subscription?.membersFoldedThrough && (from === undefined || from > subscription.membersFoldedThrough) ? subscription : undefined;
  return { workspace, catalog, members: (await loadMembers(store, workspace.id, usable)).members };
}

/** Events a snapshot may leave in its tail before a write folds them in (they cost a read each renewal until then). */
export const FOLD_AFTER_EVENTS = 8;

/**
 * What to fold after a plan whose last state is `after`: the snapshot to write (or none: the one
 * stored still serves) and the date to record on the subscription as `membersFoldedThrough`.
 * The cutoff is the day before the earliest kept period, the earliest day the core ever prices
 * again (`retainRecentPeriods`), and never past the accrued days. A whole-history read always
 * writes one (else the next run reads it all again); a snapshot read folds only once its tail
 * holds `FOLD_AFTER_EVENTS` foldable events, so a quiet renewal writes nothing for its members.
 */
export function planMemberFold(loaded: LoadedMembers, after: SubscriptionState): { snapshot?: MemberSnapshot; foldedThrough: IsoDate | null } {
  const current = loaded.fromSnapshot ? (loaded.read.snapshot?.cutoff ?? null) : null;
  const earliest = after.periods[0]?.start;
  if (!earliest) return { foldedThrough: current };
  const cutoff = minDate(addDays(earliest, -1), after.accruedThrough);
  if (loaded.fromSnapshot && current) {
    const foldable = loaded.read.events.filter((event) => event.date > current && event.date <= cutoff).length;
    if (cutoff <= current || foldable < FOLD_AFTER_EVENTS) return { foldedThrough: current };
    return { snapshot: foldMembers(loaded.read.snapshot, loaded.read.events, cutoff), foldedThrough: maxDate(current, cutoff) };
  }
  return { snapshot: foldMembers(undefined, loaded.read.events, cutoff), foldedThrough: cutoff };
}

/**
 * Before a plan's steps are written: writes the member snapshot `planMemberFold` asks for (moving
 * events from the old key layout it covers) and records its date on every subscription the steps
 * write. The snapshot goes first, so a crash before the steps leaves it ahead of the subscription,
 * which the next read accepts (`loadMembers`). Steps that write no subscription are returned as
 * they are, and nothing is written for the members.
 */
export async function foldMembersInto(store: BillingStore, ws: string, loaded: LoadedMembers, steps: readonly BillingStep[]): Promise<BillingStep[]> {
  const after = steps.reduce<SubscriptionState | undefined>((latest, step) => step.subscription ?? latest, undefined);
  if (!after) return [...steps];
  const fold = planMemberFold(loaded, after);
  if (fold.snapshot) await store.putMemberSnapshot(ws, fold.snapshot, loaded.read.snapshot?.version ?? 0, loaded.read.legacyKeys);
  return steps.map((step) => (step.subscription ? ({ ...step, subscription: { ...step.subscription, membersFoldedThrough: fold.foldedThrough } } as BillingStep) : step));
}
