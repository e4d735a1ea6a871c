/**
 * The invoicing job against DynamoDB Local: first invoice (R10), renewal (R11), identity and
 * concurrency (R14), catch-up, billing zones (R1), dry runs, and the outbox between write and
 * publish.
 */
import { runBillingJob } from '../../shared/jobs/billing-jobs';
import { sweepOutbox } from '../../shared/jobs/publish';
import { parseJobInvocation } from '../../shared/contracts/events';
import { createInvoicingHandler } from '../../functions/invoicing/handler';
import { createPublisherHandler } from '../../functions/publisher/handler';
import { withMiddlewares } from '../../shared/runtime/middleware';
import type { Dependencies } from '../../shared/jobs/dependencies';
import { issued, lambdaContext, makeWorkspace, seed, setupDynamo, subscribe, summary } from './harness';

const dynamo = setupDynamo();

const JOIN = '2026-12-23T09:00:00Z';
const START = '2026-12-23T10:00:00Z';

async function invoicing(deps: Dependencies, scheduledTime: string) {
  return runBillingJob(deps, 'invoicing', { scheduledTime });
}

describe('invoicing job (DynamoDB Local)', () => {
  test('Aloware: first invoice 60.96 at once, then the Jan 1 renewal 210.00', async () => {
    const w = await dynamo.world();
    await seed(w.store);
    await subscribe(w.deps, 'acme', JOIN, START);

    const first = await w.store.listInvoices('acme');
    expect(summary(first)).toEqual([{ kind: 'first', date: '2026-12-23', amountDue: '60.96' }]);
    expect(first[0]).toMatchObject({ periodStart: '2026-12-23', periodEnd: '2026-12-31', subtotal: '60.96', creditApplied: '0.00', currency: 'USD' });
    expect(first[0].lines).toEqual([expect.objectContaining({ kind: 'seats', quantity: 3, unitAmount: '20.32', amount: '60.96', periodStart: '2026-12-23', periodEnd: '2026-12-31' })]);

    expect(w.published).toEqual([]);
    await w.publishAll();
    expect(w.published.map((event) => event.detailType)).toEqual(['Invoice Issued']);
    expect(w.published[0].id).toBe(first[0].id);
    expect(summary(issued(w.published))).toEqual([{ kind: 'first', date: '2026-12-23', amountDue: '60.96' }]);

    const report = await invoicing(w.deps, '2027-01-01T00:05:00Z');
    expect(report.workspaces.flatMap((entry) => summary(entry.invoices))).toEqual([{ kind: 'renewal', date: '2027-01-01', amountDue: '210.00' }]);
    const invoices = await w.store.listInvoices('acme');
    expect(summary(invoices)).toEqual([
      { kind: 'first', date: '2026-12-23', amountDue: '60.96' },
      { kind: 'renewal', date: '2027-01-01', amountDue: '210.00' },
    ]);
    const renewal = invoices[1];
    expect(renewal).toMatchObject({ periodStart: '2027-01-01', periodEnd: '2027-01-31', subtotal: '210.00', creditApplied: '0.00' });
    expect(renewal.lines).toEqual([expect.objectContaining({ kind: 'seats', quantity: 3, unitAmount: '70.00', amount: '210.00', periodStart: '2027-01-01', periodEnd: '2027-01-31' })]);

    await w.publishAll();
    expect(summary(issued(w.published))).toEqual([
      { kind: 'first', date: '2026-12-23', amountDue: '60.96' },
      { kind: 'renewal', date: '2027-01-01', amountDue: '210.00' },
    ]);
    expect(await w.store.listOutbox()).toEqual([]);
  });

  test('R14: running the job twice with the same scheduled time issues one renewal and one event', async () => {
    const w = await dynamo.world();
    await seed(w.store);
    await subscribe(w.deps, 'acme', JOIN, START);
    await w.publishAll();

    const first = await invoicing(w.deps, '2027-01-01T00:05:00Z');
    await w.publishAll();
    const second = await invoicing(w.deps, '2027-01-01T00:05:00Z');
    await w.publishAll();

    expect(first.workspaces.flatMap((entry) => entry.invoices)).toHaveLength(1);
    expect(second.workspaces.flatMap((entry) => entry.invoices)).toEqual([]);
    const renewals = (await w.store.listInvoices('acme')).filter((invoice) => invoice.kind === 'renewal');
    expect(summary(renewals)).toEqual([{ kind: 'renewal', date: '2027-01-01', amountDue: '210.00' }]);
    expect(summary(issued(w.published)).filter((invoice) => invoice.kind === 'renewal')).toHaveLength(1);
    expect(w.published.filter((event) => event.detailType === 'Invoice Issued')).toHaveLength(2);
  });

  test('R14: four concurrent runs, each with its own store, issue one renewal', async () => {
    const w = await dynamo.world();
    await seed(w.store);
    await subscribe(w.deps, 'acme', JOIN, START);
    await w.publishAll();

    const reports = await Promise.all(Array.from({ length: 4 }, () => invoicing(w.newDeps(), '2027-01-01T00:05:00Z')));

    const reported = reports.flatMap((report) => report.workspaces.flatMap((entry) => entry.invoices));
    expect(summary(reported)).toEqual([{ kind: 'renewal', date: '2027-01-01', amountDue: '210.00' }]);
    const invoices = await w.store.listInvoices('acme');
    expect(summary(invoices)).toEqual([
      { kind: 'first', date: '2026-12-23', amountDue: '60.96' },
      { kind: 'renewal', date: '2027-01-01', amountDue: '210.00' },
    ]);
    await w.publishAll();
    await w.publishAll();
    expect(summary(issued(w.published))).toEqual([
      { kind: 'first', date: '2026-12-23', amountDue: '60.96' },
      { kind: 'renewal', date: '2027-01-01', amountDue: '210.00' },
    ]);
    // The next period starts from the renewal's state: Feb 1 is billed once, at 3 seats.
    await invoicing(w.deps, '2027-02-01T00:05:00Z');
    expect(summary((await w.store.listInvoices('acme')).filter((invoice) => invoice.date === '2027-02-01'))).toEqual([{ kind: 'renewal', date: '2027-02-01', amountDue: '210.00' }]);
  });

  test('R14 catch-up: a first run on Mar 1 issues the Jan, Feb and Mar renewals once each, in date order', async () => {
    const w = await dynamo.world();
    await seed(w.store);
    await subscribe(w.deps, 'acme', JOIN, START);
    await w.publishAll();

    const report = await invoicing(w.deps, '2027-03-01T00:05:00Z');
    const expected = [
      { kind: 'renewal', date: '2027-01-01', amountDue: '210.00' },
      { kind: 'renewal', date: '2027-02-01', amountDue: '210.00' },
      { kind: 'renewal', date: '2027-03-01', amountDue: '210.00' },
    ];
    expect(summary(report.workspaces.flatMap((entry) => entry.invoices))).toEqual(expected);
    const renewals = (await w.store.listInvoices('acme')).filter((invoice) => invoice.kind === 'renewal');
    expect(summary(renewals)).toEqual(expected);
    expect(renewals.map((invoice) => [invoice.periodStart, invoice.periodEnd])).toEqual([
      ['2027-01-01', '2027-01-31'],
      ['2027-02-01', '2027-02-28'],
      ['2027-03-01', '2027-03-31'],
    ]);

    await w.publishAll();
    expect(summary(issued(w.published)).filter((invoice) => invoice.kind === 'renewal')).toEqual(expected);

    // Running again (or late) finds nothing left.
    const again = await invoicing(w.deps, '2027-03-01T06:05:00Z');
    expect(again.workspaces.flatMap((entry) => entry.invoices)).toEqual([]);
    expect(await w.store.listInvoices('acme')).toHaveLength(4);
  });

  test('R1: a Pacific/Auckland workspace renews at its own midnight, a UTC one in the same table at UTC midnight', async () => {
    const w = await dynamo.world();
    const auckland = makeWorkspace({ id: 'kiwi', name: 'Kiwi', timezone: 'Pacific/Auckland' });
    const utc = makeWorkspace({ id: 'acme' });
    await seed(w.store, [auckland, utc]);
    // Dec 10 13:00 in Auckland; Dec 10 in UTC.
    await subscribe(w.deps, 'kiwi', '2026-12-10T00:00:00Z', '2026-12-10T00:30:00Z', 2);
    await subscribe(w.deps, 'acme', '2026-12-10T00:00:00Z', '2026-12-10T00:30:00Z', 2);
    expect(summary(await w.store.listInvoices('kiwi'))).toEqual([{ kind: 'first', date: '2026-12-10', amountDue: '99.36' }]);
    expect(summary(await w.store.listInvoices('acme'))).toEqual([{ kind: 'first', date: '2026-12-10', amountDue: '99.36' }]);

    // 23:05 on Dec 31 in Auckland: nobody is due yet.
    const early = await invoicing(w.deps, '2026-12-31T10:05:00Z');
    expect(early.workspaces.flatMap((entry) => entry.invoices)).toEqual([]);
    expect(await w.store.listInvoices('kiwi')).toHaveLength(1);

    // 00:05 on Jan 1 in Auckland (UTC+13), still 11:05 on Dec 31 in UTC.
    const aucklandRun = await invoicing(w.deps, '2026-12-31T11:05:00Z');
    expect(aucklandRun.workspaces.flatMap((entry) => summary(entry.invoices))).toEqual([{ kind: 'renewal', date: '2027-01-01', amountDue: '140.00' }]);
    expect(aucklandRun.workspaces.find((entry) => entry.workspace === 'kiwi')?.asOf).toBe('2027-01-01');
    expect(summary(await w.store.listInvoices('kiwi'))).toEqual([
      { kind: 'first', date: '2026-12-10', amountDue: '99.36' },
      { kind: 'renewal', date: '2027-01-01', amountDue: '140.00' },
    ]);
    expect(summary(await w.store.listInvoices('acme'))).toEqual([{ kind: 'first', date: '2026-12-10', amountDue: '99.36' }]);

    const utcRun = await invoicing(w.deps, '2027-01-01T00:05:00Z');
    expect(utcRun.workspaces.flatMap((entry) => entry.invoices.map((invoice) => [invoice.workspace, invoice.kind, invoice.date]))).toEqual([['acme', 'renewal', '2027-01-01']]);
    expect(summary(await w.store.listInvoices('acme'))).toEqual([
      { kind: 'first', date: '2026-12-10', amountDue: '99.36' },
      { kind: 'renewal', date: '2027-01-01', amountDue: '140.00' },
    ]);
    expect(await w.store.listInvoices('kiwi')).toHaveLength(2);
  });

  test('dry run: an on-demand run with dryRun reports the renewal and writes nothing', async () => {
    const w = await dynamo.world();
    await seed(w.store);
    await subscribe(w.deps, 'acme', JOIN, START);
    await w.publishAll();
    const before = await w.scan();

    const handler = withMiddlewares(createInvoicingHandler(() => w.deps));
    const report = await handler({ asOf: '2027-01-01', workspace: 'acme', dryRun: true }, lambdaContext('invoicing'));

    expect(report.dryRun).toBe(true);
    const reported = report.workspaces.flatMap((entry) => entry.invoices);
    expect(summary(reported)).toEqual([{ kind: 'renewal', date: '2027-01-01', amountDue: '210.00' }]);
    expect(reported[0].lines).toEqual([expect.objectContaining({ kind: 'seats', quantity: 3, amount: '210.00' })]);
    expect(summary(await w.store.listInvoices('acme'))).toEqual([{ kind: 'first', date: '2026-12-23', amountDue: '60.96' }]);
    expect(await w.store.listOutbox()).toEqual([]);
    expect(await w.scan()).toEqual(before);

    // The real run afterwards issues exactly what the dry run showed.
    const real = await runBillingJob(w.deps, 'invoicing', parseJobInvocation({ asOf: '2027-01-01', workspace: 'acme' }));
    expect(real.workspaces.flatMap((entry) => entry.invoices)).toEqual(reported);
  });

  test('crash between write and publish: the stream keeps the invoice, a failed put leaves it to the outbox, and a later sweep publishes it exactly once', async () => {
    const w = await dynamo.world();
    await seed(w.store);
    await subscribe(w.deps, 'acme', JOIN, START);
    await w.publishAll();
    w.published.length = 0;

    await invoicing(w.deps, '2027-01-01T00:05:00Z');
    // The publisher never ran: the invoice is written and waits in the table's stream; no outbox entry was written for it.
    const renewal = (await w.store.listInvoices('acme')).find((invoice) => invoice.kind === 'renewal');
    expect(renewal?.amountDue).toBe('210.00');
    expect(await w.store.listOutbox()).toEqual([]);
    expect(w.published).toEqual([]);

    // The stream delivers it to a publisher whose put fails (EventBridge down): the record is taken, the event left in the outbox.
    const failing: Dependencies = { store: w.store, publisher: { publish: async () => Promise.reject(new Error('EventBridge unavailable')) } };
    expect(await w.stream.deliver(createPublisherHandler(() => failing))).toEqual({ delivered: 1, failed: 0 });
    const outbox = await w.store.listOutbox();
    expect(outbox.map((entry) => [entry.id, entry.detailType])).toEqual([[renewal?.id, 'Invoice Issued']]);
    await expect(sweepOutbox(failing)).rejects.toThrow('EventBridge unavailable');
    expect(await w.store.listOutbox()).toHaveLength(1);

    // The sweeper (the publisher Lambda invoked with { sweep: true }) publishes it later, once.
    const publisher = withMiddlewares(createPublisherHandler(() => w.deps));
    expect(await publisher({ sweep: true }, lambdaContext('publisher'))).toEqual({ published: 1 });
    expect(await publisher({ sweep: true }, lambdaContext('publisher'))).toEqual({ published: 0 });
    // The stream's one record left is the outbox entry's own insert, which finds it published and gone.
    expect(await w.stream.deliver(createPublisherHandler(() => w.deps))).toEqual({ delivered: 1, failed: 0 });
    expect(w.published.map((event) => [event.id, event.detailType])).toEqual([[renewal?.id, 'Invoice Issued']]);
    expect(issued(w.published)).toEqual([renewal]);
    expect(await w.store.listOutbox()).toEqual([]);
  });

  test('R14 crash mid catch-up: the retried run issues only what is missing, and the sweep publishes in issue order', async () => {
    const w = await dynamo.world();
    await seed(w.store);
    await subscribe(w.deps, 'acme', JOIN, START);
    await w.publishAll();
    w.published.length = 0;

    // The Mar 1 run catches up Jan and Feb, then dies before writing Mar: the scheduled run fails once it has finished the others.
    await expect(createInvoicingHandler(() => w.crashingDeps(2))({ scheduledTime: '2027-03-01T00:05:00Z' })).rejects.toThrow(
      'invoicing run at 2027-03-01T00:05:00Z: 1 of 1 workspaces failed: acme (Error: simulated crash before writing invoice 3)',
    );
    expect(summary((await w.store.listInvoices('acme')).filter((invoice) => invoice.kind === 'renewal')).map((invoice) => invoice.date)).toEqual(['2027-01-01', '2027-02-01']);

    // Lambda retries the same scheduled invocation.
    const retry = await invoicing(w.deps, '2027-03-01T00:05:00Z');
    expect(summary(retry.workspaces.flatMap((entry) => entry.invoices))).toEqual([{ kind: 'renewal', date: '2027-03-01', amountDue: '210.00' }]);
    const expected = [
      { kind: 'renewal', date: '2027-01-01', amountDue: '210.00' },
      { kind: 'renewal', date: '2027-02-01', amountDue: '210.00' },
      { kind: 'renewal', date: '2027-03-01', amountDue: '210.00' },
    ];
    expect(summary((await w.store.listInvoices('acme')).filter((invoice) => invoice.kind === 'renewal'))).toEqual(expected);

    await w.publishAll();
    // Invoices are announced in the order they were issued (scenario-format.md, Output).
    expect(summary(issued(w.published))).toEqual(expected);
  });
});
