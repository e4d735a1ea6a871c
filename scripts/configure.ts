import '../simulator/quiet';
import { describeCommandFailure, runCommand } from '../simulator/command';
import { ValidationError } from '../shared/domain/errors';
import { readFile } from 'node:fs/promises';
import { BillingStore, createDocumentClient } from '../shared/store/dynamo-store';
import { catalogOf, parseScenario, workspacesOf, type Scenario } from '../simulator/scenario';

const USAGE = 'usage: npm run configure -- config.json --table <TableName output of the stack>';

/**
 * Validates a configuration document: the scenario format's `currency`, `settings`, `plans`,
 * `addons`, `creditPacks` and `workspaces` (events and `until` are optional), with the
 * scenario parser's rules (unknown keys, duplicate ids, bounded amounts). Throws
 * `ValidationError` naming the field.
 */
export function parseConfig(raw: unknown): Scenario {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ValidationError('config', 'must be a JSON object');
  return parseScenario({ events: [], until: '2000-01-01T00:00:00Z', ...raw });
}

/**
 * Loads the catalog and the workspaces into the table. A workspace that exists keeps what the
 * engine owns (failed invoices, storage in use, the payment method once set): configure only
 * writes the fields it owns (see `BillingStore.putWorkspace`), so re-running it is safe.
 */
export async function configure(store: BillingStore, config: Scenario): Promise<void> {
  await store.putCatalog(catalogOf(config));
  for (const workspace of workspacesOf(config)) await store.putWorkspace(workspace);
}

/** `npm run configure -- FILE --table TABLE`: loads a catalog and workspaces into a deployed table. */
async function main(argv: string[]): Promise<number> {
  const tableIndex = argv.indexOf('--table');
  const table = tableIndex >= 0 ? argv[tableIndex + 1] : process.env.TABLE_NAME;
  const files = argv.filter((arg, index) => !arg.startsWith('--') && index !== tableIndex + 1);
  const unknown = argv.filter((arg) => arg.startsWith('--') && arg !== '--table');
  if (files.length !== 1 || !table || table.startsWith('--') || unknown.length > 0) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const file = files[0];
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new ValidationError(file, error instanceof Error ? error.message : String(error));
  }
  const config = parseConfig(raw);
  const store = new BillingStore(createDocumentClient(process.env.DYNAMODB_ENDPOINT ? { endpoint: process.env.DYNAMODB_ENDPOINT } : {}), { tableName: table });
  await configure(store, config);
  process.stdout.write(`configured ${config.plans.length} plans, ${config.addons.length} add-ons, ${config.creditPacks.length} credit packs and ${config.workspaces.length} workspaces in ${table}\n`);
  return 0;
}

/** One line for the user, never a stack trace. */
export function describeFailure(error: unknown): string {
  return describeCommandFailure(error, WORDS);
}

const WORDS = { input: 'config', action: 'configure' };

if (require.main === module) runCommand(main, WORDS);
