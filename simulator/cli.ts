import './quiet';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describeCommandFailure, parseCommandLine, runCommand } from './command';
import { renderInvoicesCsv } from './documents/csv';
import { writeScenarioDocuments } from './documents/write';
import { renderReport } from './report';
import { loadScenarioFile, runScenarios, toOutputDocument } from './run-scenario';

const USAGE = 'usage: npm run simulate -- FILE [--json] [--html DIR] [--csv FILE] [--lenient]';

const OPTIONS = {
  json: { type: 'boolean' },
  html: { type: 'string' },
  csv: { type: 'string' },
  lenient: { type: 'boolean' },
} as const;

/**
 * `npm run simulate -- FILE [--json] [--html DIR] [--csv FILE] [--lenient]`: replays a scenario
 * and prints a report or the JSON result; `--html` also writes one invoice page per workspace,
 * `--csv` the accounting export. Flags are parsed
 * strictly (an unknown one is a usage error, exit 2).
 */
async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, OPTIONS, USAGE, { min: 1, max: 1 });
  const scenario = await loadScenarioFile(positionals[0], { lenient: values.lenient === true });
  const [result] = await runScenarios([scenario]);
  const document = toOutputDocument(result);
  if (typeof values.csv === 'string') {
    await mkdir(dirname(values.csv), { recursive: true });
    await writeFile(values.csv, renderInvoicesCsv(result.invoices));
    // stderr, so that stdout stays the report or the JSON document alone.
    process.stderr.write(`wrote ${result.invoices.reduce((sum, invoice) => sum + invoice.lines.length, 0)} invoice lines to ${values.csv}\n`);
  }
  if (typeof values.html === 'string') {
    for (const path of await writeScenarioDocuments(values.html, scenario, result)) process.stderr.write(`wrote ${path}\n`);
  }
  process.stdout.write(values.json ? `${JSON.stringify(document, null, 2)}\n` : `${renderReport(scenario.name, result)}\n`);
  return 0;
}

/** One line for the user, never a stack trace. */
export function describeFailure(error: unknown): string {
  return describeCommandFailure(error, WORDS);
}

const WORDS = { input: 'scenario', action: 'simulation' };

if (require.main === module) runCommand(main, WORDS);
