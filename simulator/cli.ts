import './quiet';
import { BillingError, ValidationError } from '../shared/domain/errors';
import { renderReport } from './report';
import { loadScenarioFile, runScenarios, toOutputDocument } from './run-scenario';

/** `npm run simulate -- FILE [--json]`: replays a scenario and prints a report or the JSON result. */
async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const files = argv.filter((arg) => !arg.startsWith('--'));
  const unknown = argv.filter((arg) => arg.startsWith('--') && arg !== '--json');
  if (files.length !== 1 || unknown.length > 0) {
    process.stderr.write('usage: npm run simulate -- path/to/scenario.json [--json]\n');
    return 2;
  }
  const scenario = await loadScenarioFile(files[0]);
  const [result] = await runScenarios([scenario]);
  process.stdout.write(json ? `${JSON.stringify(toOutputDocument(result), null, 2)}\n` : `${renderReport(scenario.name, result)}\n`);
  return 0;
}

/**
 * One line for the user, never a stack trace: a bad scenario names its field, anything else
 * (DynamoDB Local failing to start, a bug) says what failed.
 */
export function describeFailure(error: unknown): string {
  if (error instanceof ValidationError || (error instanceof BillingError && error.code === 'invalid-scenario')) return `invalid scenario: ${error.message}`;
  if (error instanceof BillingError) return `simulation failed (${error.code}): ${error.message}`;
  return `simulation failed: ${error instanceof Error ? error.message : String(error)}`;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${describeFailure(error)}\n`);
      process.exit(1);
    },
  );
}
