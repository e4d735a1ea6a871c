/**
 * Gapless invoice numbers (issue 11 item 4) against DynamoDB Local: concurrent invoicing runs, a
 * dry run, a change delivered twice at once, a run that crashes between two invoices, injected
 * faults (half of them after the write landed), purchases without a subscription and a
 * subscription started again: every workspace's numbers are exactly 1..n, none skipped or reused.
 */
import { defaultInvoicePrefix, type Invoice } from '../../shared/domain/invoice';
import type { Catalog } from '../../shared/domain/catalog';
import { runBillingJob } from '../../shared/jobs/billing-jobs';
import type { Dependencies } from '../../shared/jobs/dependencies';
import { BillingStore, createDocumentClient } from '../../shared/store/dynamo-store';
import { withFaults } from '../../simulator/faulty-dynamo';
import { deliver, issued, makeCatalog, makeWorkspace, seed, setupDynamo, subscribe, type World } from './harness';

const dynamo = setupDynamo();

const JOIN = '2026-12-23T09:00:00Z';
const START = '2026-12-23T10:00:00Z';
const CATALOG: Catalog = { ...makeCatalog(), creditPacks: [{ id: 'ai-1000', name: '1,000 AI credits', price: '10.00', credits: 1000 }] };

/** The sequence part of `<prefix>-<seq>`. */
function seqOf(invoice: Invoice): number {
  return Number(invoice.number.slice(invoice.number.lastIndexOf('-') + 1));
}

/**
 * Asserts a workspace's stored numbers are exactly `<prefix>-0001` … `<prefix>-<count>`, none
 * missing or repeated, and that they increase with the invoice date; returns them in number order.
 */
async function expectGapless(w: World, workspace: string, prefix: string, count: number): Promise<Invoice[]> {
  const invoices = [...(await w.store.listInvoices(workspace))].sort((a, b) => seqOf(a) - seqOf(b));
  expect(invoices.map((invoice) => invoice.number)).toEqual(Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(4, '0')}`));
  const dates = invoices.map((invoice) => invoice.date);
  expect(dates).toEqual([...dates].sort());
  return invoices;
}

/** Every invoice was announced once, with the number it was stored with. */
async function expectAnnounced(w: World, invoices: readonly Invoice[]): Promise<void> {
  await w.publishAll();
  const events = issued(w.published).filter((event) => invoices.some((invoice) => invoice.workspace === event.workspace));
  expect(events.map((event) => [event.id, event.number]).sort()).toEqual(invoices.map((invoice) => [invoice.id, invoice.number]).sort());
}

/**
 * Delivers an event again until it goes through, as EventBridge and the DLQ redrive redeliver
 * after a failed attempt (a transient fault, or conflicts that outlasted the re-plans). A pack
 * purchase makes 13 DynamoDB calls, so at a quarter of calls failing about one delivery in 40
 * goes through: the cap is set where giving up means a stuck event, not bad luck (0.976^1000).
 */
async function deliverUntilDone(deps: Dependencies, type: string, at: string, detail: Record<string, unknown>, id: string): Promise<void> {
  const errors: string[] = [];
  for (let attempt = 0; attempt < 1000; attempt += 1) {
    try {
      await deliver(deps, type, at, detail, id);
      return;
    } catch (error) {
      // A transient fault: the event is delivered again.
      errors.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    }
  }
  throw new Error(`${id} never went through; the last errors: ${errors.slice(-3).join(' | ')}`);
}

describe('gapless invoice numbers (DynamoDB Local)', () => {
  test('3 concurrent runs, a dry run, a change delivered twice at once and a crashed run: exactly 1..n per workspace', async () => {
    const w = await dynamo.world();
    await seed(w.store, [makeWorkspace({ invoicePrefix: 'ACME' }), makeWorkspace({ id: 'globex', name: 'Globex' })], CATALOG);
    await subscribe(w.deps, 'acme', JOIN, START);
    await subscribe(w.deps, 'globex', JOIN, START);

    // A run that dies (a Lambda timeout) after its first invoice: what it wrote stays, the rest is left.
    const crashed = await runBillingJob(w.crashingDeps(1), 'invoicing', { scheduledTime: '2027-03-01T00:05:00Z' });
    expect(crashed.summary.failed).toBeGreaterThan(0);

    // Catching up January to April, three runs at once, beside a dry run and a pack bought (delivered twice).
    const pack = { workspace: 'acme', pack: 'ai-1000', requestedBy: 'u1' };
    const [dry] = await Promise.all([
      runBillingJob(w.newDeps(), 'invoicing', { asOf: '2027-04-01', dryRun: true }),
      runBillingJob(w.newDeps(), 'invoicing', { scheduledTime: '2027-04-01T00:05:00Z' }),
      runBillingJob(w.newDeps(), 'invoicing', { scheduledTime: '2027-04-01T00:05:00Z' }),
      runBillingJob(w.newDeps(), 'invoicing', { scheduledTime: '2027-04-01T00:05:00Z' }),
      deliverUntilDone(w.newDeps(), 'ai_credit_pack.purchased', '2027-04-01T00:10:00Z', pack, 'evt-pack'),
      deliverUntilDone(w.newDeps(), 'ai_credit_pack.purchased', '2027-04-01T00:10:00Z', pack, 'evt-pack'),
    ]);
    expect(dry.dryRun).toBe(true);
    // Whatever a run gave up on after its conflict re-plans, the next run finishes.
    await runBillingJob(w.deps, 'invoicing', { scheduledTime: '2027-04-01T06:05:00Z' });

    const acme = await expectGapless(w, 'acme', 'ACME', 6);
    expect(acme.map((invoice) => [invoice.kind, invoice.date])).toEqual([
      ['first', '2026-12-23'],
      ['renewal', '2027-01-01'],
      ['renewal', '2027-02-01'],
      ['renewal', '2027-03-01'],
      ['renewal', '2027-04-01'],
      ['change', '2027-04-01'],
    ]);
    const globex = await expectGapless(w, 'globex', defaultInvoicePrefix('globex'), 5);
    await expectAnnounced(w, [...acme, ...globex]);
    // The next invoice continues the counter: the dry run and the losing attempts took none.
    await runBillingJob(w.deps, 'invoicing', { scheduledTime: '2027-05-01T00:05:00Z' });
    await expectGapless(w, 'acme', 'ACME', 7);
  }, 60000);

  test('with a quarter of the DynamoDB calls failing (half after landing), a month of runs and a pack still number 1..n', async () => {
    const w = await dynamo.world();
    const workspaces = ['ws-a', 'ws-b', 'ws-c'];
    await seed(
      w.store,
      workspaces.map((id) => makeWorkspace({ id, name: id })),
      CATALOG,
    );
    for (const id of workspaces) await subscribe(w.deps, id, JOIN, START);
    const faulty = withFaults(createDocumentClient({ endpoint: w.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }), { rate: 0.25, seed: 11 });
    const deps: Dependencies = { store: new BillingStore(faulty.client, { tableName: w.tableName }), publisher: w.deps.publisher, retry: { sleep: async () => undefined } };

    for (const month of ['2027-01', '2027-02', '2027-03']) {
      await Promise.all([
        runBillingJob(deps, 'invoicing', { scheduledTime: `${month}-01T00:05:00Z` }),
        runBillingJob(deps, 'invoicing', { scheduledTime: `${month}-01T00:05:00Z` }),
        deliverUntilDone(deps, 'ai_credit_pack.purchased', `${month}-01T00:06:00Z`, { workspace: 'ws-b', pack: 'ai-1000', requestedBy: 'u1' }, `pack-${month}`),
      ]);
    }
    expect(faulty.stats.afterLanding).toBeGreaterThan(0);
    faulty.enabled = false;
    await runBillingJob(w.deps, 'invoicing', { scheduledTime: '2027-03-01T06:05:00Z' });

    const all: Invoice[] = [];
    for (const id of workspaces) all.push(...(await expectGapless(w, id, defaultInvoicePrefix(id), id === 'ws-b' ? 7 : 4)));
    await expectAnnounced(w, all);
  }, 120000);

  test('a pack before subscribing, a cancellation, a pack after it and a new subscription continue one sequence', async () => {
    const w = await dynamo.world();
    await seed(w.store, [makeWorkspace({ invoicePrefix: 'RE' })], CATALOG);
    const buy = (at: string, id: string) => deliver(w.deps, 'ai_credit_pack.purchased', at, { workspace: 'acme', pack: 'ai-1000', requestedBy: 'u1' }, id);
    await deliver(w.deps, 'member.joined', JOIN, { workspace: 'acme', member: 'u1', role: 'owner' });
    expect(await buy('2026-12-23T09:30:00Z', 'pack-1')).toEqual({ status: 'stored' });
    expect(await deliver(w.deps, 'subscription.started', START, { workspace: 'acme', plan: 'upro-monthly' })).toEqual({ status: 'stored' });
    await runBillingJob(w.deps, 'invoicing', { scheduledTime: '2027-01-01T00:05:00Z' });
    expect(await deliver(w.deps, 'subscription.canceled', '2027-01-10T09:00:00Z', { workspace: 'acme', atPeriodEnd: false })).toEqual({ status: 'stored' });
    expect(await buy('2027-01-12T09:00:00Z', 'pack-2')).toEqual({ status: 'stored' });
    await runBillingJob(w.deps, 'invoicing', { scheduledTime: '2027-02-01T00:05:00Z' });
    expect(await w.store.getActiveSubscription('acme')).toBeUndefined();
    expect(await buy('2027-02-03T09:00:00Z', 'pack-3')).toEqual({ status: 'stored' });
    expect(await deliver(w.deps, 'subscription.started', '2027-02-10T10:00:00Z', { workspace: 'acme', plan: 'upro-monthly' })).toEqual({ status: 'stored' });
    await runBillingJob(w.deps, 'invoicing', { scheduledTime: '2027-03-01T00:05:00Z' });
    const invoices = await expectGapless(w, 'acme', 'RE', 7);
    expect(invoices.map((invoice) => invoice.kind)).toEqual(['change', 'first', 'renewal', 'change', 'change', 'first', 'renewal']);
    await expectAnnounced(w, invoices);
  }, 60000);

  test('a first invoice and a pack bought at the same moment never share a number (the start writes where the counter was)', async () => {
    const w = await dynamo.world();
    const ids = ['ws-1', 'ws-2', 'ws-3', 'ws-4'];
    await seed(
      w.store,
      ids.map((id) => makeWorkspace({ id, name: id })),
      CATALOG,
    );
    for (const id of ids) await deliver(w.deps, 'member.joined', JOIN, { workspace: id, member: 'u1', role: 'owner' });
    await Promise.all(
      ids.flatMap((id) => [
        deliverUntilDone(w.newDeps(), 'ai_credit_pack.purchased', START, { workspace: id, pack: 'ai-1000', requestedBy: 'u1' }, `pack-${id}`),
        deliverUntilDone(w.newDeps(), 'subscription.started', START, { workspace: id, plan: 'upro-monthly' }, `start-${id}`),
      ]),
    );
    for (const id of ids) {
      const invoices = await w.store.listInvoices(id);
      expect(invoices.map(seqOf).sort()).toEqual([1, 2]);
    }
  }, 60000);
});
