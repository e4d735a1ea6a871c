/**
 * Ingest (validation, duplicates, rejections) and the daily accrual job (R9, R14) against
 * DynamoDB Local, through the Lambda handler factories where the behaviour belongs to them.
 */
import { createIngestHandler } from '../../functions/ingest/handler';
import { createAccrualHandler } from '../../functions/accrual/handler';
import { withMiddlewares } from '../../shared/runtime/middleware';
import { runBillingJob } from '../../shared/jobs/billing-jobs';
import { ValidationError } from '../../shared/domain/errors';
import type { Dependencies } from '../../shared/jobs/dependencies';
import type { BillingStore } from '../../shared/store/dynamo-store';
import type { Proration } from '../../shared/domain/proration';
import { deliver, envelope, lambdaContext, makeCatalog, makeWorkspace, seed, setupDynamo, subscribe, summary, UPRO_ANNUAL, UPRO_MONTHLY } from './harness';

const dynamo = setupDynamo();

function ingestHandler(deps: Dependencies) {
  return withMiddlewares(createIngestHandler(() => deps));
}

async function unbilled(store: BillingStore, workspace = 'acme'): Promise<Proration[]> {
  const subscription = await store.getActiveSubscription(workspace);
  if (!subscription) throw new Error(`no active subscription for ${workspace}`);
  return store.listUnbilledProrations(subscription);
}

describe('ingest handler (DynamoDB Local)', () => {
  test('an invalid event throws naming the field, so Lambda retries it into the DLQ; nothing is stored', async () => {
    const w = await dynamo.world();
    await seed(w.store);
    const ingest = ingestHandler(w.deps);

    const missingMember = envelope('evt-bad-1', 'member.joined', '2026-12-23T09:00:00Z', { workspace: 'acme', role: 'member' });
    const error: unknown = await ingest(missingMember, lambdaContext('ingest')).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('detail.member');
    expect((error as ValidationError).message).toMatch(/^detail\.member: /);

    await expect(ingest(envelope('evt-bad-2', 'member.teleported', '2026-12-23T09:00:00Z', { workspace: 'acme', member: 'u1' }), lambdaContext('ingest'))).rejects.toThrow(/detail-type/);
    await expect(ingest(envelope('evt-bad-3', 'member.joined', '2026-12-23T09:00:00Z', { workspace: 'acme', member: 'u1', role: 7 }), lambdaContext('ingest'))).rejects.toThrow(/detail\.role/);

    expect(await w.store.listMemberEvents('acme')).toEqual([]);
    expect(await w.store.listRejections('acme')).toEqual([]);
    expect(await w.store.listOutbox()).toEqual([]);
  });

  test('a duplicate delivery of a member event (same envelope id) is stored once', async () => {
    const w = await dynamo.world();
    await seed(w.store);
    const ingest = ingestHandler(w.deps);
    const joined = envelope('evt-join-u1', 'member.joined', '2026-12-23T09:00:00Z', { workspace: 'acme', member: 'u1', role: 'owner' });

    expect(await ingest(joined, lambdaContext('ingest'))).toEqual({ status: 'stored' });
    expect(await ingest(joined, lambdaContext('ingest'))).toEqual({ status: 'duplicate' });
    const [first, second] = await Promise.all([ingestHandler(w.newDeps())(joined, lambdaContext('ingest')), ingestHandler(w.newDeps())(joined, lambdaContext('ingest'))]);
    expect([first, second]).toEqual([{ status: 'duplicate' }, { status: 'duplicate' }]);

    const members = await w.store.listMemberEvents('acme');
    expect(members).toHaveLength(1);
    expect(members[0]).toMatchObject({ type: 'member.joined', member: 'u1', role: 'owner', date: '2026-12-23' });
  });

  test('a duplicate delivery of subscription.started issues one invoice and records no rejection', async () => {
    const w = await dynamo.world();
    await seed(w.store);
    const ingest = ingestHandler(w.deps);
    for (const member of ['u1', 'u2', 'u3']) {
      await ingest(envelope(`evt-join-${member}`, 'member.joined', '2026-12-23T09:00:00Z', { workspace: 'acme', member, role: 'member' }), lambdaContext('ingest'));
    }
    const started = envelope('evt-start', 'subscription.started', '2026-12-23T10:00:00Z', { workspace: 'acme', plan: 'upro-monthly' });

    expect(await ingest(started, lambdaContext('ingest'))).toEqual({ status: 'stored' });
    // EventBridge delivers at least once: the same envelope again.
    expect(await ingest(started, lambdaContext('ingest'))).toEqual({ status: 'duplicate' });

    expect(summary(await w.store.listInvoices('acme'))).toEqual([{ kind: 'first', date: '2026-12-23', amountDue: '60.96' }]);
    expect(await w.store.listRejections('acme')).toEqual([]);
    await w.publishAll();
    expect(w.published.map((event) => event.detailType)).toEqual(['Invoice Issued']);
  });

  test('a change the rules refuse is kept as a rejection record with its reason and announced once', async () => {
    const w = await dynamo.world();
    // Every known detail-type is handled by ingest now (unknown ones throw `detail-type`, above;
    // the simulator reports those as `unsupported`, see simulator.test.ts). A refused change is
    // the rejection path a real event takes: a custom contract is `contact-sales` (R15).
    await seed(w.store, [makeWorkspace({ contract: 'custom' })], makeCatalog([UPRO_MONTHLY, UPRO_ANNUAL]));
    await subscribe(w.deps, 'acme', '2026-12-23T09:00:00Z', '2026-12-23T10:00:00Z');
    await w.publishAll();
    w.published.length = 0;
    const ingest = ingestHandler(w.deps);

    const change = envelope('evt-change', 'plan.change_requested', '2027-01-05T10:00:00Z', { workspace: 'acme', plan: UPRO_ANNUAL.id, requestedBy: 'u1' });
    expect(await ingest(change, lambdaContext('ingest'))).toMatchObject({ status: 'rejected', reason: 'contact-sales' });
    // A redelivery does not add a second record or a second announcement.
    await ingest(change, lambdaContext('ingest'));

    const rejections = await w.store.listRejections('acme');
    expect(rejections.map((rejection) => [rejection.type, rejection.reason, rejection.eventId, rejection.at])).toEqual([
      ['plan.change_requested', 'contact-sales', 'evt-change', '2027-01-05T10:00:00Z'],
    ]);
    expect(rejections[0].payload).toMatchObject({ plan: UPRO_ANNUAL.id });
    await w.publishAll();
    expect(w.published.map((event) => [event.detailType, event.detail.type, event.detail.reason])).toEqual([['Change Rejected', 'plan.change_requested', 'contact-sales']]);
    // Nothing was billed or changed for it.
    expect(summary(await w.store.listInvoices('acme'))).toEqual([{ kind: 'first', date: '2026-12-23', amountDue: '60.96' }]);
    expect((await w.store.getActiveSubscription('acme'))?.planId).toBe(UPRO_MONTHLY.id);
  });

  test('a change to a plan that is not in the catalog is a rejection record, like subscription.started with one', async () => {
    const w = await dynamo.world();
    await seed(w.store, [makeWorkspace(), makeWorkspace({ id: 'beta', name: 'Beta' })]);
    await subscribe(w.deps, 'acme', '2026-12-23T09:00:00Z', '2026-12-23T10:00:00Z');
    const ingest = ingestHandler(w.deps);

    // Starting on an unknown plan is rejected and recorded (ingest's `unknown-plan`)...
    const start = envelope('evt-start-unknown', 'subscription.started', '2027-01-05T09:00:00Z', { workspace: 'beta', plan: 'no-such-plan' });
    expect(await ingest(start, lambdaContext('ingest'))).toMatchObject({ status: 'rejected', reason: 'unknown-plan' });
    expect((await w.store.listRejections('beta')).map((rejection) => rejection.reason)).toEqual(['unknown-plan']);
    // ...and so is changing to one: not an exception that retries a valid event into the DLQ.
    const change = envelope('evt-change-unknown', 'plan.change_requested', '2027-01-05T10:00:00Z', { workspace: 'acme', plan: 'no-such-plan', requestedBy: 'u1' });
    expect(await ingest(change, lambdaContext('ingest'))).toMatchObject({ status: 'rejected', reason: 'unknown-plan' });
    expect((await w.store.listRejections('acme')).map((rejection) => [rejection.eventId, rejection.type, rejection.reason])).toEqual([['evt-change-unknown', 'plan.change_requested', 'unknown-plan']]);
  });
});

describe('accrual job (DynamoDB Local)', () => {
  /** Aloware (R9): 2 seats on a monthly $70 plan from Nov 1, 2026; a third member added Nov 23. */
  async function alowareNovember(deps: Dependencies): Promise<void> {
    await seed(deps.store);
    await subscribe(deps, 'acme', '2026-11-01T08:00:00Z', '2026-11-01T09:00:00Z', 2);
    expect(summary(await deps.store.listInvoices('acme'))).toEqual([{ kind: 'first', date: '2026-11-01', amountDue: '140.00' }]);
    expect(await deliver(deps, 'member.joined', '2026-11-23T15:00:00Z', { workspace: 'acme', member: 'u3', role: 'member' })).toEqual({ status: 'stored' });
  }

  const EXPECTED_PRORATION = {
    date: '2026-11-23',
    delta: 1,
    fromQuantity: 2,
    toQuantity: 3,
    periodStart: '2026-11-23',
    periodEnd: '2026-11-30',
    days: 8,
    of: 30,
    unitAmount: '18.67',
    amount: '18.67',
  };

  async function expectDecemberRenewalCarriesIt(deps: Dependencies): Promise<void> {
    const report = await runBillingJob(deps, 'invoicing', { scheduledTime: '2026-12-01T00:05:00Z' });
    expect(summary(report.workspaces.flatMap((entry) => entry.invoices))).toEqual([{ kind: 'renewal', date: '2026-12-01', amountDue: '228.67' }]);
    const renewal = (await deps.store.listInvoices('acme')).find((invoice) => invoice.kind === 'renewal');
    expect(renewal?.lines).toEqual([
      expect.objectContaining({ kind: 'proration', quantity: 1, unitAmount: '18.67', amount: '18.67', periodStart: '2026-11-23', periodEnd: '2026-11-30' }),
      expect.objectContaining({ kind: 'seats', quantity: 3, unitAmount: '70.00', amount: '210.00', periodStart: '2026-12-01', periodEnd: '2026-12-31' }),
    ]);
    expect(renewal?.subtotal).toBe('228.67');
    expect(await unbilled(deps.store)).toEqual([]);
  }

  test('R9: a member added Nov 23 accrues one proration of 18.67 (8/30); re-runs add nothing; Dec 1 bills it', async () => {
    const w = await dynamo.world();
    await alowareNovember(w.deps);
    // The test clock: an on-demand run is held to it (at most a day ahead).
    const accrual = withMiddlewares(
      createAccrualHandler(
        () => w.deps,
        () => Date.parse('2026-11-25T00:05:00Z'),
      ),
    );

    // Before the day has ended nothing is due.
    const early = await accrual({ scheduledTime: '2026-11-23T23:05:00Z' }, lambdaContext('accrual'));
    expect(early.workspaces.flatMap((entry) => entry.prorations)).toEqual([]);
    expect(await unbilled(w.store)).toEqual([]);

    const report = await accrual({ scheduledTime: '2026-11-24T00:05:00Z' }, lambdaContext('accrual'));
    expect(report.workspaces.flatMap((entry) => entry.prorations)).toEqual([expect.objectContaining(EXPECTED_PRORATION)]);
    const stored = await unbilled(w.store);
    expect(stored).toEqual([expect.objectContaining(EXPECTED_PRORATION)]);

    // The same scheduled time again, a later firing, and an on-demand run for the workspace.
    const again = await accrual({ scheduledTime: '2026-11-24T00:05:00Z' }, lambdaContext('accrual'));
    const later = await accrual({ scheduledTime: '2026-11-25T00:05:00Z' }, lambdaContext('accrual'));
    const onDemand = await accrual({ asOf: '2026-11-24', workspace: 'acme' }, lambdaContext('accrual'));
    for (const run of [again, later, onDemand]) expect(run.workspaces.flatMap((entry) => entry.prorations)).toEqual([]);
    expect(await unbilled(w.store)).toEqual(stored);
    // Prorations are never invoiced on their own (R9).
    expect(await w.store.listInvoices('acme')).toHaveLength(1);

    await expectDecemberRenewalCarriesIt(w.deps);
  });

  test('R14: four concurrent accrual runs, each with its own store, write one proration', async () => {
    const w = await dynamo.world();
    await alowareNovember(w.deps);

    const reports = await Promise.all(Array.from({ length: 4 }, () => runBillingJob(w.newDeps(), 'accrual', { scheduledTime: '2026-11-24T00:05:00Z' })));

    const reported = reports.flatMap((report) => report.workspaces.flatMap((entry) => entry.prorations));
    expect(reported).toEqual([expect.objectContaining(EXPECTED_PRORATION)]);
    expect(await unbilled(w.store)).toEqual([expect.objectContaining(EXPECTED_PRORATION)]);
    await expectDecemberRenewalCarriesIt(w.deps);
  });

  test('R14: when the accrual job never ran, the Dec 1 renewal still carries the proration', async () => {
    const w = await dynamo.world();
    await alowareNovember(w.deps);
    await expectDecemberRenewalCarriesIt(w.deps);
    // A late accrual run afterwards finds nothing left to accrue for November.
    const late = await runBillingJob(w.deps, 'accrual', { scheduledTime: '2026-12-01T00:05:00Z' });
    expect(late.workspaces.flatMap((entry) => entry.prorations)).toEqual([]);
    expect(summary(await w.store.listInvoices('acme'))).toEqual([
      { kind: 'first', date: '2026-11-01', amountDue: '140.00' },
      { kind: 'renewal', date: '2026-12-01', amountDue: '228.67' },
    ]);
  });
});
