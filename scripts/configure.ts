import '../simulator/quiet';
import { readFile } from 'node:fs/promises';
import { BillingError } from '../shared/domain/errors';
import { BillingStore, createDocumentClient } from '../shared/store/dynamo-store';
import { catalogOf, parseScenario, workspacesOf } from '../simulator/scenario';

/**
 * `npm run configure -- FILE --table TABLE`: loads a catalog and workspaces into a deployed
 * table. FILE has the scenario format's `currency`, `settings`, `plans`, `addons`,
 * `creditPacks` and `workspaces` (events and `until` are not needed). Re-running replaces them.
 */
async function main(argv: string[]): Promise<void> {
  const tableIndex = argv.indexOf('--table');
  const table = tableIndex >= 0 ? argv[tableIndex + 1] : process.env.TABLE_NAME;
  const file = argv.find((arg, index) => !arg.startsWith('--') && index !== tableIndex + 1);
  if (!file || !table) throw new BillingError('usage', 'npm run configure -- config.json --table <TableName output of the stack>');
  const raw = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  const config = parseScenario({ events: [], until: '2000-01-01T00:00:00Z', ...raw });
  const store = new BillingStore(createDocumentClient(process.env.DYNAMODB_ENDPOINT ? { endpoint: process.env.DYNAMODB_ENDPOINT } : {}), { tableName: table });
  await store.putCatalog(catalogOf(config));
  for (const workspace of workspacesOf(config)) await store.putWorkspace(workspace);
  process.stdout.write(`configured ${config.plans.length} plans, ${config.addons.length} add-ons, ${config.creditPacks.length} credit packs and ${config.workspaces.length} workspaces in ${table}\n`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
