/**
 * Reads independent of history (issue 10 item 3) against DynamoDB Local: billing reads the member
 * snapshot and the events after it, bills exactly what the whole history bills, refolds after a
 * late event older than the snapshot, and migrates member events stored under the old key layout.
 */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { addDays } from '../../shared/domain/calendar';
import { planBillingRun } from '../../shared/domain/engine';
import type { Invoice } from '../../shared/domain/invoice';
import type { MemberEvent } from '../../shared/domain/members';
import { runBillingJob } from '../../shared/jobs/billing-jobs';
import { loadCatalog } from '../../shared/jobs/context';
import { keys } from '../../shared/store/keys';
import { deliver, makeWorkspace, seed, setupDynamo, storedInvoices, subscribe, type World } from './harness';

const dynamo = setupDynamo();

/** What the pure core plans for an invoicing run on `asOf` from the whole member history (no snapshot). */
async function wholeHistoryInvoices(w: World, asOf: string): Promise<Invoice[]> {
  const subscription = await w.store.getActiveSubscription('acme');
  const workspace = await w.store.getWorkspace('acme');
  if (!subscription || !workspace) throw new Error('no subscription');
  const ctx = { workspace, catalog: await loadCatalog(w.store), members: await w.store.listMemberEvents('acme') };
  const steps = planBillingRun(ctx, subscription, await w.store.listUnbilledProrations(subscription), await w.store.getBalance('acme', 'USD'), asOf, { invoice: true });
  return steps.flatMap((step) => (step.kind === 'invoice' ? [step.invoice] : []));
}

async function invoiceOn(w: World, asOf: string): Promise<Invoice[]> {
  const expected = await wholeHistoryInvoices(w, asOf);
  await runBillingJob(w.deps, 'invoicing', { scheduledTime: `${asOf}T00:05:00Z` });
  const stored = (await storedInvoices(w.store, 'acme')).filter((invoice) => invoice.date === asOf);
  expect(stored).toEqual(expected);
  return stored;
}

async function snapshotOf(w: World): Promise<{ cutoff: string; seq: number; members: Record<string, string> } | undefined> {
  const out = await w.rawClient.send(new GetCommand({ TableName: w.tableName, Key: keys.memberSnapshot('acme'), ConsistentRead: true }));
  return out.Item?.snapshot as { cutoff: string; seq: number; members: Record<string, string> } | undefined;
}

/** 3 members from Jan 1, then a member joining on each even day of January and leaving the next. */
async function churningWorkspace(w: World): Promise<void> {
  await seed(w.store, [makeWorkspace()]);
  await subscribe(w.deps, 'acme', '2027-01-01T08:00:00Z', '2027-01-01T09:00:00Z');
  for (let day = 2; day <= 27; day += 1) {
    const at = `${addDays('2027-01-01', day - 1)}T10:00:00Z`;
    await deliver(w.deps, day % 2 === 0 ? 'member.joined' : 'member.removed', at, { workspace: 'acme', member: `churn${Math.floor(day / 2)}`, role: 'member' });
  }
}

describe('member snapshot (DynamoDB Local)', () => {
  test('renewals bill from the snapshot and its tail exactly what the whole history bills; a renewal folds January once its tail is long', async () => {
    const w = await dynamo.world();
    await churningWorkspace(w);
    // The start folded the history before it (nothing) through the day before its period.
    expect((await w.store.getActiveSubscription('acme'))?.membersFoldedThrough).toBe('2026-12-31');

    await invoiceOn(w, '2027-02-01');
    // January is still a kept period (the earliest day the core prices again): nothing to fold yet.
    expect((await snapshotOf(w))?.cutoff).toBe('2026-12-31');

    await invoiceOn(w, '2027-03-01');
    // Now January is out of reach: its events are folded and the roster holds who is left.
    const snapshot = await snapshotOf(w);
    expect(snapshot?.cutoff).toBe('2027-01-31');
    expect(snapshot?.members).toEqual({ u1: 'a:owner', u2: 'a:member', u3: 'a:member' });
    expect((await w.store.getActiveSubscription('acme'))?.membersFoldedThrough).toBe('2027-01-31');

    // The April renewal reads the tail from February on: none of January's 29 events.
    const tail = await w.store.readMembers('acme', '2027-02-01');
    expect(tail.events).toEqual([]);
    expect(tail.workspace?.id).toBe('acme');
    await invoiceOn(w, '2027-04-01');
  });

  test('a late event older than the snapshot makes it stale: the next run reads the whole history, bills the adjustment and folds again', async () => {
    const w = await dynamo.world();
    await churningWorkspace(w);
    await invoiceOn(w, '2027-02-01');
    await invoiceOn(w, '2027-03-01');
    expect((await snapshotOf(w))?.cutoff).toBe('2027-01-31');

    // Dated Jan 20 (folded already), delivered in March: the snapshot cannot know it.
    expect(await deliver(w.deps, 'member.joined', '2027-01-20T12:00:00Z', { workspace: 'acme', member: 'late', role: 'member' })).toEqual({ status: 'stored' });
    const marked = await w.store.getActiveSubscription('acme');
    expect(marked?.membersFoldedThrough).toBeNull();
    expect(marked?.recomputeFrom).toBe('2027-01-20');

    const [april] = await invoiceOn(w, '2027-04-01');
    // Recomputed from the earliest kept period (February): the late seat is adjusted for February
    // and March (R9, late events), then renewed in April at 4 seats.
    expect(april.lines.filter((line) => line.description.startsWith('Adjustment: ')).length).toBeGreaterThan(0);
    expect(april.lines.at(-1)?.quantity).toBe(4);
    const refolded = await snapshotOf(w);
    expect(refolded?.members.late).toBe('a:member');
    expect((await w.store.getActiveSubscription('acme'))?.membersFoldedThrough).toBe(refolded?.cutoff);
  });

  test('member events stored under the old key layout (MEMBER#<eventId>) are read whole once, then moved to dated keys', async () => {
    const w = await dynamo.world();
    await churningWorkspace(w);
    // As an earlier version stored them: keyed by event id, no snapshot, no mark on the subscription.
    const out = await w.rawClient.send(
      new QueryCommand({ TableName: w.tableName, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)', ExpressionAttributeValues: { ':pk': 'WS#acme', ':p': 'MEMBER#' } }),
    );
    for (const item of out.Items ?? []) {
      const event = item.event as MemberEvent;
      await w.rawClient.send(new DeleteCommand({ TableName: w.tableName, Key: { pk: item.pk, sk: item.sk } }));
      await w.rawClient.send(new PutCommand({ TableName: w.tableName, Item: { pk: item.pk, sk: `MEMBER#legacy-${event.seq}`, event } }));
    }
    await w.rawClient.send(new DeleteCommand({ TableName: w.tableName, Key: keys.memberSnapshot('acme') }));
    const subscription = await w.store.getActiveSubscription('acme');
    if (!subscription) throw new Error('no subscription');
    const { membersFoldedThrough: _dropped, ...legacy } = subscription;
    await w.store.putSubscription(makeWorkspace(), { ...legacy, version: legacy.version + 1 });
    expect((await w.store.getActiveSubscription('acme'))?.membersFoldedThrough).toBeUndefined();

    await invoiceOn(w, '2027-02-01');
    const cutoff = (await snapshotOf(w))?.cutoff;
    expect(cutoff).toBe('2026-12-31');
    // Every event dated after the cutoff now sits under its dated key; the tail read finds them all.
    const after = await w.rawClient.send(
      new QueryCommand({ TableName: w.tableName, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)', ExpressionAttributeValues: { ':pk': 'WS#acme', ':p': 'MEMBER#legacy-' } }),
    );
    expect(after.Items ?? []).toEqual([]);
    expect((await w.store.readMembers('acme', '2027-01-01')).events).toHaveLength(29);
    await invoiceOn(w, '2027-03-01');
  });
});
