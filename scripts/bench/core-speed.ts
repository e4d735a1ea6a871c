import { DEFAULT_SETTINGS, type Workspace } from '../../shared/domain/catalog';
import { planBillingRun, startSubscription } from '../../shared/domain/engine';
import { emptyBalance } from '../../shared/domain/invoice';
import type { MemberEvent } from '../../shared/domain/members';
import type { SubscriptionState } from '../../shared/domain/subscription';
import { BENCH_CATALOG, BENCH_MEMBERS } from './seed';

/** How fast the pure core plans a quiet renewal, on one core of this machine. */
export interface CoreSpeed {
  renewalsPerSecond: number;
  renewals: number;
  ms: number;
  /** What was timed, for the output. */
  method: string;
}

const workspace = (id: string): Workspace => ({ id, name: id, timezone: 'UTC', currency: 'USD', billingDay: 1, contract: 'standard', paymentMethod: true, settings: DEFAULT_SETTINGS });

/**
 * The bench's pure-core figure: `planBillingRun` for a quiet monthly renewal (the bench's
 * workspaces: `BENCH_MEMBERS` members, no change in the month), over 1,000 distinct
 * subscriptions in turn, after a warm-up. Subscriptions are started outside the timing.
 *
 * The seam for issue 10 item 6: `scripts/core-bench.ts` (branch `core`) exports its own
 * `measureCoreSpeed()`; once merged, `scripts/bench.ts` imports that one instead of this
 * (one import line), as long as it returns a `CoreSpeed`.
 */
export function measureCoreSpeed(renewals = 20_000): CoreSpeed {
  const members: MemberEvent[] = Array.from({ length: BENCH_MEMBERS }, (_, m) => ({ type: 'member.joined', member: `m${m}`, role: m === 0 ? 'owner' : 'member', at: '2027-01-01T08:00:00Z', date: '2027-01-01', seq: m }));
  const subscriptions: Array<{ ctx: { workspace: Workspace; catalog: typeof BENCH_CATALOG; members: MemberEvent[] }; subscription: SubscriptionState }> = [];
  for (let i = 0; i < 1000; i += 1) {
    const ctx = { workspace: workspace(`w${i}`), catalog: BENCH_CATALOG, members };
    const first = startSubscription(ctx, { subscriptionId: `s${i}`, planId: 'pro', at: '2027-01-01T09:00:00Z', date: '2027-01-01', billingDay: 1, seats: null, addonId: null }, emptyBalance('USD'));
    if (!first.subscription) throw new Error('the core did not start the bench subscription');
    subscriptions.push({ ctx, subscription: first.subscription });
  }
  const plan = (i: number) => {
    const { ctx, subscription } = subscriptions[i % subscriptions.length];
    const steps = planBillingRun(ctx, subscription, [], emptyBalance('USD'), '2027-02-01', { invoice: true });
    if (!steps.some((step) => step.kind === 'invoice')) throw new Error('the core planned no renewal');
  };
  for (let i = 0; i < 2000; i += 1) plan(i);
  const started = performance.now();
  for (let i = 0; i < renewals; i += 1) plan(i);
  const ms = performance.now() - started;
  return { renewalsPerSecond: (renewals / ms) * 1000, renewals, ms, method: 'planBillingRun, quiet monthly renewal, 1,000 subscriptions in turn' };
}
