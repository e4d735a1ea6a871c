import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startLocalDynamo, type LocalDynamo } from '../../simulator/dynamo-local';
import { summarise } from '../../simulator/expectations';
import { loadScenarioFile } from '../../simulator/run-scenario';
import Decimal from 'decimal.js';
import { CSV_COLUMNS, parseCsv, renderInvoicesCsv } from '../../simulator/documents/csv';
import { simulate } from '../../simulator/simulate';

const dir = join(__dirname, '..', '..', 'scenarios');
const files = readdirSync(dir)
  .filter((file) => file.endsWith('.json'))
  .sort();

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startLocalDynamo();
}, 60000);
afterAll(async () => {
  await dynamo?.stop();
});

/**
 * Every bundled example replays through the real handlers to the amounts in its `expected`
 * block, which were worked out by hand from the rules (see each scenario's description).
 */
describe('bundled scenarios replay to their hand-checked amounts', () => {
  test.each(files)('%s', async (file) => {
    const scenario = await loadScenarioFile(join(dir, file));
    expect(scenario.expected).toBeDefined();
    const result = await simulate(scenario, dynamo);
    expect(summarise(result)).toEqual(scenario.expected);
    expectCsvToMatch(result.invoices);
  });
});

/**
 * The accounting export read back as a spreadsheet would: one row per line, and the exact
 * decimal amounts of each invoice's rows sum to its subtotal.
 */
function expectCsvToMatch(invoices: Awaited<ReturnType<typeof simulate>>['invoices']): void {
  const [header, ...rows] = parseCsv(renderInvoicesCsv(invoices));
  expect(header).toEqual([...CSV_COLUMNS]);
  const column = (name: (typeof CSV_COLUMNS)[number]) => CSV_COLUMNS.indexOf(name);
  expect(rows).toHaveLength(invoices.reduce((sum, invoice) => sum + invoice.lines.length, 0));
  for (const invoice of invoices) {
    const own = rows.filter((row) => row[column('invoice_id')] === invoice.id);
    expect(own).toHaveLength(invoice.lines.length);
    const sum = own.reduce((total, row) => total.plus(new Decimal(row[column('amount')])), new Decimal(0));
    expect(sum.equals(new Decimal(invoice.subtotal))).toBe(true);
    expect(own.map((row) => row[column('amount')])).toEqual(invoice.lines.map((line) => line.amount));
    for (const row of own) expect(row[column('currency')]).toBe(invoice.currency);
  }
}
