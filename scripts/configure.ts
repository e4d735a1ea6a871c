import '../simulator/quiet';
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { describeCommandFailure, parseCommandLine, runCommand } from '../simulator/command';
import { BillingError, UsageError, ValidationError } from '../shared/domain/errors';
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

const OPTIONS = { table: { type: 'string' } } as const;

/** The DynamoDB client's settings from the environment: `DYNAMODB_ENDPOINT` (DynamoDB Local) or the AWS region and credentials. */
export function clientConfigFromEnv(env: NodeJS.ProcessEnv): DynamoDBClientConfig {
  if (!env.DYNAMODB_ENDPOINT) return {};
  // DynamoDB Local takes any region and any key; a real endpoint keeps the caller's own.
  const hasCredentials = Boolean(env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE);
  return {
    endpoint: env.DYNAMODB_ENDPOINT,
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'local',
    ...(hasCredentials ? {} : { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
  };
}

const LOCAL_HINT = 'or DYNAMODB_ENDPOINT=http://localhost:8000 for DynamoDB Local';
const NETWORK_CODES = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH'];

/**
 * Says what to set when the AWS SDK cannot start or reach DynamoDB (no region, no credentials,
 * offline, no such table) instead of its bare message; anything else is returned unchanged.
 */
export function explainConnectionFailure(error: unknown, env: NodeJS.ProcessEnv, table: string): unknown {
  if (!(error instanceof Error)) return error;
  const code = (error as { code?: string }).code ?? '';
  const where = env.DYNAMODB_ENDPOINT ?? `region ${env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? '(none)'}`;
  if (/region is missing/i.test(error.message)) {
    return new BillingError('no-region', `no AWS region: set AWS_REGION to the stack's region (and credentials: AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), ${LOCAL_HINT}`);
  }
  if (error.name === 'CredentialsProviderError' || /could not load credentials/i.test(error.message)) {
    return new BillingError('no-credentials', `no AWS credentials for ${where}: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ${LOCAL_HINT}`);
  }
  const network = NETWORK_CODES.find((name) => code === name || error.message.includes(name));
  if (network) {
    return new BillingError(
      'unreachable',
      `cannot reach DynamoDB at ${where} (${network}): offline, or nothing listening there; set DYNAMODB_ENDPOINT to a running DynamoDB Local (e.g. http://localhost:8000) or AWS_REGION to the stack's region`,
    );
  }
  if (error.name === 'ResourceNotFoundException') {
    return new BillingError('no-table', `table ${table} not found at ${where}: pass --table with the stack's TableName output, and AWS_REGION for its region`);
  }
  return error;
}

/** `npm run configure -- FILE --table TABLE`: loads a catalog and workspaces into a deployed table. */
async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, OPTIONS, USAGE, { min: 1, max: 1 });
  const table = values.table ?? process.env.TABLE_NAME;
  if (!table) throw new UsageError(`no table: pass --table or set TABLE_NAME. ${USAGE}`);
  const file = positionals[0];
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new ValidationError(file, error instanceof Error ? error.message : String(error));
  }
  const config = parseConfig(raw);
  const store = new BillingStore(createDocumentClient(clientConfigFromEnv(process.env)), { tableName: table });
  try {
    await configure(store, config);
  } catch (error) {
    throw explainConnectionFailure(error, process.env, table);
  }
  process.stdout.write(`configured ${config.plans.length} plans, ${config.addons.length} add-ons, ${config.creditPacks.length} credit packs and ${config.workspaces.length} workspaces in ${table}\n`);
  return 0;
}

/** One line for the user, never a stack trace. */
export function describeFailure(error: unknown): string {
  return describeCommandFailure(error, WORDS);
}

const WORDS = { input: 'config', action: 'configure' };

if (require.main === module) runCommand(main, WORDS);
