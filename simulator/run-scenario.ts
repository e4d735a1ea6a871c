import { readFile } from 'node:fs/promises';
import { BillingError } from '../shared/domain/errors';
import { startLocalDynamo } from './dynamo-local';
import { parseScenario, type ParseScenarioOptions, type Scenario } from './scenario';
import { simulate, type SimulationResult } from './simulate';
import type { Invoice } from '../shared/domain/invoice';

/** Reads and validates a scenario file; a bad file throws a `BillingError` naming the field. */
export async function loadScenarioFile(path: string, options: ParseScenarioOptions = {}): Promise<Scenario> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new BillingError('invalid-scenario', `${path}: ${(error as Error).message}`);
  }
  return parseScenario(raw, options);
}

/** Runs scenarios against a fresh in-memory DynamoDB Local, stopping it whatever happens. */
export async function runScenarios(scenarios: readonly Scenario[]): Promise<SimulationResult[]> {
  const dynamo = await startLocalDynamo();
  try {
    const results: SimulationResult[] = [];
    for (const scenario of scenarios) results.push(await simulate(scenario, dynamo));
    return results;
  } finally {
    await dynamo.stop();
  }
}

/** The result as the scenario format's JSON document (engine notifications under `events`). */
export function toOutputDocument(result: SimulationResult): Record<string, unknown> {
  return {
    invoices: result.invoices.map(orderInvoiceFields),
    rejections: result.rejections,
    balances: result.balances,
    events: result.events.filter((event) => event.detailType !== 'Invoice Issued'),
  };
}

const INVOICE_FIELDS = ['id', 'number', 'workspace', 'subscription', 'kind', 'date', 'currency', 'periodStart', 'periodEnd', 'lines', 'subtotal', 'creditApplied', 'amountDue'] as const;
const LINE_FIELDS = ['kind', 'description', 'quantity', 'unitAmount', 'amount', 'periodStart', 'periodEnd'] as const;

function pick(record: object, fields: readonly string[]): Record<string, unknown> {
  const source = record as Record<string, unknown>;
  return Object.fromEntries(fields.filter((field) => field in source).map((field) => [field, source[field]]));
}

/** The invoice with its fields in the documented order (DynamoDB maps come back unordered). */
export function orderInvoiceFields(invoice: Invoice): Invoice {
  const ordered = pick(invoice, INVOICE_FIELDS) as unknown as Invoice;
  return { ...ordered, lines: invoice.lines.map((line) => pick(line, LINE_FIELDS) as unknown as Invoice['lines'][number]) };
}
