/**
 * Runs survive faults (issue 9 item 2), against DynamoDB Local: one workspace's failure never
 * stops the others, transient errors are retried with backoff, a transaction whose response was
 * lost is recognised as done, and a month of hourly runs for 20 workspaces with 10% of the
 * DynamoDB calls failing (half of them after the write landed) ends with exactly the ledger of a
 * fault-free run.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { createInvoicingHandler } from '../../functions/invoicing/handler';
import { parseJobInvocation } from '../../shared/contracts/events';
import { runBillingJob } from '../../shared/jobs/billing-jobs';
import type { Dependencies } from '../../shared/jobs/dependencies';
import type { RetryPolicy } from '../../shared/jobs/retry';
import type { SubscriptionState } from '../../shared/domain/subscription';
import { IncompleteRunError } from '../../shared/runtime/job-handler';
import { classifyError } from '../../shared/store/dynamo-errors';
import { BillingStore, createDocumentClient } from '../../shared/store/dynamo-store';
import { createTable } from '../../shared/store/table';
import { describeFigures, replayWithFaults, type FaultReplayOptions } from '../../simulator/fault-replay';
import { deliver, makeWorkspace, seed, setupDynamo, storedInvoices, subscribe, summary, writesInvoice as writesInvoiceInput, type World } from './harness';

const dynamo = setupDynamo();

const JOIN = '2026-12-23T09:00:00Z';
const START = '2026-12-23T10:00:00Z';
const RENEWAL_RUN = '2027-01-01T00:05:00Z';
const WORKSPACES = ['ws-a', 'ws-b', 'ws-c', 'ws-d', 'ws-e', 'ws-f'];

/** A call as the fault script sees it: its input (document form) and the command's name. */
type Call = { input: Record<string, unknown>; command: string };
/** What to do with a call: let it through, fail it before it is sent, or after it landed. */
type Verdict = 'pass' | { before: Error } | { after: Error };

/** Dependencies on the world's table whose DynamoDB calls go through `script` (and whose backoff waits are recorded, not waited). */
function scriptedDeps(w: World, script: (call: Call) => Verdict): Dependencies & { waits: number[]; tokens: string[] } {
  const doc = createDocumentClient({ endpoint: w.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const tokens: string[] = [];
  doc.middlewareStack.add(
    (next, context) => async (args) => {
      const verdict = script({ input: args.input as Record<string, unknown>, command: String(context.commandName) });
      if (verdict !== 'pass' && 'before' in verdict) throw verdict.before;
      const out = await next(args);
      if (verdict !== 'pass' && 'after' in verdict) throw verdict.after;
      return out;
    },
    { step: 'initialize', name: 'scriptedFault' },
  );
  // The idempotency token the SDK put on each transaction (it reuses it when it retries a request itself).
  doc.middlewareStack.add(
    (next) => async (args) => {
      const body = (args.request as { body?: unknown }).body;
      const text = typeof body === 'string' ? body : body instanceof Uint8Array ? new TextDecoder().decode(body) : '';
      const token = text.includes('ClientRequestToken') ? (JSON.parse(text) as { ClientRequestToken?: unknown }).ClientRequestToken : undefined;
      if (typeof token === 'string') tokens.push(token);
      return next(args);
    },
    { step: 'build', name: 'recordToken' },
  );
  const waits: number[] = [];
  const retry: Partial<RetryPolicy> = { sleep: async (ms) => void waits.push(ms), random: () => 0.5 };
  return { store: new BillingStore(doc, { tableName: w.tableName }), publisher: w.deps.publisher, retry, waits, tokens };
}

const named = (name: string, message: string, fields: Record<string, unknown> = {}) => Object.assign(new Error(message), { name }, fields);
const profileOf = (call: Call) => call.input.Key as { pk?: unknown; sk?: unknown } | undefined;
const rangeOf = (call: Call) => call.input.ExpressionAttributeValues as { ':pk'?: unknown; ':to'?: unknown } | undefined;
/** A read of the workspace's profile: by key, or the billing run's one Query that ends at it (member snapshot, events, profile). */
const readsProfile = (call: Call, workspace: string) =>
  (profileOf(call)?.pk === `WS#${workspace}` && profileOf(call)?.sk === 'PROFILE') || (rangeOf(call)?.[':pk'] === `WS#${workspace}` && rangeOf(call)?.[':to'] === 'PROFILE');
/** A write of an invoice item: a transaction putting one, or the invoice-first PutItem of a quiet renewal. */
const writesInvoice = (call: Call) => writesInvoiceInput(call.input);

async function sixSubscribedWorkspaces(): Promise<World> {
  const w = await dynamo.world();
  await seed(
    w.store,
    WORKSPACES.map((id) => makeWorkspace({ id, name: id })),
  );
  for (const id of WORKSPACES) await subscribe(w.deps, id, JOIN, START);
  return w;
}

async function renewals(w: World): Promise<Record<string, string[]>> {
  const byWorkspace: Record<string, string[]> = {};
  for (const id of WORKSPACES) byWorkspace[id] = (await storedInvoices(w.store, id)).filter((invoice) => invoice.kind === 'renewal').map((invoice) => `${invoice.date} ${invoice.amountDue}`);
  return byWorkspace;
}

describe("one workspace's failure never stops or delays the others", () => {
  test('a permanent error in one workspace is reported, a throttled one is retried, the other four are billed; the scheduled run then throws for Lambda to retry', async () => {
    const w = await sixSubscribedWorkspaces();
    let throttled = 0;
    const deps = scriptedDeps(w, (call) => {
      if (readsProfile(call, 'ws-c')) return { before: named('ValidationException', 'One or more parameter values were invalid', { $fault: 'client', $metadata: { httpStatusCode: 400 } }) };
      if (readsProfile(call, 'ws-e') && throttled < 2) {
        throttled += 1;
        return { before: named('ThrottlingException', 'Rate of requests exceeds the allowed throughput', { $metadata: { httpStatusCode: 400 } }) };
      }
      return 'pass';
    });
    const invoicing = createInvoicingHandler(() => deps);

    const thrown = await invoicing({ scheduledTime: RENEWAL_RUN }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(thrown).toBeInstanceOf(IncompleteRunError);
    const report = (thrown as IncompleteRunError).report;
    expect((thrown as Error).message).toBe('invoicing run at 2027-01-01T00:05:00Z: 1 of 6 workspaces failed: ws-c (ValidationException: One or more parameter values were invalid)');
    expect(report.failed).toEqual([{ workspace: 'ws-c', error: 'ValidationException: One or more parameter values were invalid' }]);
    expect(report.workspaces.map((entry) => [entry.workspace, summary(entry.invoices)])).toEqual(
      ['ws-a', 'ws-b', 'ws-d', 'ws-e', 'ws-f'].map((id) => [id, [{ kind: 'renewal', date: '2027-01-01', amountDue: '210.00' }]]),
    );
    // ws-e waited twice (full jitter: half of 250 ms, then of 500 ms); ws-c's error is not retried at all.
    expect(report.retries).toBe(2);
    expect(deps.waits).toEqual([125, 250]);
    expect(await renewals(w)).toEqual({
      'ws-a': ['2027-01-01 210.00'],
      'ws-b': ['2027-01-01 210.00'],
      'ws-c': [],
      'ws-d': ['2027-01-01 210.00'],
      'ws-e': ['2027-01-01 210.00'],
      'ws-f': ['2027-01-01 210.00'],
    });

    // Lambda's retry of the hour finds the five done and still fails ws-c; once the cause is gone the next hour bills it.
    const retried = await invoicing({ scheduledTime: RENEWAL_RUN }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect((retried as IncompleteRunError).report.workspaces.flatMap((entry) => entry.invoices)).toEqual([]);
    const nextHour = await createInvoicingHandler(() => w.deps)({ scheduledTime: '2027-01-01T01:05:00Z' });
    expect(nextHour.failed).toEqual([]);
    expect(nextHour.workspaces.flatMap((entry) => entry.invoices.map((invoice) => [invoice.workspace, invoice.date]))).toEqual([['ws-c', '2027-01-01']]);
    expect(Object.values(await renewals(w))).toEqual(WORKSPACES.map(() => ['2027-01-01 210.00']));
  });

  test('an on-demand run returns its report with the failure instead of throwing', async () => {
    const w = await sixSubscribedWorkspaces();
    const deps = scriptedDeps(w, (call) => (readsProfile(call, 'ws-b') ? { before: named('TimeoutError', 'Connection timed out after 3000 ms') } : 'pass'));
    const report = await createInvoicingHandler(
      () => deps,
      () => Date.parse('2027-01-01T08:00:00Z'),
    )({ asOf: '2027-01-01' });
    // Timeouts are retried: six attempts, five waits, then reported.
    expect(deps.waits).toEqual([125, 250, 500, 1000, 2000]);
    expect(report.failed).toEqual([{ workspace: 'ws-b', error: 'TimeoutError: Connection timed out after 3000 ms' }]);
    expect(report.workspaces.map((entry) => entry.workspace)).toEqual(['ws-a', 'ws-c', 'ws-d', 'ws-e', 'ws-f']);
  });

  test('a conflict that outlasts its re-plans is retried after a backoff too', async () => {
    const w = await sixSubscribedWorkspaces();
    let conflicts = 0;
    const deps = scriptedDeps(w, (call) => {
      if (!writesInvoice(call) || conflicts >= 6) return 'pass';
      conflicts += 1;
      // The renewal's invoice is written first, on its own: a concurrent writer shows as its condition failing.
      return { before: new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 } }) };
    });
    const report = await runBillingJob(deps, 'invoicing', parseJobInvocation({ asOf: '2027-01-01', workspace: 'ws-a' }));
    // Five immediate re-plans (withConflictRetry), then one backoff, then the sixth conflict re-plans and succeeds.
    expect(report.failed).toEqual([]);
    expect(report.retries).toBe(1);
    expect(summary(report.workspaces[0].invoices)).toEqual([{ kind: 'renewal', date: '2027-01-01', amountDue: '210.00' }]);
  });
});

describe('a write whose response was lost but which landed is recognised as done', () => {
  test('an invoice written first: the retry finds it at its number, completes its subscription, re-plans and finds nothing left; announced once', async () => {
    const w = await sixSubscribedWorkspaces();
    let sent: Record<string, unknown> | undefined;
    const deps = scriptedDeps(w, (call) => {
      if (!writesInvoice(call) || sent) return 'pass';
      sent = call.input;
      return { after: named('TimeoutError', 'Connection timed out after 3000 ms (the write landed)') };
    });
    await w.publishAll();
    w.published.length = 0;

    const report = await runBillingJob(deps, 'invoicing', parseJobInvocation({ asOf: '2027-01-01', workspace: 'ws-a' }));

    expect(report.failed).toEqual([]);
    expect(report.retries).toBe(1);
    // The invoice came from the attempt whose response was lost, so this report does not list it; the ledger has it once.
    expect(report.workspaces).toEqual([{ workspace: 'ws-a', asOf: '2027-01-01', invoices: [], prorations: [] }]);
    expect((await renewals(w))['ws-a']).toEqual(['2027-01-01 210.00']);
    // The subscription was completed from the invoice: a later run bills nothing more.
    const again = await runBillingJob(w.deps, 'invoicing', parseJobInvocation({ asOf: '2027-01-01', workspace: 'ws-a' }));
    expect(again.workspaces.flatMap((entry) => entry.invoices)).toEqual([]);
    // The stream carries the one insert that landed: one announcement.
    await w.publishAll();
    expect(w.published.map((event) => event.id)).toEqual(['inv_ws-a_2027-01-01_renewal']);

    // Sent again as a new request, the invoice's write fails its condition (its number is taken): a conflict, so a re-plan.
    const resent = await w.rawClient.send(new PutCommand(sent as ConstructorParameters<typeof PutCommand>[0])).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect((resent as Error).name).toBe('ConditionalCheckFailedException');
    expect(classifyError(resent)).toBe('conflict');
    expect((await renewals(w))['ws-a']).toEqual(['2027-01-01 210.00']);
  });

  test('a transaction (an accrual step): the retry reloads, re-plans and finds nothing left', async () => {
    const w = await sixSubscribedWorkspaces();
    await runBillingJob(w.deps, 'invoicing', parseJobInvocation({ asOf: '2027-01-01', workspace: 'ws-a' }));
    await deliver(w.deps, 'member.joined', '2027-01-10T09:00:00Z', { workspace: 'ws-a', member: 'late-joiner', role: 'member' });
    let sent: Record<string, unknown> | undefined;
    const deps = scriptedDeps(w, (call) => {
      if (!Array.isArray(call.input.TransactItems) || sent) return 'pass';
      sent = call.input;
      return { after: named('TimeoutError', 'Connection timed out after 3000 ms (the write landed)') };
    });

    const report = await runBillingJob(deps, 'accrual', parseJobInvocation({ asOf: '2027-01-11', workspace: 'ws-a' }));

    expect(report.failed).toEqual([]);
    expect(report.retries).toBe(1);
    const prorations = await w.store.listUnbilledProrations((await w.store.getActiveSubscription('ws-a')) as SubscriptionState);
    expect(prorations).toHaveLength(1);

    // Sent again as a new request (our retry, a Lambda retry), the same writes fail their version condition: a conflict, so a re-plan.
    const input = sent as ConstructorParameters<typeof TransactWriteCommand>[0];
    const resent = await w.rawClient.send(new TransactWriteCommand(input)).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect((resent as Error).name).toBe('TransactionCanceledException');
    expect(classifyError(resent)).toBe('conflict');
    // Sent again as the same request (the AWS SDK's own retry keeps its ClientRequestToken), DynamoDB answers it as done.
    expect(deps.tokens.length).toBeGreaterThan(0);
    await w.rawClient.send(new TransactWriteCommand({ ...input, ClientRequestToken: deps.tokens[0] }));
    expect(await w.store.listUnbilledProrations((await w.store.getActiveSubscription('ws-a')) as SubscriptionState)).toHaveLength(1);
  });
  test('a redelivered cancellation whose first attempt landed writes nothing more', async () => {
    const w = await sixSubscribedWorkspaces();
    const cancel = { workspace: 'ws-a', atPeriodEnd: true };
    // The event's work lands; its idempotency record (written last) does not, so the event is redelivered.
    const deps = scriptedDeps(w, (call) =>
      String((call.input.Item as { pk?: unknown } | undefined)?.pk ?? '').startsWith('IDEMPOTENCY#')
        ? { before: named('InternalServerError', 'Internal server error', { $metadata: { httpStatusCode: 500 } }) }
        : 'pass',
    );
    await expect(deliver(deps, 'subscription.canceled', '2027-01-10T09:00:00Z', cancel, 'cancel-1')).rejects.toThrow('Internal server error');
    const afterFirst = await w.store.getActiveSubscription('ws-a');
    expect(afterFirst?.endsAfter).toBe('2027-01-31');

    expect(await deliver(w.deps, 'subscription.canceled', '2027-01-10T09:00:00Z', cancel, 'cancel-1')).toEqual({ status: 'stored' });
    expect(await w.store.getActiveSubscription('ws-a')).toEqual(afterFirst);
  });
});

describe('a month of hourly runs at 10% faults ends with the fault-free ledger', () => {
  const options: FaultReplayOptions = { workspaces: 20, from: '2027-01-01T00:00:00Z', until: '2027-02-02T00:00:00Z', faultRate: 0.1, seed: 20270101, faultyIngest: true };

  test('20 workspaces, Jan 1 – Feb 2: invoices, prorations, balances, rejections and published events exactly equal', async () => {
    const w = await dynamo.world();
    const config = { endpoint: w.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
    const figures = await replayWithFaults({ config, createTable: (name) => createTable(config, name) }, options);

    expect(figures.differences).toEqual([]);
    // The faults really happened, of every kind, and every recovery path was taken.
    expect(figures.faults / figures.calls).toBeGreaterThan(0.08);
    expect(figures.faultsAfterLanding / figures.faults).toBeGreaterThan(0.4);
    for (const kind of ['throttling', 'server-error', 'network', 'condition-failed'] as const) expect(figures.byKind[kind]).toBeGreaterThan(10);
    expect(figures.backoffRetries).toBeGreaterThan(100);
    expect(figures.lambdaRetries).toBeGreaterThan(10);
    expect(figures.redeliveries).toBeGreaterThan(50);
    // And the ledger is a real one: first invoices, renewals, true-ups, changes, prorations, rejections.
    expect(figures.hours).toBe(768);
    expect(figures.invoices).toBeGreaterThan(40);
    expect(figures.prorations).toBeGreaterThan(50);
    expect(figures.rejections).toBeGreaterThan(0);
    expect(figures.published).toBeGreaterThanOrEqual(figures.invoices);
    if (process.env.FAULT_FIGURES) console.log(describeFigures(options, figures));
  }, 240_000);
});
