import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { createChangesHandler } from '../../functions/changes/handler';
import type { Plan } from '../../shared/domain/catalog';
import { parseJobInvocation } from '../../shared/contracts/events';
import { runBillingJob } from '../../shared/jobs/billing-jobs';
import type { Dependencies } from '../../shared/jobs/dependencies';
import { BillingStore, createDocumentClient } from '../../shared/store/dynamo-store';
import { deliver, makeCatalog, seed, setupDynamo, storedInvoices, subscribe, UPRO_MONTHLY, type World } from './harness';

const FIXED: Plan = { ...UPRO_MONTHLY, id: 'fixed-monthly', name: 'Fixed', seatMode: 'fixed', minimumSeats: 5 };
const UBIZ: Plan = { ...UPRO_MONTHLY, id: 'ubiz-monthly', name: 'uBiz', seatPrice: '100.00' };
const catalog = { ...makeCatalog([UPRO_MONTHLY, UBIZ, FIXED]), creditPacks: [{ id: 'ai-1000', name: '1,000 AI credits', price: '10.00', credits: 1000 }] };
const dynamo = setupDynamo();

type Fault = 'before' | 'after';

/**
 * Dependencies whose DynamoDB client fails the first `times` calls that `matches` picks:
 * `before` the call is sent (nothing lands), or `after` it returned (it landed, the caller
 * sees an error: a lost response).
 */
function faultyDeps(world: World, matches: (input: Record<string, unknown>) => boolean, fault: Fault, times = 1, error: () => Error = () => new Error('socket hang up')): Dependencies {
  const doc = createDocumentClient({ endpoint: world.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  let left = times;
  doc.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as Record<string, unknown>;
      const hit = left > 0 && matches(input);
      if (hit) left -= 1;
      if (hit && fault === 'before') throw error();
      const out = await next(args);
      if (hit) throw error();
      return out;
    },
    { step: 'initialize', name: 'injectedFault' },
  );
  return { store: new BillingStore(doc, { tableName: world.tableName }), publisher: world.deps.publisher };
}

/** True for a transaction or put that writes an item whose sort key starts with `prefix`. */
function writes(prefix: string) {
  return (input: Record<string, unknown>): boolean => {
    const items = Array.isArray(input.TransactItems) ? (input.TransactItems as Array<{ Put?: { Item?: { sk?: unknown } } }>) : [{ Put: input as { Item?: { sk?: unknown } } }];
    return items.some((item) => typeof item.Put?.Item?.sk === 'string' && item.Put.Item.sk.startsWith(prefix));
  };
}

async function world(): Promise<World> {
  const w = await dynamo.world();
  await seed(w.store, undefined, catalog);
  return w;
}

describe('every ingested event is applied at most once, and a retry completes what a failed attempt left', () => {
  test('seats.purchased redelivered with the same envelope id buys the seats once', async () => {
    const w = await world();
    await subscribe(w.deps, 'acme', '2027-01-01T08:00:00Z', '2027-01-01T09:00:00Z', 3, FIXED.id);
    const buy = { workspace: 'acme', seats: 2, requestedBy: 'u1' };
    expect(await deliver(w.deps, 'seats.purchased', '2027-01-10T09:00:00Z', buy, 'buy-1')).toEqual({ status: 'stored' });
    expect(await deliver(w.deps, 'seats.purchased', '2027-01-10T09:00:00Z', buy, 'buy-1')).toEqual({ status: 'duplicate' });
    const subscription = await w.store.getActiveSubscription('acme');
    expect(subscription?.seatPurchases).toEqual([{ date: '2027-01-10', seats: 2 }]);
    expect(subscription && (await w.store.listUnbilledProrations(subscription)).map((proration) => proration.amount)).toEqual(['99.36']);
  });

  test('seats.purchased whose write landed but whose caller saw an error is not bought again on retry', async () => {
    const w = await world();
    await subscribe(w.deps, 'acme', '2027-01-01T08:00:00Z', '2027-01-01T09:00:00Z', 3, FIXED.id);
    const buy = { workspace: 'acme', seats: 2, requestedBy: 'u1' };
    await expect(deliver(faultyDeps(w, writes('PRORATION#'), 'after'), 'seats.purchased', '2027-01-10T09:00:00Z', buy, 'buy-1')).rejects.toThrow('socket hang up');
    expect(await deliver(w.deps, 'seats.purchased', '2027-01-10T09:00:00Z', buy, 'buy-1')).toEqual({ status: 'stored' });
    expect(await deliver(w.deps, 'seats.purchased', '2027-01-10T09:00:00Z', buy, 'buy-1')).toEqual({ status: 'duplicate' });
    expect((await w.store.getActiveSubscription('acme'))?.seatPurchases).toEqual([{ date: '2027-01-10', seats: 2 }]);
    await runBillingJob(w.deps, 'invoicing', parseJobInvocation({ asOf: '2027-02-01' }));
    // 2 × round(70 × 22/31) = 2 × 49.68 on the renewal, then 7 seats for February.
    expect((await storedInvoices(w.store, 'acme')).at(-1)?.lines.map((line) => line.amount)).toEqual(['99.36', '490.00']);
  });

  test('ai_credits.consumed redelivered, or retried after its write landed, is deducted once', async () => {
    const w = await world();
    await subscribe(w.deps, 'acme', '2027-01-01T08:00:00Z', '2027-01-01T09:00:00Z');
    await deliver(w.deps, 'ai_credit_pack.purchased', '2027-01-02T09:00:00Z', { workspace: 'acme', pack: 'ai-1000', requestedBy: 'u1' });
    await expect(deliver(faultyDeps(w, writes('BALANCE'), 'after'), 'ai_credits.consumed', '2027-01-03T09:00:00Z', { workspace: 'acme', credits: 100 }, 'use-1')).rejects.toThrow('socket hang up');
    expect(await deliver(w.deps, 'ai_credits.consumed', '2027-01-03T09:00:00Z', { workspace: 'acme', credits: 100 }, 'use-1')).toEqual({ status: 'stored' });
    expect(await deliver(w.deps, 'ai_credits.consumed', '2027-01-03T09:00:00Z', { workspace: 'acme', credits: 100 }, 'use-1')).toEqual({ status: 'duplicate' });
    expect((await w.store.getBalance('acme', 'USD')).aiCredits).toBe(900);
  });

  test('a late member event whose write landed but whose caller saw an error still gets its recomputation on retry (Feb 1 bills the Jan 5 seat: 27/31 × 70 = 60.97)', async () => {
    const w = await world();
    await subscribe(w.deps, 'acme', '2027-01-01T08:00:00Z', '2027-01-01T09:00:00Z');
    await runBillingJob(w.deps, 'accrual', parseJobInvocation({ asOf: '2027-01-12', workspace: 'acme' }));
    expect((await w.store.getActiveSubscription('acme'))?.accruedThrough).toBe('2027-01-11');
    const late = { workspace: 'acme', member: 'u4', role: 'member' };
    await expect(deliver(faultyDeps(w, writes('MEMBER#'), 'after'), 'member.joined', '2027-01-05T09:00:00Z', late, 'late-1')).rejects.toThrow('socket hang up');
    expect(await deliver(w.deps, 'member.joined', '2027-01-05T09:00:00Z', late, 'late-1')).toEqual({ status: 'stored' });
    expect((await w.store.getActiveSubscription('acme'))?.recomputeFrom).toBe('2027-01-05');
    await runBillingJob(w.deps, 'invoicing', parseJobInvocation({ asOf: '2027-02-01' }));
    const renewal = (await storedInvoices(w.store, 'acme')).at(-1);
    expect(renewal?.lines.map((line) => line.amount)).toEqual(['60.97', '280.00']);
    expect(renewal?.lines[0].description).toMatch(/^Adjustment: /);
  });

  test('a subscription.started that meets a transaction conflict is retried, not taken for a duplicate', async () => {
    const w = await world();
    for (const member of ['u1', 'u2']) await deliver(w.deps, 'member.joined', '2027-01-01T08:00:00Z', { workspace: 'acme', member, role: member === 'u1' ? 'owner' : 'member' });
    const conflict = () => new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: [{ Code: 'TransactionConflict' }] });
    const deps = faultyDeps(w, writes('SUB#'), 'before', 1, conflict);
    expect(await deliver(deps, 'subscription.started', '2027-01-01T09:00:00Z', { workspace: 'acme', plan: UPRO_MONTHLY.id }, 'start-1')).toEqual({ status: 'stored' });
    expect((await w.store.getActiveSubscription('acme'))?.planId).toBe(UPRO_MONTHLY.id);
    expect((await storedInvoices(w.store, 'acme')).map((invoice) => invoice.amountDue)).toEqual(['140.00']);
  });

  test('a subscription.started sent again under a new envelope id after an upgrade is the same subscription, not a rejection', async () => {
    const w = await world();
    await subscribe(w.deps, 'acme', '2027-01-01T08:00:00Z', '2027-01-01T09:00:00Z');
    const changes = createChangesHandler(
      () => w.deps,
      () => Date.parse('2027-01-10T09:01:00Z'),
    );
    await changes({ workspace: 'acme', change: { type: 'plan.change_requested', plan: UBIZ.id }, requestedBy: 'u1', asOf: '2027-01-10T09:00:00Z', preview: false });
    // Two renewals prune January's periods: the oldest stored period is on uBiz now.
    for (const asOf of ['2027-02-01', '2027-03-01']) await runBillingJob(w.deps, 'invoicing', parseJobInvocation({ asOf, workspace: 'acme' }));
    expect((await w.store.getActiveSubscription('acme'))?.periods.every((period) => period.planId === UBIZ.id)).toBe(true);
    expect(await deliver(w.deps, 'subscription.started', '2027-01-01T09:00:00Z', { workspace: 'acme', plan: UPRO_MONTHLY.id }, 'start-again')).toEqual({ status: 'duplicate' });
    expect((await w.store.getActiveSubscription('acme'))?.planId).toBe(UBIZ.id);
  });
});

describe('the changes function is idempotent by key (Stripe-style)', () => {
  const clock = () => Date.parse('2027-01-10T09:01:00Z');
  const apply = { workspace: 'acme', change: { type: 'plan.change_requested', plan: 'ubiz-monthly' }, requestedBy: 'u1', asOf: '2027-01-10T09:00:00Z', preview: false };

  test('retrying an applied upgrade returns the first response byte for byte and issues one invoice', async () => {
    const w = await world();
    await subscribe(w.deps, 'acme', '2027-01-01T08:00:00Z', '2027-01-01T09:00:00Z');
    const changes = createChangesHandler(() => w.deps, clock);
    const first = JSON.stringify(await changes(apply));
    expect(JSON.parse(first)).toMatchObject({ status: 'applied', invoice: { amountDue: '63.87' } });
    expect(JSON.stringify(await changes(apply))).toBe(first);
    expect(JSON.stringify(await createChangesHandler(() => w.newDeps(), clock)({ ...apply }))).toBe(first);
    expect((await w.store.listInvoices('acme')).filter((invoice) => invoice.kind === 'change')).toHaveLength(1);
  });

  test('an apply whose transaction landed but whose response was lost returns that response on retry, not "changed concurrently"', async () => {
    const w = await world();
    await subscribe(w.deps, 'acme', '2027-01-01T08:00:00Z', '2027-01-01T09:00:00Z');
    await expect(createChangesHandler(() => faultyDeps(w, writes('INVOICE#'), 'after'), clock)(apply)).rejects.toThrow('socket hang up');
    const retried = await createChangesHandler(() => w.deps, clock)(apply);
    expect(retried).toMatchObject({ status: 'applied', invoice: { amountDue: '63.87' } });
    expect((await w.store.listInvoices('acme')).filter((invoice) => invoice.kind === 'change')).toHaveLength(1);
  });

  test('one explicit idempotency key covers one change: a second request under it returns the first response', async () => {
    const w = await world();
    await subscribe(w.deps, 'acme', '2027-01-01T08:00:00Z', '2027-01-01T09:00:00Z');
    const changes = createChangesHandler(() => w.deps, clock);
    const first = await changes({ ...apply, idempotencyKey: 'upgrade-42' });
    const again = await changes({ ...apply, asOf: '2027-01-10T09:00:30Z', idempotencyKey: 'upgrade-42' });
    expect(again).toEqual(first);
    expect((await w.store.listInvoices('acme')).filter((invoice) => invoice.kind === 'change')).toHaveLength(1);
  });

  test('a rejected apply is recorded once and replayed: the retry returns the first rejection even after the cause is gone', async () => {
    const w = await world();
    await subscribe(w.deps, 'acme', '2027-01-01T08:00:00Z', '2027-01-01T09:00:00Z');
    await deliver(w.deps, 'payment_method.updated', '2027-01-09T09:00:00Z', { workspace: 'acme', present: false });
    const changes = createChangesHandler(() => w.deps, clock);
    const first = await changes(apply);
    expect(first).toMatchObject({ status: 'rejected', reason: 'payment-method-required' });
    await deliver(w.deps, 'payment_method.updated', '2027-01-10T08:00:00Z', { workspace: 'acme', present: true });
    expect(await changes(apply)).toEqual(first);
    expect(await w.store.listRejections('acme')).toHaveLength(1);
    // A new key is a new request: it now passes the gate.
    expect(await changes({ ...apply, idempotencyKey: 'second-try' })).toMatchObject({ status: 'applied' });
  });
});
