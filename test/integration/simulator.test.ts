/**
 * The simulator end to end: a scenario file replayed through the real handlers and store on
 * DynamoDB Local, and invalid scenarios rejected with the offending field named.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLocalDynamo, type LocalDynamo } from '../../simulator/dynamo-local';
import { loadScenarioFile } from '../../simulator/run-scenario';
import { parseScenario } from '../../simulator/scenario';
import { simulate } from '../../simulator/simulate';
import { ValidationError } from '../../shared/domain/errors';

const SCENARIO = join(__dirname, '..', '..', 'scenarios', 'aloware-first-invoice.json');

let dynamo: LocalDynamo | undefined;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
}, 60000);

afterAll(async () => {
  await dynamo?.stop();
}, 30000);

function running(): LocalDynamo {
  if (!dynamo) throw new Error('DynamoDB Local is not running');
  return dynamo;
}

/** The scenario file as raw JSON, to derive invalid variants from. */
function rawScenario(): Record<string, unknown> & { events: Array<Record<string, unknown>> } {
  return JSON.parse(readFileSync(SCENARIO, 'utf8')) as Record<string, unknown> & { events: Array<Record<string, unknown>> };
}

function parseError(input: unknown): ValidationError {
  try {
    parseScenario(input);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('parseScenario accepted an invalid scenario');
}

describe('simulator (DynamoDB Local)', () => {
  test('aloware-first-invoice: the first invoice 60.96 on Dec 23 and the renewal 210.00 on Jan 1', async () => {
    const scenario = await loadScenarioFile(SCENARIO);
    const result = await simulate(scenario, running());

    expect(result.invoices.map((invoice) => ({ kind: invoice.kind, date: invoice.date, amountDue: invoice.amountDue }))).toEqual([
      { kind: 'first', date: '2026-12-23', amountDue: '60.96' },
      { kind: 'renewal', date: '2027-01-01', amountDue: '210.00' },
    ]);
    const [first, renewal] = result.invoices;
    expect(first).toMatchObject({ workspace: 'acme', currency: 'USD', periodStart: '2026-12-23', periodEnd: '2026-12-31', subtotal: '60.96', creditApplied: '0.00' });
    expect(first.lines).toEqual([expect.objectContaining({ kind: 'seats', quantity: 3, unitAmount: '20.32', amount: '60.96' })]);
    expect(renewal).toMatchObject({ workspace: 'acme', periodStart: '2027-01-01', periodEnd: '2027-01-31', subtotal: '210.00', creditApplied: '0.00' });
    expect(renewal.lines).toEqual([expect.objectContaining({ kind: 'seats', quantity: 3, unitAmount: '70.00', amount: '210.00' })]);
    expect(result.rejections).toEqual([]);
    expect(result.balances).toEqual({ acme: { billingCredit: '0.00', aiCredits: 0 } });
  });

  test('the same scenario twice gives the same invoices (fresh table per run)', async () => {
    const scenario = await loadScenarioFile(SCENARIO);
    const [a, b] = [await simulate(scenario, running()), await simulate(scenario, running())];
    expect(b.invoices).toEqual(a.invoices);
  });

  test('with --lenient, an event type the engine does not know is reported as an `unsupported` rejection, and billing goes on', async () => {
    const raw = rawScenario();
    raw.events.push({ at: '2026-12-24T10:00:00Z', type: 'workspace.renamed', workspace: 'acme', name: 'Acme Inc' });
    const result = await simulate(parseScenario(raw, { lenient: true }), running());

    expect(result.rejections).toEqual([expect.objectContaining({ at: '2026-12-24T10:00:00Z', workspace: 'acme', type: 'workspace.renamed', reason: 'unsupported' })]);
    expect(result.invoices.map((invoice) => [invoice.kind, invoice.date, invoice.amountDue])).toEqual([
      ['first', '2026-12-23', '60.96'],
      ['renewal', '2027-01-01', '210.00'],
    ]);
  });

  test('a member.joined event without `member` is rejected naming events.N.member', () => {
    const raw = rawScenario();
    const { member, ...rest } = raw.events[1];
    expect(member).toBe('u2');
    raw.events[1] = rest;
    const error = parseError(raw);
    expect(error.field).toBe('events.1.member');
    expect(error.message).toMatch(/^events\.1\.member: /);
  });

  test('an unsupported currency is rejected naming `currency`', () => {
    const error = parseError({ ...rawScenario(), currency: 'XYZ' });
    expect(error.field).toBe('currency');
    expect(error.message).toContain('currency');
  });

  test('a bad plan price and a bad time zone are rejected naming their paths', () => {
    const raw = rawScenario();
    const plans = raw.plans as Array<Record<string, unknown>>;
    expect(parseError({ ...raw, plans: [{ ...plans[0], seatPrice: 70 }] }).field).toBe('plans.0.seatPrice');
    const workspaces = raw.workspaces as Array<Record<string, unknown>>;
    expect(parseError({ ...raw, workspaces: [{ ...workspaces[0], timezone: 'Mars/Olympus' }] }).field).toBe('workspaces.0.timezone');
  });

  test('loadScenarioFile rejects a file that is not JSON, naming the file', async () => {
    await expect(loadScenarioFile(join(__dirname, 'harness.ts'))).rejects.toThrow(/harness\.ts/);
  });
});
