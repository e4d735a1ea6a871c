import '../simulator/quiet';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { DEFAULT_SETTINGS, type Catalog, type Plan, type Workspace } from '../shared/domain/catalog';
import { toBillingDate } from '../shared/domain/calendar';
import { planBillingRun, startSubscription } from '../shared/domain/engine';
import { emptyBalance } from '../shared/domain/invoice';
import type { MemberEvent } from '../shared/domain/members';
import { parseAppEvent } from '../shared/contracts/events';
import { runBillingJob } from '../shared/jobs/billing-jobs';
import { ingestEvent } from '../shared/jobs/ingest';
import { BillingStore, createDocumentClient } from '../shared/store/dynamo-store';
import { startLocalDynamo } from '../simulator/dynamo-local';

/**
 * `npm run bench`: what a billing run costs. (1) The pure core: plan a month (accrual of
 * daily churn + the renewal) for many subscriptions. (2) End to end on DynamoDB Local: one
 * invoicing run renewing N workspaces, with the DynamoDB requests it made per workspace.
 */
const plan: Plan = { id: 'pro', name: 'Pro', interval: 'month', seatPrice: '30.00', seatMode: 'flexible', minimumSeats: 1, maximumSeats: null, storageGb: 0, aiCreditsPerPeriod: 0 };
const catalog: Catalog = { plans: [plan], addons: [], creditPacks: [] };
const workspace = (id: string): Workspace => ({ id, name: id, timezone: 'UTC', currency: 'USD', billingDay: 1, contract: 'standard', paymentMethod: true, settings: DEFAULT_SETTINGS });

function members(count: number, changes: number): MemberEvent[] {
  const events: MemberEvent[] = [];
  let seq = 0;
  for (let i = 0; i < count; i += 1) events.push({ type: 'member.joined', member: `m${i}`, role: 'member', at: '2027-01-01T08:00:00Z', date: '2027-01-01', seq: seq++ });
  for (let i = 0; i < changes; i += 1) {
    const at = `2027-01-${String(2 + (i % 27)).padStart(2, '0')}T10:00:00Z`;
    events.push(i % 3 === 2
      ? { type: 'member.removed', member: `c${i - 1}`, at, date: toBillingDate(at, 'UTC'), seq: seq++ }
      : { type: 'member.joined', member: `c${i}`, role: 'member', at, date: toBillingDate(at, 'UTC'), seq: seq++ });
  }
  return events;
}

function benchCore(subscriptions: number): void {
  const history = members(25, 12);
  const started = performance.now();
  let invoices = 0;
  for (let i = 0; i < subscriptions; i += 1) {
    const ctx = { workspace: workspace(`w${i}`), catalog, members: history };
    const first = startSubscription(ctx, { subscriptionId: `s${i}`, planId: 'pro', at: '2027-01-01T09:00:00Z', date: '2027-01-01', billingDay: 1, seats: null, addonId: null }, emptyBalance('USD'));
    const steps = planBillingRun(ctx, first.subscription ?? (undefined as never), [], emptyBalance('USD'), '2027-02-01', { invoice: true });
    invoices += steps.filter((step) => step.kind === 'invoice').length;
  }
  const ms = performance.now() - started;
  const perSub = ms / subscriptions;
  console.log(`core: ${subscriptions} subscriptions × (first invoice + a month of 12 seat changes + renewal) in ${ms.toFixed(0)} ms`);
  console.log(`      ${perSub.toFixed(3)} ms per subscription → ${((perSub * 1_000_000) / 1000 / 60).toFixed(1)} CPU-minutes for a million (${invoices} renewals)`);
}

async function benchEndToEnd(workspaces: number): Promise<void> {
  const dynamo = await startLocalDynamo();
  try {
    const tableName = `bench-${randomUUID()}`;
    await dynamo.createTable(tableName);
    const doc = createDocumentClient(dynamo.config);
    let requests = 0;
    doc.middlewareStack.add((next) => async (args) => {
      requests += 1;
      return next(args);
    }, { step: 'initialize', name: 'countRequests' });
    const store = new BillingStore(doc, { tableName });
    const deps = { store, publisher: { publish: async () => undefined } };
    await store.putCatalog(catalog);
    for (let i = 0; i < workspaces; i += 1) {
      const ws = workspace(`w${i}`);
      await store.putWorkspace(ws);
      for (let m = 0; m < 5; m += 1) await ingestEvent(deps, parseAppEvent(`e${i}-${m}`, 'member.joined', '2027-01-01T08:00:00Z', { workspace: ws.id, member: `m${m}`, role: 'member' }));
      await ingestEvent(deps, parseAppEvent(`s${i}`, 'subscription.started', '2027-01-01T09:00:00Z', { workspace: ws.id, plan: 'pro' }));
    }
    requests = 0;
    const started = performance.now();
    const report = await runBillingJob(deps, 'invoicing', { scheduledTime: '2027-02-01T00:05:00Z' });
    const ms = performance.now() - started;
    const renewed = report.workspaces.reduce((n, w) => n + w.invoices.length, 0);
    console.log(`DynamoDB Local: one invoicing run renewed ${renewed} of ${workspaces} workspaces in ${ms.toFixed(0)} ms, ${requests} requests (${(requests / workspaces).toFixed(1)} per workspace; ${store.dueShards} due-index queries to find them)`);
  } finally {
    await dynamo.stop();
  }
}

async function main(): Promise<void> {
  benchCore(Number(process.env.BENCH_SUBSCRIPTIONS ?? 20000));
  await benchEndToEnd(Number(process.env.BENCH_WORKSPACES ?? 300));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
