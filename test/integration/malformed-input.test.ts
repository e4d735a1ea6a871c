/**
 * Hostile input at every entry point (issue 9 item 6): the scenario parser, configure's parser,
 * the job handlers, the ingest handler, the changes handler and the publisher's input. Each
 * malformed input is refused with a `ValidationError` naming the field, and nothing is
 * written: the handlers run against a seeded DynamoDB Local table that must stay unchanged.
 * The two commands (simulate, configure) run as child processes: non-zero exit, one line on
 * stderr naming the field, no stack trace.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createChangesHandler } from '../../functions/changes/handler';
import { createIngestHandler } from '../../functions/ingest/handler';
import { createInvoicingHandler } from '../../functions/invoicing/handler';
import { createAccrualHandler } from '../../functions/accrual/handler';
import { parsePublisherInput } from '../../shared/contracts/events';
import { createPublisherHandler } from '../../functions/publisher/handler';
import { ValidationError } from '../../shared/domain/errors';
import { withMiddlewares } from '../../shared/runtime/middleware';
import { parseScenario } from '../../simulator/scenario';
import { parseConfig } from '../../scripts/configure';
import { envelope, lambdaContext, seed, setupDynamo, subscribe, type World } from './harness';

const dynamo = setupDynamo();
const ROOT = join(__dirname, '..', '..');

/** The test clock of the handlers: 10 Jan 2027, 09:00 UTC. */
const NOW = Date.parse('2027-01-10T09:00:00Z');
const clock = () => NOW;

type Entry = 'scenario' | 'config' | 'job' | 'ingest' | 'changes' | 'publisher';

interface Case {
  entry: Entry;
  name: string;
  input: unknown;
  /** The field the error must name. */
  field: string;
}

/** A valid scenario to break one field at a time. */
function scenario(): Record<string, unknown> & { plans: Array<Record<string, unknown>>; workspaces: Array<Record<string, unknown>>; events: Array<Record<string, unknown>> } {
  return {
    name: 'malformed',
    currency: 'USD',
    settings: { rounding: { mode: 'half-up', point: 'unit' }, seatDecrease: 'credit', upgradeBilling: 'immediate' },
    plans: [{ id: 'upro-monthly', name: 'uPro', interval: 'month', seatPrice: '70.00', minimumSeats: 1 }],
    addons: [{ id: 'storage-1tb', name: 'Storage 1 TB', price: '20.00', storageGb: 1000 }],
    creditPacks: [{ id: 'ai-1000', name: '1,000 AI credits', price: '10.00', credits: 1000 }],
    workspaces: [{ id: 'acme', name: 'Acme', timezone: 'UTC' }],
    events: [
      { at: '2026-12-23T09:00:00Z', type: 'member.joined', workspace: 'acme', member: 'u1', role: 'owner' },
      { at: '2026-12-23T10:00:00Z', type: 'subscription.started', workspace: 'acme', plan: 'upro-monthly' },
    ],
    until: '2027-01-01T12:00:00Z',
  };
}

function withPlan(fields: Record<string, unknown>) {
  const base = scenario();
  return { ...base, plans: [{ ...base.plans[0], ...fields }] };
}

function withWorkspace(fields: Record<string, unknown>) {
  const base = scenario();
  return { ...base, workspaces: [{ ...base.workspaces[0], ...fields }] };
}

function withEvent(index: number, fields: Record<string, unknown>) {
  const base = scenario();
  base.events[index] = { ...base.events[index], ...fields };
  return base;
}

const LONG_ID = 'a'.repeat(129);

/** JSON.parse makes `__proto__` an own key, as a hostile file would. */
const PROTO_EVENT: unknown = JSON.parse('{"at":"2026-12-23T09:00:00Z","type":"member.joined","workspace":"acme","member":"u1","__proto__":{"x":1}}');

const scenarioCases: Case[] = [
  { entry: 'scenario', name: 'not an object', input: null, field: 'scenario' },
  { entry: 'scenario', name: 'an array', input: [], field: 'scenario' },
  { entry: 'scenario', name: 'a top-level typo', input: { ...scenario(), worskpaces: [] }, field: 'worskpaces' },
  { entry: 'scenario', name: 'no currency', input: { ...scenario(), currency: undefined }, field: 'currency' },
  { entry: 'scenario', name: 'an unsupported currency', input: { ...scenario(), currency: 'XYZ' }, field: 'currency' },
  { entry: 'scenario', name: 'no plans', input: { ...scenario(), plans: [] }, field: 'plans' },
  { entry: 'scenario', name: 'two plans with one id', input: { ...scenario(), plans: [scenario().plans[0], scenario().plans[0]] }, field: 'plans.1.id' },
  { entry: 'scenario', name: 'two add-ons with one id', input: { ...scenario(), addons: [...(scenario().addons as unknown[]), ...(scenario().addons as unknown[])] }, field: 'addons.1.id' },
  {
    entry: 'scenario',
    name: 'two packs with one id',
    input: { ...scenario(), creditPacks: [...(scenario().creditPacks as unknown[]), ...(scenario().creditPacks as unknown[])] },
    field: 'creditPacks.1.id',
  },
  { entry: 'scenario', name: 'two workspaces with one id', input: { ...scenario(), workspaces: [scenario().workspaces[0], { id: 'acme' }] }, field: 'workspaces.1.id' },
  { entry: 'scenario', name: 'a plan field typo', input: withPlan({ seatprice: '70.00' }), field: 'plans.0.seatprice' },
  { entry: 'scenario', name: 'a negative seat price', input: withPlan({ seatPrice: '-70.00' }), field: 'plans.0.seatPrice' },
  { entry: 'scenario', name: 'an exponent seat price', input: withPlan({ seatPrice: '7e1' }), field: 'plans.0.seatPrice' },
  { entry: 'scenario', name: 'a seat price of ten billion', input: withPlan({ seatPrice: '10000000000.00' }), field: 'plans.0.seatPrice' },
  { entry: 'scenario', name: 'a numeric seat price', input: withPlan({ seatPrice: 70 }), field: 'plans.0.seatPrice' },
  { entry: 'scenario', name: 'a minimum of 100001 seats', input: withPlan({ minimumSeats: 100001 }), field: 'plans.0.minimumSeats' },
  { entry: 'scenario', name: 'a negative minimum', input: withPlan({ minimumSeats: -1 }), field: 'plans.0.minimumSeats' },
  { entry: 'scenario', name: 'a weekly interval', input: withPlan({ interval: 'week' }), field: 'plans.0.interval' },
  { entry: 'scenario', name: 'a plan id __proto__', input: withPlan({ id: '__proto__' }), field: 'plans.0.id' },
  { entry: 'scenario', name: 'a plan id with the key separator', input: withPlan({ id: 'pro#1' }), field: 'plans.0.id' },
  { entry: 'scenario', name: 'a plan id of 129 characters', input: withPlan({ id: LONG_ID }), field: 'plans.0.id' },
  { entry: 'scenario', name: 'a settings typo', input: { ...scenario(), settings: { roundng: { mode: 'half-up' } } }, field: 'settings.roundng' },
  { entry: 'scenario', name: 'an unknown rounding mode', input: { ...scenario(), settings: { rounding: { mode: 'up' } } }, field: 'settings.rounding.mode' },
  { entry: 'scenario', name: 'a workspace field typo', input: withWorkspace({ timezon: 'UTC' }), field: 'workspaces.0.timezon' },
  { entry: 'scenario', name: 'an unknown zone', input: withWorkspace({ timezone: 'Mars/Olympus' }), field: 'workspaces.0.timezone' },
  { entry: 'scenario', name: 'billing day 0', input: withWorkspace({ billingDay: 0 }), field: 'workspaces.0.billingDay' },
  { entry: 'scenario', name: 'an event type __proto__', input: withEvent(0, { type: '__proto__' }), field: 'events.0.type' },
  { entry: 'scenario', name: 'an event type constructor', input: withEvent(0, { type: 'constructor' }), field: 'events.0.type' },
  { entry: 'scenario', name: 'an event with a __proto__ key', input: { ...scenario(), events: [PROTO_EVENT] }, field: 'events.0.__proto__' },
  { entry: 'scenario', name: 'an event instant without offset', input: withEvent(0, { at: '2026-12-23T09:00:00' }), field: 'events.0.at' },
  { entry: 'scenario', name: 'an impossible event date', input: withEvent(0, { at: '2026-02-30T09:00:00Z' }), field: 'events.0.at' },
  { entry: 'scenario', name: 'an event workspace with the key separator', input: withEvent(0, { workspace: 'acme#x' }), field: 'events.0.workspace' },
  { entry: 'scenario', name: 'a start with a million seats', input: withEvent(1, { seats: 1_000_000 }), field: 'events.1.seats' },
  { entry: 'scenario', name: 'no until', input: { ...scenario(), until: undefined }, field: 'until' },
  { entry: 'scenario', name: 'an until in year 0', input: { ...scenario(), until: '0000-01-01T00:00:00+01:00' }, field: 'until' },
  { entry: 'scenario', name: 'a negative add-on price', input: { ...scenario(), addons: [{ id: 'x', name: 'X', price: '-1' }] }, field: 'addons.0.price' },
  { entry: 'scenario', name: 'a pack of zero credits', input: { ...scenario(), creditPacks: [{ id: 'x', name: 'X', price: '1.00', credits: 0 }] }, field: 'creditPacks.0.credits' },
  { entry: 'scenario', name: 'a pack of a trillion credits', input: { ...scenario(), creditPacks: [{ id: 'x', name: 'X', price: '1.00', credits: 1e12 }] }, field: 'creditPacks.0.credits' },
  { entry: 'scenario', name: 'a name of 500 characters', input: { ...scenario(), name: 'n'.repeat(500) }, field: 'name' },
];

const configCases: Case[] = [
  { entry: 'config', name: 'an array', input: [], field: 'config' },
  { entry: 'config', name: 'a string', input: 'acme', field: 'config' },
  { entry: 'config', name: 'null', input: null, field: 'config' },
  { entry: 'config', name: 'no currency', input: { plans: scenario().plans, workspaces: scenario().workspaces }, field: 'currency' },
  { entry: 'config', name: 'a top-level typo', input: { currency: 'USD', plans: scenario().plans, workspaces: scenario().workspaces, tables: 'x' }, field: 'tables' },
  { entry: 'config', name: 'two workspaces with one id', input: { currency: 'USD', plans: scenario().plans, workspaces: [{ id: 'acme' }, { id: 'acme' }] }, field: 'workspaces.1.id' },
  { entry: 'config', name: 'a payment method "yes"', input: { currency: 'USD', plans: scenario().plans, workspaces: [{ id: 'acme', paymentMethod: 'yes' }] }, field: 'workspaces.0.paymentMethod' },
  { entry: 'config', name: 'an empty seat price', input: { currency: 'USD', plans: [{ ...scenario().plans[0], seatPrice: '' }], workspaces: [{ id: 'acme' }] }, field: 'plans.0.seatPrice' },
  { entry: 'config', name: 'an unknown contract', input: { currency: 'USD', plans: scenario().plans, workspaces: [{ id: 'acme', contract: 'enterprise' }] }, field: 'workspaces.0.contract' },
];

const jobCases: Case[] = [
  { entry: 'job', name: 'null', input: null, field: 'input' },
  { entry: 'job', name: 'a string', input: 'now', field: 'input' },
  { entry: 'job', name: 'an array', input: [], field: 'input' },
  { entry: 'job', name: 'an empty object', input: {}, field: 'input.asOf' },
  { entry: 'job', name: 'asOf "yesterday"', input: { asOf: 'yesterday' }, field: 'input.asOf' },
  { entry: 'job', name: 'asOf 30 Feb', input: { asOf: '2027-02-30' }, field: 'input.asOf' },
  { entry: 'job', name: 'a dryRun typo', input: { asOf: '2027-01-01', dryrun: true }, field: 'input.dryrun' },
  { entry: 'job', name: 'dryRun as a string', input: { asOf: '2027-01-01', dryRun: 'true' }, field: 'input.dryRun' },
  { entry: 'job', name: 'a workspace with the key separator', input: { asOf: '2027-01-01', workspace: 'acme#2027' }, field: 'input.workspace' },
  { entry: 'job', name: 'a workspace of 129 characters', input: { asOf: '2027-01-01', workspace: LONG_ID }, field: 'input.workspace' },
  { entry: 'job', name: 'a scheduled time without offset', input: { scheduledTime: '2027-01-01T00:05:00' }, field: 'input.scheduledTime' },
  { entry: 'job', name: 'a scheduled time as epoch seconds', input: { scheduledTime: 1798762000 }, field: 'input.scheduledTime' },
  { entry: 'job', name: 'a scheduled time with an asOf', input: { scheduledTime: '2027-01-01T00:05:00Z', asOf: '2027-01-01' }, field: 'input.asOf' },
  { entry: 'job', name: 'a real run three days ahead', input: { asOf: '2027-01-13', workspace: 'acme' }, field: 'input.asOf' },
  { entry: 'job', name: 'a real run in 2099', input: { asOf: '2099-01-01T00:00:00+13:00' }, field: 'input.asOf' },
];

function event(type: string, detail: Record<string, unknown>, overrides: Record<string, unknown> = {}): unknown {
  return { ...envelope(`evt-${type}`, type, '2027-01-05T10:00:00Z', { workspace: 'acme', ...detail }), ...overrides };
}

const ingestCases: Case[] = [
  { entry: 'ingest', name: 'null', input: null, field: 'event' },
  { entry: 'ingest', name: 'no id', input: event('member.joined', { member: 'u9' }, { id: undefined }), field: 'event.id' },
  { entry: 'ingest', name: 'an id with the key separator', input: event('member.joined', { member: 'u9' }, { id: 'evt#1' }), field: 'event.id' },
  { entry: 'ingest', name: 'an id of 129 characters', input: event('member.joined', { member: 'u9' }, { id: LONG_ID }), field: 'event.id' },
  { entry: 'ingest', name: 'an empty detail-type', input: event('member.joined', { member: 'u9' }, { 'detail-type': '' }), field: 'event.detail-type' },
  { entry: 'ingest', name: 'detail-type __proto__', input: event('__proto__', { member: 'u9' }), field: 'detail-type' },
  { entry: 'ingest', name: 'detail-type constructor', input: event('constructor', { member: 'u9' }), field: 'detail-type' },
  { entry: 'ingest', name: 'detail-type toString', input: event('toString', {}), field: 'detail-type' },
  { entry: 'ingest', name: 'an unknown detail-type', input: event('member.teleported', { member: 'u9' }), field: 'detail-type' },
  { entry: 'ingest', name: 'a time "yesterday"', input: event('member.joined', { member: 'u9' }, { time: 'yesterday' }), field: 'event.time' },
  { entry: 'ingest', name: 'a time without offset', input: event('member.joined', { member: 'u9' }, { time: '2027-01-05T10:00:00' }), field: 'event.time' },
  { entry: 'ingest', name: 'a detail that is an array', input: event('member.joined', {}, { detail: [] }), field: 'event.detail' },
  { entry: 'ingest', name: 'no workspace', input: event('member.joined', { member: 'u9', workspace: undefined }), field: 'detail.workspace' },
  { entry: 'ingest', name: 'a workspace with the key separator', input: event('member.joined', { member: 'u9', workspace: 'acme#x' }), field: 'detail.workspace' },
  { entry: 'ingest', name: 'a workspace __proto__', input: event('member.joined', { member: 'u9', workspace: '__proto__' }), field: 'detail.workspace' },
  { entry: 'ingest', name: 'a workspace of 200 characters', input: event('member.joined', { member: 'u9', workspace: 'w'.repeat(200) }), field: 'detail.workspace' },
  { entry: 'ingest', name: 'a numeric member', input: event('member.joined', { member: 9 }), field: 'detail.member' },
  { entry: 'ingest', name: 'an empty member', input: event('member.joined', { member: '' }), field: 'detail.member' },
  { entry: 'ingest', name: 'an impossible month', input: event('member.joined', { member: 'u9', at: '2027-13-01T00:00:00Z' }), field: 'detail.at' },
  { entry: 'ingest', name: 'year 0', input: event('member.joined', { member: 'u9', at: '0000-01-01T00:00:00+01:00' }), field: 'detail.at' },
  { entry: 'ingest', name: 'zero seats bought', input: event('seats.purchased', { seats: 0, requestedBy: 'u1' }), field: 'detail.seats' },
  { entry: 'ingest', name: '100001 seats bought', input: event('seats.purchased', { seats: 100001, requestedBy: 'u1' }), field: 'detail.seats' },
  { entry: 'ingest', name: '1.5 seats bought', input: event('seats.purchased', { seats: 1.5, requestedBy: 'u1' }), field: 'detail.seats' },
  { entry: 'ingest', name: 'seats as a string', input: event('seats.purchased', { seats: '5', requestedBy: 'u1' }), field: 'detail.seats' },
  { entry: 'ingest', name: 'negative credits consumed', input: event('ai_credits.consumed', { credits: -1 }), field: 'detail.credits' },
  { entry: 'ingest', name: 'a trillion credits consumed', input: event('ai_credits.consumed', { credits: 1e12 }), field: 'detail.credits' },
  { entry: 'ingest', name: 'negative storage', input: event('storage.usage_reported', { usedGb: -1 }), field: 'detail.usedGb' },
  { entry: 'ingest', name: 'ten billion GB', input: event('storage.usage_reported', { usedGb: 1e10 }), field: 'detail.usedGb' },
  { entry: 'ingest', name: 'NaN GB', input: event('storage.usage_reported', { usedGb: Number.NaN }), field: 'detail.usedGb' },
  { entry: 'ingest', name: 'a payment method "yes"', input: event('payment_method.updated', { present: 'yes' }), field: 'detail.present' },
  { entry: 'ingest', name: 'billing day 32', input: event('subscription.started', { plan: 'upro-monthly', billingDay: 32 }), field: 'detail.billingDay' },
  { entry: 'ingest', name: 'a start without a plan', input: event('subscription.started', {}), field: 'detail.plan' },
  { entry: 'ingest', name: 'an invoice id with a space', input: event('invoice.paid', { invoice: 'inv 1' }), field: 'detail.invoice' },
  { entry: 'ingest', name: 'an add-on change without addon', input: event('storage_addon.changed', { requestedBy: 'u1' }), field: 'detail.addon' },
  { entry: 'ingest', name: 'a plan change without requestedBy', input: event('plan.change_requested', { plan: 'upro-monthly' }), field: 'detail.requestedBy' },
  { entry: 'ingest', name: 'atPeriodEnd "no"', input: event('subscription.canceled', { atPeriodEnd: 'no' }), field: 'detail.atPeriodEnd' },
  { entry: 'ingest', name: 'a role change without role', input: event('member.role_changed', { member: 'u1' }), field: 'detail.role' },
];

const change = { workspace: 'acme', change: { type: 'plan.change_requested', plan: 'upro-monthly' }, requestedBy: 'u1', asOf: '2027-01-10T09:00:00Z' };

const changeCases: Case[] = [
  { entry: 'changes', name: 'null', input: null, field: 'input' },
  { entry: 'changes', name: 'an empty object', input: {}, field: 'input.workspace' },
  { entry: 'changes', name: 'no change', input: { ...change, change: undefined }, field: 'input.change' },
  { entry: 'changes', name: 'an unknown change type', input: { ...change, change: { type: 'plan.cancel', plan: 'x' } }, field: 'input.change.type' },
  { entry: 'changes', name: 'a change type __proto__', input: { ...change, change: { type: '__proto__' } }, field: 'input.change.type' },
  { entry: 'changes', name: 'zero seats', input: { ...change, change: { type: 'seats.purchased', seats: 0 } }, field: 'input.change.seats' },
  { entry: 'changes', name: 'a million seats', input: { ...change, change: { type: 'seats.purchased', seats: 1_000_000 } }, field: 'input.change.seats' },
  { entry: 'changes', name: 'an extra key in the change', input: { ...change, change: { type: 'plan.change_requested', plan: 'upro-monthly', seats: 2 } }, field: 'input.change.seats' },
  { entry: 'changes', name: 'a preview typo', input: { ...change, preveiw: true }, field: 'input.preveiw' },
  { entry: 'changes', name: 'an empty requestedBy', input: { ...change, requestedBy: '' }, field: 'input.requestedBy' },
  { entry: 'changes', name: 'an asOf without offset', input: { ...change, asOf: '2027-01-10T09:00:00' }, field: 'input.asOf' },
  { entry: 'changes', name: 'an asOf that is a date', input: { ...change, asOf: '2027-01-10' }, field: 'input.asOf' },
  { entry: 'changes', name: 'applying two days back', input: { ...change, asOf: '2027-01-08T09:00:00Z', preview: false }, field: 'input.asOf' },
  { entry: 'changes', name: 'applying ten minutes ahead', input: { ...change, asOf: '2027-01-10T18:10:00+09:00', preview: false }, field: 'input.asOf' },
  { entry: 'changes', name: 'preview as a string', input: { ...change, preview: 'false' }, field: 'input.preview' },
  { entry: 'changes', name: 'a workspace with a slash', input: { ...change, workspace: 'acme/x' }, field: 'input.workspace' },
];

const publisherCases: Case[] = [
  { entry: 'publisher', name: 'null', input: null, field: 'input' },
  { entry: 'publisher', name: 'an empty object', input: {}, field: 'input.Records' },
  { entry: 'publisher', name: 'sweep false', input: { sweep: false }, field: 'input.sweep' },
  { entry: 'publisher', name: 'a sweep with an extra key', input: { sweep: true, dryRun: true }, field: 'input.dryRun' },
  { entry: 'publisher', name: 'Records as a string', input: { Records: 'x' }, field: 'input.Records' },
  { entry: 'publisher', name: 'a numeric eventName', input: { Records: [{ eventName: 5 }] }, field: 'input.Records.0.eventName' },
  { entry: 'publisher', name: 'a NewImage that is a string', input: { Records: [{ eventName: 'INSERT', dynamodb: { NewImage: 'x' } }] }, field: 'input.Records.0.dynamodb.NewImage' },
];

const cases: Case[] = [...scenarioCases, ...configCases, ...jobCases, ...ingestCases, ...changeCases, ...publisherCases];

let world: World | undefined;
let before: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  world = await dynamo.world();
  await seed(world.store);
  await subscribe(world.deps, 'acme', '2027-01-01T08:00:00Z', '2027-01-01T09:00:00Z');
  before = await world.scan();
}, 60000);

/** Runs one case at its entry point and returns what it threw. */
async function attempt(entry: Entry, input: unknown): Promise<unknown> {
  if (!world) throw new Error('no world');
  const deps = world.deps;
  const run = async (): Promise<unknown> => {
    switch (entry) {
      case 'scenario':
        return parseScenario(input);
      case 'config':
        return parseConfig(input);
      case 'job': {
        // Both jobs share the parser and the guard: the accrual handler must refuse the same way.
        const accrual = await withMiddlewares(createAccrualHandler(() => deps, clock))(input, lambdaContext('accrual')).then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(accrual).toBeInstanceOf(ValidationError);
        return withMiddlewares(createInvoicingHandler(() => deps, clock))(input, lambdaContext('invoicing'));
      }
      case 'ingest':
        return withMiddlewares(createIngestHandler(() => deps))(input as never, lambdaContext('ingest'));
      case 'changes':
        return withMiddlewares(createChangesHandler(() => deps, clock))(input, lambdaContext('changes'));
      case 'publisher':
        return withMiddlewares(createPublisherHandler(() => deps))(input, lambdaContext('publisher'));
    }
  };
  try {
    await run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('malformed input is refused at every entry point, naming the field, writing nothing', () => {
  test('the table holds at least 80 cases across the six entry points', () => {
    expect(cases.length).toBeGreaterThanOrEqual(80);
    expect(new Set(cases.map((c) => c.entry))).toEqual(new Set<Entry>(['scenario', 'config', 'job', 'ingest', 'changes', 'publisher']));
  });

  test.each(cases.map((c) => [c.entry, c.name, c] as const))('%s: %s', async (_entry, _name, c) => {
    const error = await attempt(c.entry, c.input);
    expect(error).toBeInstanceOf(ValidationError);
    const failure = error as ValidationError;
    if (process.env.SHOW_MESSAGES) process.stdout.write(`${failure.message}\n`);
    expect(failure.field).toBe(c.field);
    expect(failure.message.startsWith(`${c.field}: `)).toBe(true);
    // Clear and short: a reason after the field, hostile input never echoed at length.
    expect(failure.message.length - c.field.length).toBeGreaterThan(4);
    expect(failure.message.length).toBeLessThan(300);
    if (!world) throw new Error('no world');
    expect(await world.scan()).toEqual(before);
    expect(world.published).toHaveLength(0);
  });

  test('the same inputs, well formed, are accepted (the cases fail for the reason named)', async () => {
    expect(parseScenario(scenario()).events[0].at).toBe('2026-12-23T09:00:00Z');
    expect(parseConfig({ currency: 'USD', plans: scenario().plans, workspaces: [{ id: 'acme', paymentMethod: false }] }).workspaces[0].paymentMethod).toBe(false);
    expect(parsePublisherInput({ sweep: true })).toEqual({ sweep: true });
    // A dry run may look years ahead, a preview may pick any instant; neither writes.
    if (!world) throw new Error('no world');
    const deps = world.deps;
    const report = await withMiddlewares(createInvoicingHandler(() => deps, clock))({ asOf: '2028-01-01', workspace: 'acme', dryRun: true }, lambdaContext('invoicing'));
    expect(report.dryRun).toBe(true);
    const preview = await withMiddlewares(createChangesHandler(() => deps, clock))({ ...change, asOf: '2026-06-01T09:00:00+02:00' }, lambdaContext('changes'));
    expect(preview.status).not.toBe('applied');
    expect(await world.scan()).toEqual(before);
  });
});

/** Runs a command of the project (`tsx <script> ...args`) and returns its exit code and output. */
function runCommand(script: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, script), ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 60000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** Writes `content` (JSON unless a string) to a fresh temporary file. */
function tempFile(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'prorata-malformed-')), 'input.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('the commands print one line naming the field, exit non-zero and never a stack trace', () => {
  const commands: Array<{ name: string; script: string; content: unknown; expected: RegExp }> = [
    { name: 'simulate: an event type __proto__', script: 'simulator/cli.ts', content: withEvent(0, { type: '__proto__' }), expected: /^invalid scenario: events\.0\.type: / },
    {
      name: 'simulate: two workspaces with one id',
      script: 'simulator/cli.ts',
      content: { ...scenario(), workspaces: [{ id: 'acme' }, { id: 'acme' }] },
      expected: /^invalid scenario: workspaces\.1\.id: duplicate id acme/,
    },
    { name: 'simulate: a file that is not JSON', script: 'simulator/cli.ts', content: '{ "currency": ', expected: /^invalid scenario: .*input\.json: / },
    { name: 'configure: an array', script: 'scripts/configure.ts', content: [], expected: /^invalid config: config: must be a JSON object/ },
    {
      name: 'configure: a negative seat price',
      script: 'scripts/configure.ts',
      content: { currency: 'USD', plans: [{ ...scenario().plans[0], seatPrice: '-1' }], workspaces: [{ id: 'acme' }] },
      expected: /^invalid config: plans\.0\.seatPrice: /,
    },
    {
      name: 'configure: a top-level typo',
      script: 'scripts/configure.ts',
      content: { currency: 'USD', plans: scenario().plans, workspaces: [{ id: 'acme' }], worksapces: [] },
      expected: /^invalid config: worksapces: /,
    },
  ];

  test.each(commands.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    if (!world) throw new Error('no world');
    const file = tempFile(c.content);
    const args = c.script === 'scripts/configure.ts' ? [file, '--table', world.tableName] : [file];
    const env = { DYNAMODB_ENDPOINT: world.endpoint, AWS_REGION: 'local', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' };
    const result = await runCommand(c.script, args, env);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(c.expected);
    expect(result.stderr).not.toMatch(/^ {4}at /m);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toBe('');
    expect(await world.scan()).toEqual(before);
  });

  test('a missing file and bad arguments: non-zero, no stack trace', async () => {
    const missing = await runCommand('simulator/cli.ts', [join(tmpdir(), 'no-such-scenario.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^invalid scenario: .*no-such-scenario\.json: ENOENT/);
    const usage = await runCommand('scripts/configure.ts', ['--table']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^option --table needs a value\. usage: npm run configure/);
    for (const result of [missing, usage]) expect(result.stderr).not.toMatch(/^ {4}at /m);
  });
});
