/**
 * Workspace profile updates are atomic (issue 9 item 5): the engine-owned fields (payment
 * method, failed invoices, storage in use) are single UpdateItems, so concurrent deliveries
 * lose nothing, and configure writes only the fields it owns, so re-running it keeps them.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { parseAppEvent } from '../../shared/contracts/events';
import type { Workspace } from '../../shared/domain/catalog';
import { ingestEvent } from '../../shared/jobs/ingest';
import type { Dependencies } from '../../shared/jobs/dependencies';
import type { BillingStore } from '../../shared/store/dynamo-store';
import { keys } from '../../shared/store/keys';
import { configure, parseConfig } from '../../scripts/configure';
import { makeCatalog, makeWorkspace, seed, setupDynamo, UPRO_MONTHLY } from './harness';

const dynamo = setupDynamo();

interface ProfileEvent {
  type: 'payment_method.updated' | 'storage.usage_reported' | 'invoice.payment_failed' | 'invoice.paid';
  at: string;
  detail: Record<string, unknown>;
}

/** The instant `minutes` after 10:00 UTC on 5 Jan 2027, every third one written with a +05:30 offset. */
function instant(minutes: number): string {
  const utc = new Date(Date.UTC(2027, 0, 5, 10, minutes));
  if (minutes % 3 !== 0) return utc.toISOString().replace('.000Z', 'Z');
  const local = new Date(utc.getTime() + 330 * 60000).toISOString().replace('.000Z', '');
  return `${local}+05:30`;
}

/** 40 profile events: 10 payment-method and 10 usage updates, 12 new failures, 8 payments of earlier failures. */
function profileEvents(): ProfileEvent[] {
  const events: ProfileEvent[] = [];
  for (let i = 0; i < 10; i += 1) events.push({ type: 'payment_method.updated', at: instant(i * 4), detail: { present: i % 2 === 1 } });
  for (let i = 0; i < 10; i += 1) events.push({ type: 'storage.usage_reported', at: instant(i * 4 + 1), detail: { usedGb: 10 * (i + 1) } });
  for (let i = 1; i <= 12; i += 1) events.push({ type: 'invoice.payment_failed', at: instant(i * 3 + 2), detail: { invoice: `inv-f${i}` } });
  for (let i = 1; i <= 8; i += 1) events.push({ type: 'invoice.paid', at: instant(i * 5 + 2), detail: { invoice: `inv-p${i}` } });
  return events;
}

/** A fixed shuffle (a small LCG), so the interleaving is arbitrary but the test repeatable. */
function shuffled<T>(items: readonly T[], seed = 7): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i -= 1) {
    state = (state * 1103515245 + 12345) % 2147483648;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

let eventCounter = 0;

function deliver(deps: Dependencies, workspace: string, event: ProfileEvent) {
  return ingestEvent(deps, parseAppEvent(`evt-profile-${++eventCounter}`, event.type, event.at, { workspace, at: event.at, ...event.detail }));
}

/** The engine-owned part of a profile, for comparing two workspaces. */
async function engineState(store: BillingStore, workspace: string): Promise<Pick<Workspace, 'paymentMethod' | 'failedInvoices' | 'storageUsedGb'>> {
  const profile = await store.getWorkspace(workspace);
  if (!profile) throw new Error(`no workspace ${workspace}`);
  return { paymentMethod: profile.paymentMethod, failedInvoices: profile.failedInvoices, storageUsedGb: profile.storageUsedGb };
}

describe('atomic workspace profile updates (DynamoDB Local)', () => {
  test('40 interleaved profile updates delivered concurrently lose nothing: the result equals the sequential one', async () => {
    const w = await dynamo.world();
    await seed(w.store, [makeWorkspace({ id: 'concurrent' }), makeWorkspace({ id: 'sequential' })]);
    // Eight invoices failed earlier; the burst pays them all and fails twelve others.
    for (const workspace of ['concurrent', 'sequential']) {
      for (let i = 1; i <= 8; i += 1) await deliver(w.deps, workspace, { type: 'invoice.payment_failed', at: instant(0), detail: { invoice: `inv-p${i}` } });
    }
    const events = profileEvents();
    expect(events).toHaveLength(40);

    // Eight "Lambdas", each with its own client, take the events in an arbitrary order at once.
    const lambdas = Array.from({ length: 8 }, () => w.newDeps());
    const outcomes = await Promise.all(shuffled(events).map((event, index) => deliver(lambdas[index % lambdas.length], 'concurrent', event)));
    expect(outcomes.every((outcome) => outcome.status === 'stored')).toBe(true);

    const chronological = [...events].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    for (const event of chronological) await deliver(w.deps, 'sequential', event);

    const sequential = await engineState(w.store, 'sequential');
    expect(sequential).toEqual({
      // The latest-dated update of each kind: payment method i = 9 (present), usage i = 9 (100 GB).
      paymentMethod: true,
      storageUsedGb: 100,
      failedInvoices: Array.from({ length: 12 }, (_, i) => `inv-f${i + 1}`).sort(),
    });
    expect(await engineState(w.store, 'concurrent')).toEqual(sequential);
  });

  test('an older payment-method or usage update delivered late does not overwrite a newer one', async () => {
    const w = await dynamo.world();
    await seed(w.store);
    await deliver(w.deps, 'acme', { type: 'payment_method.updated', at: '2027-01-05T12:00:00Z', detail: { present: false } });
    await deliver(w.deps, 'acme', { type: 'payment_method.updated', at: '2027-01-05T11:00:00Z', detail: { present: true } });
    await deliver(w.deps, 'acme', { type: 'storage.usage_reported', at: '2027-01-05T12:00:00+01:00', detail: { usedGb: 7 } });
    // 11:30 UTC is after 11:00 UTC (12:00+01:00), whatever the digits say.
    await deliver(w.deps, 'acme', { type: 'storage.usage_reported', at: '2027-01-05T11:30:00Z', detail: { usedGb: 9 } });
    expect(await engineState(w.store, 'acme')).toEqual({ paymentMethod: false, storageUsedGb: 9, failedInvoices: undefined });
    expect(await w.store.setPaymentMethod('acme', true, '2027-01-05T11:59:59Z')).toBe('superseded');
  });

  test('a profile update for a workspace that does not exist creates nothing', async () => {
    const w = await dynamo.world();
    expect(await w.store.setPaymentMethod('ghost', true, '2027-01-05T11:00:00Z')).toBe('missing');
    expect(await w.store.addFailedInvoice('ghost', 'inv-1')).toBe('missing');
    expect(await w.scan()).toEqual([]);
  });

  test('re-running configure keeps failed invoices, the payment method and storage in use, and updates the configured fields', async () => {
    const w = await dynamo.world();
    const document = { currency: 'USD', plans: [UPRO_MONTHLY], workspaces: [{ id: 'acme', name: 'Acme', paymentMethod: true }] };
    await configure(w.store, parseConfig(document));
    expect(await w.store.getWorkspace('acme')).toMatchObject({ name: 'Acme', timezone: 'UTC', paymentMethod: true });

    await deliver(w.deps, 'acme', { type: 'invoice.payment_failed', at: '2027-01-05T10:00:00Z', detail: { invoice: 'inv-1' } });
    await deliver(w.deps, 'acme', { type: 'invoice.payment_failed', at: '2027-01-05T10:01:00Z', detail: { invoice: 'inv-2' } });
    await deliver(w.deps, 'acme', { type: 'payment_method.updated', at: '2027-01-05T10:02:00Z', detail: { present: false } });
    await deliver(w.deps, 'acme', { type: 'storage.usage_reported', at: '2027-01-05T10:03:00Z', detail: { usedGb: 42 } });

    await configure(w.store, parseConfig({ ...document, workspaces: [{ id: 'acme', name: 'Acme Inc', timezone: 'Europe/Paris', billingDay: 15, paymentMethod: true }] }));
    expect(await w.store.getWorkspace('acme')).toEqual({
      ...makeWorkspace({ name: 'Acme Inc', timezone: 'Europe/Paris', billingDay: 15 }),
      paymentMethod: false,
      failedInvoices: ['inv-1', 'inv-2'],
      storageUsedGb: 42,
    });
    expect(await w.store.getCatalog()).toEqual(makeCatalog());
  });

  test('a profile written by the previous version (engine state inside the map) is read, paid and re-configured without loss', async () => {
    const w = await dynamo.world();
    await w.store.putCatalog(makeCatalog());
    const legacy: Workspace = { ...makeWorkspace(), paymentMethod: false, failedInvoices: ['inv-a', 'inv-b'], storageUsedGb: 5 };
    await w.rawClient.send(new PutCommand({ TableName: w.tableName, Item: { ...keys.workspace('acme'), workspace: legacy } }));
    expect(await w.store.getWorkspace('acme')).toEqual(legacy);

    await deliver(w.deps, 'acme', { type: 'invoice.payment_failed', at: '2027-01-05T10:00:00Z', detail: { invoice: 'inv-c' } });
    await deliver(w.deps, 'acme', { type: 'invoice.paid', at: '2027-01-05T10:01:00Z', detail: { invoice: 'inv-a' } });
    await configure(w.store, parseConfig({ currency: 'USD', plans: [UPRO_MONTHLY], workspaces: [{ id: 'acme', name: 'Acme', paymentMethod: true }] }));
    expect(await w.store.getWorkspace('acme')).toEqual({ ...makeWorkspace(), paymentMethod: false, failedInvoices: ['inv-b', 'inv-c'], storageUsedGb: 5 });
  });
});
