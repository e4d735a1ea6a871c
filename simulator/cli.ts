import './quiet';
import { describeCommandFailure, runCommand } from './command';
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

/** One line for the user, never a stack trace. */
export function describeFailure(error: unknown): string {
  return describeCommandFailure(error, WORDS);
}

const WORDS = { input: 'scenario', action: 'simulation' };

if (require.main === module) runCommand(main, WORDS);
