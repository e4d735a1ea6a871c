import type { Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { createAccrualDispatcher } from '../functions/accrual/handler';
import { createIngestHandler, type AppEventEnvelope } from '../functions/ingest/handler';
import { createInvoicingDispatcher } from '../functions/invoicing/handler';
import { createPublisherHandler } from '../functions/publisher/handler';
import { isPublisherRecord, LocalTableStream } from './local-stream';
import { addDays, startOfDateInstant, toBillingDate } from '../shared/domain/calendar';
import { BillingError, ValidationError } from '../shared/domain/errors';
import type { Invoice } from '../shared/domain/invoice';
import type { Dependencies, PublishedEvent } from '../shared/jobs/dependencies';
import { withMiddlewares } from '../shared/runtime/middleware';
import { createWorkerHandler } from '../shared/runtime/worker-handler';
import { InProcessQueue } from './in-process-queue';
import { BillingStore, createDocumentClient } from '../shared/store/dynamo-store';
import { catalogOf, workspacesOf, type Scenario } from './scenario';
import type { LocalDynamo } from './dynamo-local';

/** The simulator's result (scenario-format.md, Output). */
export interface SimulationResult {
  invoices: Invoice[];
  rejections: Array<{ at: string; workspace: string; type: string; reason: string; message: string }>;
  balances: Record<string, { billingCredit: string; aiCredits: number }>;
  events: PublishedEvent[];
}

/** The minute past each hour at which the deployed schedules fire (infra: `cron(5 * * * ? *)`). */
export const SCHEDULE_MINUTE = 5;

/**
 * The instants at which the deployed hourly schedules would find work: for each workspace
 * zone and date, the first firing at or after that date's local midnight. Firings between
 * them find nothing due, so the test clock skips them.
 */
export function scheduleFirings(scenario: Scenario): string[] {
  const zones = [...new Set(scenario.workspaces.map((workspace) => workspace.timezone))];
  // biome-ignore lint/complexity/useMathMinMax: ISO instants are compared as strings; Math.min would coerce them to NaN.
  const first = scenario.events.reduce((min, event) => (event.at < min ? event.at : min), scenario.until);
  const until = DateTime.fromISO(scenario.until, { setZone: true }).toUTC();
  const firings = new Set<string>();
  for (const zone of zones) {
    for (let date = addDays(toBillingDate(first, zone), 0); date <= toBillingDate(scenario.until, zone); date = addDays(date, 1)) {
      const midnight = DateTime.fromISO(startOfDateInstant(date, zone), { zone: 'UTC' });
      let firing = midnight.startOf('hour').set({ minute: SCHEDULE_MINUTE });
      if (firing < midnight) firing = firing.plus({ hours: 1 });
      if (firing <= until) firings.add(firing.toISO({ suppressMilliseconds: true }) ?? '');
    }
  }
  return [...firings].sort();
}

/** A Lambda context for invoking handlers outside Lambda (simulator, tests). */
export function lambdaContext(name: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `prorata-${name}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:prorata-${name}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/prorata-${name}`,
    logStreamName: 'simulator',
    getRemainingTimeInMillis: () => 900000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * Replays a scenario through the real handlers and store against a DynamoDB endpoint under a
 * test clock: each event is delivered at its time (`deliveredAt` when given, for late
 * events), each schedule fires when the deployed one would and its dispatcher's messages are
 * billed by the worker through an in-process queue, and every outbox entry is
 * published after each invocation. Invoices are reported in the order they were published.
 */
export async function simulate(scenario: Scenario, dynamo: Pick<LocalDynamo, 'config' | 'createTable'>): Promise<SimulationResult> {
  const tableName = `prorata-sim-${randomUUID()}`;
  await dynamo.createTable(tableName);
  const published: PublishedEvent[] = [];
  const store = new BillingStore(createDocumentClient(dynamo.config), { tableName, dueShards: 2, outboxShards: 1 });
  const deps: Dependencies = { store, publisher: { publish: async (events) => void published.push(...events) } };
  await store.putCatalog(catalogOf(scenario));
  const workspaces = workspacesOf(scenario);
  for (const workspace of workspaces) await store.putWorkspace(workspace);

  // The test clock: the instant of the tick being replayed, for the handlers' clock guards.
  let now = Date.parse(scenario.until);
  const clock = () => now;
  const ingest = withMiddlewares(createIngestHandler(() => deps));
  // The deployed fan-out, in this process: the dispatchers queue each due workspace and the
  // workers bill them, drained before the next step of the timeline.
  // The stack's visibility timeout: a batch is never received twice while it runs (a failure,
  // which no scenario expects, stops the simulation at once: failFast).
  const queue = new InProcessQueue({ visibilityTimeoutMs: 12 * 60_000 });
  const invoicing = withMiddlewares(
    createInvoicingDispatcher(
      () => deps,
      () => queue,
      clock,
    ),
  );
  const accrual = withMiddlewares(
    createAccrualDispatcher(
      () => deps,
      () => queue,
      clock,
    ),
  );
  const worker = withMiddlewares(createWorkerHandler(() => deps, { clock }));
  const work = async () => {
    await queue.drain(worker, { batchSize: 10, concurrency: 2, context: lambdaContext('worker'), failFast: true });
  };
  const publisher = withMiddlewares(createPublisherHandler(() => deps));
  const stream = new LocalTableStream(dynamo.config, tableName, { accept: isPublisherRecord });
  const rejections: SimulationResult['rejections'] = [];
  const publish = async () => {
    const from = published.length;
    await stream.deliver((event) => publisher(event, lambdaContext('publisher')));
    await publisher({ sweep: true }, lambdaContext('publisher'));
    // One tick's events in a fixed order, whatever order its workers wrote them in: by date, then
    // id, as the outbox sorted them (the bus itself promises no order across workspaces).
    const tick = published.splice(from).map((event, index) => ({ event, index }));
    tick.sort((a, b) => orderOf(a.event).localeCompare(orderOf(b.event)) || a.index - b.index);
    published.push(...tick.map(({ event }) => event));
  };

  type Tick = { at: string; order: number; run: () => Promise<void> };
  const timeline: Tick[] = scenario.events.map((event, index) => ({
    at: event.deliveredAt ?? event.at,
    order: index,
    run: async () => {
      const { type, workspace, deliveredAt, ...fields } = event;
      void deliveredAt;
      const detail: Record<string, unknown> = { ...fields, workspace };
      if (detail.invoice === 'latest') detail.invoice = latestInvoiceId(published, workspace) ?? 'latest';
      const envelope: AppEventEnvelope = {
        id: `evt-${index}`,
        version: '0',
        account: '000000000000',
        region: 'local',
        source: 'app',
        time: event.at,
        resources: [],
        'detail-type': type,
        detail,
      };
      try {
        const outcome = await ingest(envelope, lambdaContext('ingest'));
        if (outcome.status === 'rejected') rejections.push({ at: event.at, workspace, type, reason: outcome.reason, message: outcome.message });
      } catch (error) {
        if (!(error instanceof BillingError)) throw error;
        const reason = error instanceof ValidationError ? (error.field === 'detail-type' ? 'unsupported' : 'invalid') : error.code;
        rejections.push({ at: event.at, workspace, type, reason, message: error.message });
      }
      await publish();
    },
  }));
  for (const firing of scheduleFirings(scenario)) {
    timeline.push({
      at: firing,
      order: Number.MAX_SAFE_INTEGER,
      run: async () => {
        await accrual({ scheduledTime: firing }, lambdaContext('accrual'));
        await work();
        await invoicing({ scheduledTime: firing }, lambdaContext('invoicing'));
        await work();
        await publish();
      },
    });
  }
  timeline.sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.order - b.order);
  for (const tick of timeline) {
    if (Date.parse(tick.at) > Date.parse(scenario.until)) continue;
    now = Date.parse(tick.at);
    await tick.run();
  }

  const balances: SimulationResult['balances'] = {};
  for (const workspace of workspaces) {
    const balance = await store.getBalance(workspace.id, workspace.currency);
    balances[workspace.id] = { billingCredit: balance.billingCredit.toString(), aiCredits: balance.aiCredits };
  }
  stream.destroy();
  const invoices = published.filter((event) => event.detailType === 'Invoice Issued').map((event) => event.detail as unknown as Invoice);
  return { invoices, rejections, balances, events: published };
}

/** Where an event sorts within a tick: an invoice by its date and id, any other event before them by its id. */
function orderOf(event: PublishedEvent): string {
  return event.detailType === 'Invoice Issued' ? `1#${String(event.detail.date)}#${event.id}` : `0#${event.id}`;
}

function latestInvoiceId(published: readonly PublishedEvent[], workspace: string): string | undefined {
  const issued = published.filter((event) => event.detailType === 'Invoice Issued' && event.detail.workspace === workspace);
  return issued.length ? String(issued[issued.length - 1].detail.id) : undefined;
}
