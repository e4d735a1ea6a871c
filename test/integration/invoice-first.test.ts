/**
 * A quiet renewal is written invoice first, then subscription, without a transaction
 * (`BillingStore.writeInvoiceFirst`). These are its crash-between-writes cases against DynamoDB
 * Local: the invoice landed and its subscription did not (the Lambda died, the network dropped),
 * and then the retry, a change, an accrual step or a cancellation comes next. In every case the
 * invoice that was written is the one that counts: it is billed once, announced once, its number
 * is not reused, and the subscription ends as that invoice planned it.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Catalog } from '../../shared/domain/catalog';
import { defaultInvoicePrefix, type Invoice } from '../../shared/domain/invoice';
import { runBillingJob } from '../../shared/jobs/billing-jobs';
import type { Dependencies } from '../../shared/jobs/dependencies';
import { BillingStore, createDocumentClient } from '../../shared/store/dynamo-store';
import { deliver, issued, makeCatalog, makeWorkspace, seed, setupDynamo, storedInvoices, subscribe, summary, type World } from './harness';

const dynamo = setupDynamo();

const JOIN = '2026-12-23T09:00:00Z';
const START = '2026-12-23T10:00:00Z';
const CATALOG: Catalog = { ...makeCatalog(), creditPacks: [{ id: 'ai-1000', name: '1,000 AI credits', price: '10.00', credits: 1000 }] };
const PREFIX = defaultInvoicePrefix('acme');

/**
 * Dependencies whose store dies (as a Lambda timing out would) after its first invoice-first
 * write landed, instead of sending the subscription's write that follows it.
 */
function crashAfterInvoice(w: World): Dependencies & { crashed: () => boolean } {
  const doc = createDocumentClient({ endpoint: w.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  let invoiceWritten = false;
  let crashed = false;
  doc.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as { Item?: { sk?: unknown }; ConditionExpression?: unknown };
      const sk = String(input.Item?.sk ?? '');
      if (!crashed && invoiceWritten && sk.startsWith('SUB#')) {
        crashed = true;
        throw new Error('simulated crash between the invoice and its subscription');
      }
      const out = await next(args);
      if (sk.startsWith('INVOICE#') && input.ConditionExpression === 'attribute_not_exists(pk)') invoiceWritten = true;
      return out;
    },
    { step: 'initialize', name: 'crashBetweenWrites' },
  );
  return { store: new BillingStore(doc, { tableName: w.tableName }), publisher: w.deps.publisher, retry: { sleep: async () => undefined }, crashed: () => crashed };
}

/** A subscribed workspace whose Jan 1 renewal was written but not its subscription. */
async function renewalWaitingForItsSubscription(): Promise<World> {
  const w = await dynamo.world();
  await seed(w.store, [makeWorkspace()], CATALOG);
  await subscribe(w.deps, 'acme', JOIN, START);
  const before = await w.store.getActiveSubscription('acme');
  const deps = crashAfterInvoice(w);
  const run = await runBillingJob(deps, 'invoicing', { asOf: '2027-01-01', workspace: 'acme', dryRun: false });
  expect(deps.crashed()).toBe(true);
  expect(run.failed.map((failure) => failure.workspace)).toEqual(['acme']);
  // The invoice is there (and on the stream), the subscription is as it was, still due on Jan 1.
  expect(summary(await storedInvoices(w.store, 'acme'))).toEqual([
    { kind: 'first', date: '2026-12-23', amountDue: expect.any(String) },
    { kind: 'renewal', date: '2027-01-01', amountDue: '210.00' },
  ]);
  expect((await w.store.getActiveSubscription('acme'))?.version).toBe(before?.version);
  expect((await w.store.findDue('DUE', '2027-01-01T00:05:00Z')).map((entry) => entry.workspace)).toEqual(['acme']);
  return w;
}

/** The workspace's invoices, numbered 1..n with no gap or repeat, each announced once with its stored number. */
async function expectNumberedAndAnnouncedOnce(w: World, count: number): Promise<Invoice[]> {
  const invoices = await storedInvoices(w.store, 'acme');
  expect(invoices.map((invoice) => invoice.number).sort()).toEqual(Array.from({ length: count }, (_, i) => `${PREFIX}-${String(i + 1).padStart(4, '0')}`));
  await w.publishAll();
  const announced = issued(w.published).filter((invoice) => invoice.workspace === 'acme');
  expect(announced.map((invoice) => [invoice.id, invoice.number]).sort()).toEqual(invoices.map((invoice) => [invoice.id, invoice.number]).sort());
  return invoices;
}

describe('an invoice written first, its subscription not (DynamoDB Local)', () => {
  test('the next run finds the invoice at its number, completes the subscription from it and bills nothing more; Feb 1 goes on', async () => {
    const w = await renewalWaitingForItsSubscription();
    const retry = await runBillingJob(w.deps, 'invoicing', { scheduledTime: '2027-01-01T01:05:00Z' });
    expect(retry.summary.failed).toBe(0);
    expect(retry.workspaces.flatMap((entry) => entry.invoices)).toEqual([]);
    expect(await w.store.findDue('DUE', '2027-01-01T01:05:00Z')).toEqual([]);
    expect((await w.store.getActiveSubscription('acme'))?.nextInvoiceSeq).toBe(3);
    await expectNumberedAndAnnouncedOnce(w, 2);

    const february = await runBillingJob(w.deps, 'invoicing', { scheduledTime: '2027-02-01T00:05:00Z' });
    expect(summary(february.workspaces.flatMap((entry) => entry.invoices))).toEqual([{ kind: 'renewal', date: '2027-02-01', amountDue: '210.00' }]);
    await expectNumberedAndAnnouncedOnce(w, 3);
  });

  test('a commit stored as a map (before it was kept as JSON) is completed the same way', async () => {
    const w = await renewalWaitingForItsSubscription();
    const [waiting] = (await w.scan()).filter((item) => typeof item.commit === 'string');
    expect(waiting).toBeDefined();
    await w.rawClient.send(new PutCommand({ TableName: w.tableName, Item: { ...waiting, commit: JSON.parse(String(waiting.commit)) } }));
    const retry = await runBillingJob(w.deps, 'invoicing', { scheduledTime: '2027-01-01T01:05:00Z' });
    expect(retry.workspaces.flatMap((entry) => entry.invoices)).toEqual([]);
    expect((await w.store.getActiveSubscription('acme'))?.nextInvoiceSeq).toBe(3);
    await expectNumberedAndAnnouncedOnce(w, 2);
  });

  test('a credit pack bought before any retry completes the renewal first and takes the next number', async () => {
    const w = await renewalWaitingForItsSubscription();
    expect(await deliver(w.deps, 'ai_credit_pack.purchased', '2027-01-01T00:30:00Z', { workspace: 'acme', pack: 'ai-1000', requestedBy: 'u1' })).toEqual({ status: 'stored' });
    const invoices = await expectNumberedAndAnnouncedOnce(w, 3);
    expect(invoices.map((invoice) => [invoice.number, invoice.kind, invoice.date])).toEqual([
      [`${PREFIX}-0001`, 'first', '2026-12-23'],
      [`${PREFIX}-0002`, 'renewal', '2027-01-01'],
      [`${PREFIX}-0003`, 'change', '2027-01-01'],
    ]);
    // The renewal's commit came first: the next run has nothing left to bill for January.
    const retry = await runBillingJob(w.deps, 'invoicing', { scheduledTime: '2027-01-01T01:05:00Z' });
    expect(retry.workspaces.flatMap((entry) => entry.invoices)).toEqual([]);
    expect((await w.store.getBalance('acme', 'USD')).aiCredits).toBe(1000);
  });

  test('an accrual step (a member joined) completes the renewal first, then adds its proration, billed on Feb 1', async () => {
    const w = await renewalWaitingForItsSubscription();
    await deliver(w.deps, 'member.joined', '2027-01-16T09:00:00Z', { workspace: 'acme', member: 'u9', role: 'member' });
    const accrual = await runBillingJob(w.deps, 'accrual', { asOf: '2027-01-17', workspace: 'acme', dryRun: false });
    expect(accrual.summary.failed).toBe(0);
    // 16 of 31 days of one more $70 seat.
    expect(accrual.workspaces.flatMap((entry) => entry.prorations).map((proration) => proration.amount)).toEqual(['36.13']);
    const february = await runBillingJob(w.deps, 'invoicing', { scheduledTime: '2027-02-01T00:05:00Z' });
    expect(summary(february.workspaces.flatMap((entry) => entry.invoices))).toEqual([{ kind: 'renewal', date: '2027-02-01', amountDue: '316.13' }]);
    await expectNumberedAndAnnouncedOnce(w, 3);
  });

  test('a cancellation delivered before any retry completes the renewal first, then ends the subscription at the period end', async () => {
    const w = await renewalWaitingForItsSubscription();
    expect(await deliver(w.deps, 'subscription.canceled', '2027-01-10T09:00:00Z', { workspace: 'acme', atPeriodEnd: true })).toEqual({ status: 'stored' });
    const subscription = await w.store.getActiveSubscription('acme');
    expect(subscription?.endsAfter).toBe('2027-01-31');
    expect(subscription?.nextInvoiceSeq).toBe(3);
    const february = await runBillingJob(w.deps, 'invoicing', { scheduledTime: '2027-02-01T00:05:00Z' });
    expect(february.workspaces.flatMap((entry) => entry.invoices)).toEqual([]);
    await expectNumberedAndAnnouncedOnce(w, 2);
  });

  test('three runs at once over the waiting renewal: one completes it, none bills it again', async () => {
    const w = await renewalWaitingForItsSubscription();
    const runs = await Promise.all([0, 1, 2].map(() => runBillingJob(w.newDeps(), 'invoicing', { scheduledTime: '2027-01-01T01:05:00Z' })));
    expect(runs.flatMap((run) => run.workspaces.flatMap((entry) => entry.invoices))).toEqual([]);
    expect(runs.map((run) => run.summary.failed)).toEqual([0, 0, 0]);
    await expectNumberedAndAnnouncedOnce(w, 2);
  });
});
