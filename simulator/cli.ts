import './quiet';
import { BillingError } from '../shared/domain/errors';
import { renderReport } from './report';
import { loadScenarioFile, runScenarios, toOutputDocument } from './run-scenario';

/** `npm run simulate -- FILE [--json]`: replays a scenario and prints a report or the JSON result. */
async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const files = argv.filter((arg) => !arg.startsWith('--'));
  if (files.length !== 1) {
    process.stderr.write('usage: npm run simulate -- path/to/scenario.json [--json]\n');
    return 2;
  }
  const scenario = await loadScenarioFile(files[0]);
  const [result] = await runScenarios([scenario]);
  process.stdout.write(json ? `${JSON.stringify(toOutputDocument(result), null, 2)}\n` : `${renderReport(scenario.name, result)}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof BillingError ? `invalid scenario: ${error.message}` : String(error instanceof Error ? error.stack : error);
    process.stderr.write(`${message}\n`);
    process.exit(1);
  },
);
