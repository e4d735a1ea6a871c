/**
 * No size limit can wedge a workspace (issue 9 item 4), against DynamoDB Local: an accrual with
 * hundreds of late adjustments (more than one 100-item transaction holds), invoices of 1,000 and
 * 20,000 lines, crashes and concurrent runs in the middle of a chunked write. Every expected
 * amount is computed here from the events, not by the engine.
 */
import Decimal from 'decimal.js';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { addDays, eachDate, type IsoDate } from '../../shared/domain/calendar';
import type { Plan } from '../../shared/domain/catalog';
import type { BillingStep } from '../../shared/domain/engine';
import { invoiceSeqOf, type Invoice, type InvoiceLine } from '../../shared/domain/invoice';
import { Money } from '../../shared/domain/money';
import { runBillingJob } from '../../shared/jobs/billing-jobs';
import type { Dependencies } from '../../shared/jobs/dependencies';
import { BillingStore, createDocumentClient, invoiceEventDetail, MAX_EVENT_DETAIL_BYTES } from '../../shared/store/dynamo-store';
import { itemSizeBytes, MAX_ITEM_BYTES } from '../../shared/store/item-size';
import { keys } from '../../shared/store/keys';
import { deliver, issued, makeCatalog, makeWorkspace, seed, setupDynamo, storedInvoices, subscribe, UPRO_MONTHLY, type World } from './harness';

const dynamo = setupDynamo();

const PRO_ANNUAL: Plan = { ...UPRO_MONTHLY, id: 'pro-annual', name: 'Pro', interval: 'year', seatPrice: '600.00' };
const TERM_END = '2027-12-31';

interface LateEvent {
  type: 'member.joined' | 'member.removed';
  at: string;
  member: string;
}

/**
 * `count` member events from Jan 2, 2027, three a day, so the paid quantity changes every day:
 * on even days two join and the first leaves again (+1), on odd days one joins and leaves and
 * the day before's second member leaves (−1).
 */
function lateChurn(count: number): LateEvent[] {
  const events: LateEvent[] = [];
  for (let i = 0; events.length < count; i += 1) {
    const date = addDays('2027-01-02', i);
    const day: LateEvent[] =
      i % 2 === 0
        ? [
            { type: 'member.joined', at: `${date}T10:00:00Z`, member: `a${i}` },
            { type: 'member.joined', at: `${date}T11:00:00Z`, member: `b${i}` },
            { type: 'member.removed', at: `${date}T12:00:00Z`, member: `a${i}` },
          ]
        : [
            { type: 'member.joined', at: `${date}T10:00:00Z`, member: `c${i}` },
            { type: 'member.removed', at: `${date}T11:00:00Z`, member: `b${i - 1}` },
            { type: 'member.removed', at: `${date}T12:00:00Z`, member: `c${i}` },
          ];
    events.push(...day.slice(0, count - events.length));
  }
  return events;
}

/** Billable members at the end of each day of the 2027 term: the 5 from Jan 1 plus the late events (R4). */
function endOfDayCounts(events: readonly LateEvent[]): Map<IsoDate, number> {
  const counts = new Map<IsoDate, number>();
  const active = new Set(['u1', 'u2', 'u3', 'u4', 'u5']);
  const sorted = [...events].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  for (const date of eachDate('2027-01-01', TERM_END)) {
    for (const event of sorted) {
      if (event.at.slice(0, 10) !== date) continue;
      if (event.type === 'member.joined') active.add(event.member);
      else active.delete(event.member);
    }
    counts.set(date, active.size);
  }
  return counts;
}

/**
 * The adjustments R9 gives when 5 seats were charged for every day of the term: one per day
 * whose count differs from the day before, Δ × round(600 × days left / 365) (unit rounding).
 */
function expectedAdjustments(counts: Map<IsoDate, number>): Array<{ date: IsoDate; delta: number; amount: Decimal }> {
  const adjustments: Array<{ date: IsoDate; delta: number; amount: Decimal }> = [];
  let charged = 5;
  for (const [date, count] of counts) {
    if (count === charged) continue;
    const daysLeft = eachDate(date, TERM_END).length;
    const unit = new Decimal(600).times(daysLeft).div(365).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
    adjustments.push({ date, delta: count - charged, amount: unit.times(count - charged) });
    charged = count;
  }
  return adjustments;
}

/** An annual Pro workspace (5 seats from Jan 1, 2027) with every day through Dec 9 accrued, nothing changed yet. */
async function annualWorkspace(w: World, deps: Dependencies = w.deps): Promise<void> {
  await seed(w.store, [makeWorkspace()], makeCatalog([PRO_ANNUAL]));
  await subscribe(deps, 'acme', '2027-01-01T08:00:00Z', '2027-01-01T09:00:00Z', 5, PRO_ANNUAL.id);
  await runBillingJob(deps, 'invoicing', { scheduledTime: '2027-12-01T00:05:00Z' });
  await runBillingJob(deps, 'accrual', { asOf: '2027-12-10', workspace: 'acme', dryRun: false });
  expect((await w.store.getActiveSubscription('acme'))?.accruedThrough).toBe('2027-12-09');
}

async function deliverAll(deps: Dependencies, events: readonly LateEvent[]): Promise<void> {
  for (const event of events) {
    const detail = { workspace: 'acme', member: event.member, ...(event.type === 'member.joined' ? { role: 'member' } : {}) };
    expect(await deliver(deps, event.type, event.at, detail)).toEqual({ status: 'stored' });
  }
}

/**
 * What ingesting late events leaves, written straight to the store (faster than delivering
 * hundreds one by one): the events, the subscription marked to recompute from the earliest,
 * and an accrual marker.
 */
async function recordLate(store: BillingStore, events: readonly LateEvent[]): Promise<void> {
  let n = 0;
  for (const event of events) {
    await store.appendMemberEvent('acme', `late-${event.at}-${event.member}-${n++}`, { type: event.type, member: event.member, role: 'member', at: event.at, date: event.at.slice(0, 10) });
  }
  const subscription = await store.getActiveSubscription('acme');
  if (!subscription) throw new Error('no subscription');
  const earliest = events.map((event) => event.at.slice(0, 10)).sort()[0];
  await store.putSubscription(makeWorkspace(), { ...subscription, recomputeFrom: earliest, version: subscription.version + 1 });
  await store.markAccrualDue(makeWorkspace(), earliest, addDays(earliest, 1));
}

/** A run that dies: whether the job throws or reports the workspace failed, it names the crash. */
async function expectDeath(run: Promise<unknown>, message: string): Promise<void> {
  const outcome = await run.then(
    (report) => JSON.stringify(report),
    (error: unknown) => String(error),
  );
  expect(outcome).toContain(message);
}

const ACCRUAL_RUN = '2027-12-10T00:05:00Z';
const RENEWAL_RUN = '2028-01-01T00:05:00Z';

const clients: DynamoDBDocumentClient[] = [];
afterAll(() => {
  for (const client of clients.splice(0)) client.destroy();
});

/** Dependencies whose store throws, as a Lambda that dies would stop, instead of sending the n-th chunk of a chunked step (a transaction with a condition check). */
function diesBeforeChunk(w: World, n: number): Dependencies {
  const doc = createDocumentClient({ endpoint: w.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  clients.push(doc);
  let chunks = 0;
  doc.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as { TransactItems?: Array<{ ConditionCheck?: unknown }> };
      if (input.TransactItems?.some((item) => item.ConditionCheck)) {
        chunks += 1;
        if (chunks === n) throw new Error(`simulated crash before chunk ${n}`);
      }
      return next(args);
    },
    { step: 'initialize', name: 'dieBeforeChunk' },
  );
  return { store: new BillingStore(doc, { tableName: w.tableName }), publisher: w.deps.publisher };
}

function subtotalOf(lines: readonly InvoiceLine[]): string {
  return Money.sum(
    lines.map((line) => Money.of(line.amount, 'USD')),
    'USD',
  ).toString();
}

describe('no number of prorations or lines wedges a workspace (DynamoDB Local)', () => {
  test('1,000 late member events over 334 days of an annual term: the accrual job writes 334 adjustments, the Jan 1 renewal bills each once at the right total, and a second run is a no-op', async () => {
    const w = await dynamo.world();
    await annualWorkspace(w);
    const events = lateChurn(1000);
    expect(events).toHaveLength(1000);
    await deliverAll(w.deps, events);

    const counts = endOfDayCounts(events);
    const adjustments = expectedAdjustments(counts);
    expect(adjustments.length).toBeGreaterThan(300);

    const accrual = await runBillingJob(w.deps, 'accrual', { scheduledTime: ACCRUAL_RUN });
    const accrued = accrual.workspaces.flatMap((entry) => entry.prorations);
    expect(accrued.map((p) => ({ date: p.date, delta: p.delta, amount: p.amount, adjustment: p.adjustment }))).toEqual(
      adjustments.map((a) => ({ date: a.date, delta: a.delta, amount: a.amount.toFixed(2), adjustment: true })),
    );
    const subscription = await w.store.getActiveSubscription('acme');
    expect(subscription).toMatchObject({ accruedThrough: '2027-12-09', recomputeFrom: null });
    expect(await w.store.listUnbilledProrations(subscription as NonNullable<typeof subscription>)).toEqual(accrued);

    const renewalReport = await runBillingJob(w.deps, 'invoicing', { scheduledTime: RENEWAL_RUN });
    expect(renewalReport.workspaces.flatMap((entry) => entry.invoices).map((invoice) => invoice.kind)).toEqual(['renewal']);
    const renewal = (await storedInvoices(w.store, 'acme')).find((invoice) => invoice.date === '2028-01-01') as Invoice;
    const seats = counts.get(TERM_END) ?? 0;
    const total = adjustments.reduce((sum, a) => sum.plus(a.amount), new Decimal(600).times(seats));
    expect(renewal.lines).toHaveLength(adjustments.length + 1);
    expect(renewal.lines.at(-1)).toMatchObject({ kind: 'seats', quantity: seats, amount: new Decimal(600).times(seats).toFixed(2), periodStart: '2028-01-01', periodEnd: '2028-12-31' });
    expect(renewal).toMatchObject({ subtotal: total.toFixed(2), amountDue: total.toFixed(2), creditApplied: '0.00' });

    // The items stay small: the subscription holds two terms at most, the invoice well under 400 KB.
    const items = await w.scan();
    const subscriptionItem = items.find((item) => String(item.sk).startsWith('SUB#')) ?? {};
    const invoiceItem = items.find((item) => item.sk === keys.invoice('acme', invoiceSeqOf(renewal.number)).sk) ?? {};
    expect(subscriptionItem.writeClaim).toBeUndefined();
    expect(itemSizeBytes(subscriptionItem)).toBeLessThan(32 * 1024);
    expect(itemSizeBytes(invoiceItem)).toBeLessThan(MAX_ITEM_BYTES / 4);

    // Again, and concurrently: nothing changes.
    await runBillingJob(w.deps, 'accrual', { scheduledTime: ACCRUAL_RUN });
    await Promise.all([
      runBillingJob(w.newDeps(), 'accrual', { scheduledTime: RENEWAL_RUN }),
      runBillingJob(w.newDeps(), 'invoicing', { scheduledTime: RENEWAL_RUN }),
      runBillingJob(w.newDeps(), 'invoicing', { scheduledTime: RENEWAL_RUN }),
    ]);
    expect(await w.scan()).toEqual(items);

    await w.publishAll();
    expect(issued(w.published).find((invoice) => invoice.id === renewal.id)).toEqual(renewal);
  }, 300_000);

  test('a run that dies after its first chunk of adjustments leaves none of them read; the next run writes them once and the renewal bills each once', async () => {
    const w = await dynamo.world();
    await annualWorkspace(w);
    const events = lateChurn(450);
    await recordLate(w.store, events);
    const adjustments = expectedAdjustments(endOfDayCounts(events));
    expect(adjustments.length).toBeGreaterThan(99);

    await expectDeath(runBillingJob(diesBeforeChunk(w, 2), 'accrual', { scheduledTime: ACCRUAL_RUN }), 'simulated crash before chunk 2');
    const stranded = await w.store.getActiveSubscription('acme');
    expect(stranded?.accruedThrough).toBe('2027-12-09');
    expect(await w.store.listUnbilledProrations(stranded as NonNullable<typeof stranded>)).toEqual([]);
    expect((await w.scan()).filter((item) => String(item.sk).startsWith('PRORATION#'))).toHaveLength(99);

    const accrual = await runBillingJob(w.deps, 'accrual', { scheduledTime: ACCRUAL_RUN });
    expect(accrual.workspaces.flatMap((entry) => entry.prorations)).toHaveLength(adjustments.length);
    await runBillingJob(w.deps, 'invoicing', { scheduledTime: RENEWAL_RUN });
    const renewal = (await storedInvoices(w.store, 'acme')).find((invoice) => invoice.date === '2028-01-01') as Invoice;
    expect(renewal.lines.filter((line) => line.kind === 'proration').map((line) => [line.periodStart, line.amount])).toEqual(adjustments.map((a) => [a.date, a.amount.toFixed(2)]));
    expect(renewal.subtotal).toBe(subtotalOf(renewal.lines));
  }, 120_000);

  test("a dead run's chunks that the retry no longer plans (late events flattened the churn meanwhile) are never read, and the next proration overwrites them", async () => {
    const w = await dynamo.world();
    await annualWorkspace(w);
    const events = lateChurn(600);
    await recordLate(w.store, events);
    expect(expectedAdjustments(endOfDayCounts(events))).toHaveLength(200);
    await expectDeath(runBillingJob(diesBeforeChunk(w, 3), 'accrual', { scheduledTime: ACCRUAL_RUN }), 'simulated crash before chunk 3');
    expect((await w.scan()).filter((item) => String(item.sk).startsWith('PRORATION#'))).toHaveLength(2 * 99);

    // Before the retry, it turns out that each day's second member left the day they joined, and
    // someone else joined on Jan 2: 6 seats from Jan 2 on, one adjustment where the dead run planned 200.
    const more: LateEvent[] = [
      { type: 'member.joined', at: '2027-01-02T09:00:00Z', member: 'stays' },
      ...Array.from({ length: 100 }, (_, k): LateEvent => ({ type: 'member.removed', at: `${addDays('2027-01-02', 2 * k)}T13:00:00Z`, member: `b${2 * k}` })),
    ];
    await recordLate(w.store, more);
    const adjustments = expectedAdjustments(endOfDayCounts([...events, ...more]));
    expect(adjustments.map((a) => [a.date, a.delta])).toEqual([['2027-01-02', 1]]);

    const accrual = await runBillingJob(w.deps, 'accrual', { scheduledTime: ACCRUAL_RUN });
    const accrued = accrual.workspaces.flatMap((entry) => entry.prorations);
    expect(accrued.map((p) => [p.date, p.delta, p.amount])).toEqual(adjustments.map((a) => [a.date, a.delta, a.amount.toFixed(2)]));
    const subscription = await w.store.getActiveSubscription('acme');
    expect(await w.store.listUnbilledProrations(subscription as NonNullable<typeof subscription>)).toEqual(accrued);

    await runBillingJob(w.deps, 'invoicing', { scheduledTime: RENEWAL_RUN });
    const renewal = (await storedInvoices(w.store, 'acme')).find((invoice) => invoice.date === '2028-01-01') as Invoice;
    expect(renewal.lines.map((line) => [line.kind, line.quantity, line.amount])).toEqual([
      ['proration', 1, adjustments[0].amount.toFixed(2)],
      ['seats', 6, '3600.00'],
    ]);

    // The next proration takes the next number, where a dead chunk lies: it replaces it.
    await deliverAll(w.deps, [{ type: 'member.joined', at: '2028-01-10T09:00:00Z', member: 'later' }]);
    const january = await runBillingJob(w.deps, 'accrual', { scheduledTime: '2028-01-11T00:05:00Z' });
    const [joined] = january.workspaces.flatMap((entry) => entry.prorations);
    expect(joined).toMatchObject({ date: '2028-01-10', delta: 1, adjustment: false });
    const after = await w.store.getActiveSubscription('acme');
    expect(await w.store.listUnbilledProrations(after as NonNullable<typeof after>)).toEqual([joined]);
  }, 180_000);

  test('four concurrent accrual runs over 150 late adjustments commit one set of prorations, billed once', async () => {
    const w = await dynamo.world();
    await annualWorkspace(w);
    const events = lateChurn(450);
    await recordLate(w.store, events);
    const adjustments = expectedAdjustments(endOfDayCounts(events));

    const runs = await Promise.allSettled(Array.from({ length: 4 }, () => runBillingJob(w.newDeps(), 'accrual', { scheduledTime: ACCRUAL_RUN })));
    // Claims may be taken from one another until one commits; whoever loses re-plans and finds it done.
    const reported = runs.flatMap((run) => (run.status === 'fulfilled' ? run.value.workspaces.flatMap((entry) => entry.prorations) : []));
    expect(reported).toHaveLength(adjustments.length);
    await runBillingJob(w.deps, 'accrual', { scheduledTime: ACCRUAL_RUN });
    await runBillingJob(w.deps, 'invoicing', { scheduledTime: RENEWAL_RUN });
    const renewal = (await storedInvoices(w.store, 'acme')).find((invoice) => invoice.date === '2028-01-01') as Invoice;
    expect(renewal.lines.filter((line) => line.kind === 'proration').map((line) => [line.periodStart, line.amount])).toEqual(adjustments.map((a) => [a.date, a.amount.toFixed(2)]));
  }, 120_000);

  test("an invoice of 1,000 proration lines is one item under 400 KB and one event under EventBridge's 256 KB, lines and all", async () => {
    const w = await dynamo.world();
    await seed(w.store, [makeWorkspace()], makeCatalog([PRO_ANNUAL]));
    const invoice = bigInvoice(1000);
    await w.store.applySteps(makeWorkspace(), [purchase(invoice)], '2028-01-01T00:05:00Z');
    const item = await w.rawClient.send(new GetCommand({ TableName: w.tableName, Key: keys.invoice('acme', invoiceSeqOf(invoice.number)) }));
    expect(item.Item?.linePages).toBeUndefined();
    expect(itemSizeBytes(item.Item ?? {})).toBeLessThan(MAX_ITEM_BYTES);
    expect(Buffer.byteLength(JSON.stringify(invoice))).toBeLessThan(MAX_EVENT_DETAIL_BYTES);
    expect(await w.store.listInvoices('acme')).toEqual([invoice]);
    await w.publishAll();
    expect(issued(w.published)).toEqual([invoice]);
  });

  test('an invoice of 20,000 lines (4 MB, more than one transaction holds) is stored in pages under a claim and read back whole; its event leaves the lines out', async () => {
    const w = await dynamo.world();
    await seed(w.store, [makeWorkspace()], makeCatalog([PRO_ANNUAL]));
    await subscribe(w.deps, 'acme', '2027-01-01T08:00:00Z', '2027-01-01T09:00:00Z', 5, PRO_ANNUAL.id);
    const subscription = await w.store.getActiveSubscription('acme');
    if (!subscription) throw new Error('no subscription');
    const balance = await w.store.getBalance('acme', 'USD');
    const invoice = { ...bigInvoice(20000), subscription: subscription.id };
    const step: BillingStep = {
      kind: 'invoice',
      subscription: { ...subscription, version: subscription.version + 1 },
      invoice,
      balance: { ...balance, version: balance.version + 1 },
      aiCreditsGranted: 0,
    };
    await w.store.applySteps(makeWorkspace(), [step], '2028-01-01T00:05:00Z');

    const items = await w.scan();
    const pages = items.filter((item) => String(item.sk).startsWith(keys.invoiceLinesPrefix(invoice.id)));
    expect(pages.length).toBeGreaterThan(10);
    for (const item of items) expect(itemSizeBytes(item)).toBeLessThan(MAX_ITEM_BYTES);
    const stored = (await w.store.listInvoices('acme')).find((candidate) => candidate.id === invoice.id);
    expect(stored).toEqual(invoice);
    expect(await w.store.getActiveSubscription('acme')).toEqual(step.subscription);

    // Written once: the same step again loses its version condition, whatever its size.
    await expect(w.store.applySteps(makeWorkspace(), [step], '2028-01-01T00:05:00Z')).rejects.toThrow('changed concurrently');
    await w.publishAll();
    const event = w.published.find((published) => published.id === invoice.id);
    expect(event?.detail).toMatchObject({ id: invoice.id, subtotal: invoice.subtotal, lineCount: 20000, linesOmitted: true });
    expect(event?.detail.lines).toBeUndefined();
    expect(invoiceEventDetail(invoice)).not.toHaveProperty('lines');
  }, 120_000);
});

/** An invoice of `count` adjustment lines as long as an annual term's get. */
function bigInvoice(count: number): Invoice {
  const lines: InvoiceLine[] = Array.from({ length: count }, (_, i) => {
    const date = addDays('2027-01-01', i % 365);
    const daysLeft = eachDate(date, TERM_END).length;
    const unit = new Decimal(600).times(daysLeft).div(365).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
    const delta = i % 2 === 0 ? 12 : -12;
    return {
      kind: 'proration',
      description: `Adjustment: 12 seats ${delta > 0 ? 'added' : 'removed'} on ${date}, ${daysLeft} of 365 days × $600.00`,
      quantity: delta,
      unitAmount: unit.toFixed(2),
      amount: unit.times(delta).toFixed(2),
      periodStart: date,
      periodEnd: TERM_END,
    };
  });
  const subtotal = subtotalOf(lines);
  const positive = new Decimal(subtotal).gt(0);
  return {
    id: `inv_acme_2028-01-01_renewal_${count}`,
    number: `ACME-${count}`,
    workspace: 'acme',
    subscription: 'sub_acme_2027-01-01',
    kind: 'renewal',
    date: '2028-01-01',
    currency: 'USD',
    periodStart: '2028-01-01',
    periodEnd: '2028-12-31',
    lines,
    subtotal,
    creditApplied: '0.00',
    amountDue: positive ? subtotal : '0.00',
  };
}

function purchase(invoice: Invoice): BillingStep {
  return { kind: 'purchase', invoice, balance: { billingCredit: Money.zero('USD'), aiCredits: 0, version: 1 } };
}
