import '../simulator/quiet';
import { randomUUID } from 'node:crypto';
import { createIngestHandler } from '../functions/ingest/handler';
import { ProrataClient, ProrataInputError, type ChangeResult } from '../shared/client/prorata-client';
import { DEFAULT_SETTINGS, type Catalog } from '../shared/domain/catalog';
import { withMiddlewares } from '../shared/runtime/middleware';
import { BillingStore, createDocumentClient } from '../shared/store/dynamo-store';
import { startLocalDynamo } from '../simulator/dynamo-local';
import { createLocalLambda, LOCAL_FUNCTION_NAMES } from '../simulator/local-lambda';
import { lambdaContext } from '../simulator/simulate';

/**
 * `npm run example:client`: what a customer's backend does with the typed client (README,
 * "Typed client"), run against DynamoDB Local instead of AWS. `useClient` is the customer's
 * code; `main` stands in for the deployed stack: a table on DynamoDB Local, a catalog, one
 * workspace whose app has sent its members and subscription, and the real handlers behind a
 * local Lambda `Invoke`. Deployed, only the client's construction differs:
 *
 *   new ProrataClient({ functions: { changes, invoicing, accrual } }) // the stack outputs' names
 */
async function useClient(client: ProrataClient, workspace: string, now: Date): Promise<void> {
  const asOf = now.toISOString();
  const upgrade = { workspace, change: { type: 'plan.change_requested' as const, plan: 'ubiz-monthly' }, requestedBy: 'owner-1', asOf };

  // 1. A refused change is a typed result, with the reason to show the user.
  const refused = await client.previewChange({ ...upgrade, requestedBy: 'member-2' });
  if (refused.status === 'rejected') process.stdout.write(`rejected (${refused.reason}): ${refused.message}\n\n`);

  // 2. Show the owner what the upgrade costs, then apply exactly that (R19).
  const preview = await client.previewChange(upgrade);
  print('preview of the upgrade to uBiz', preview);
  const applied = await client.applyChange(upgrade);
  print('applied', applied);
  const same = JSON.stringify({ ...applied, status: 'preview' }) === JSON.stringify(preview);
  process.stdout.write(`  the applied change is the preview: ${same}\n\n`);

  // 3. A bad request never leaves the process: the client validates it with the function's schema.
  try {
    await client.previewChange({ ...upgrade, change: { type: 'seats.purchased', seats: 0 } });
  } catch (error) {
    if (error instanceof ProrataInputError) process.stdout.write(`refused before sending: ${error.message}\n\n`);
    else throw error;
  }

  // 4. What the next renewal will bill, without billing it (a dry run may look ahead).
  const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString().slice(0, 10);
  const report = await client.runJob('invoicing', { asOf: next, workspace, dryRun: true });
  if ('summary' in report) {
    for (const invoice of report.workspaces.flatMap((entry) => entry.invoices)) {
      process.stdout.write(`dry run of invoicing as of ${next}: ${invoice.kind} invoice of ${invoice.amountDue} ${invoice.currency}\n`);
      for (const line of invoice.lines) process.stdout.write(`  ${line.description}: ${line.amount}\n`);
    }
  }
}

function print(title: string, result: ChangeResult): void {
  process.stdout.write(`${title}: ${result.status}\n`);
  if (result.status === 'rejected') return void process.stdout.write(`  ${result.reason}: ${result.message}\n`);
  for (const line of result.invoice?.lines ?? []) process.stdout.write(`  ${line.description}: ${line.amount}\n`);
  if (result.invoice) process.stdout.write(`  amount due now: ${result.invoice.amountDue} ${result.invoice.currency}\n`);
  process.stdout.write(`  billing credit left: ${result.balance.billingCredit}\n`);
}

const CATALOG: Catalog = {
  plans: [
    { id: 'upro-monthly', name: 'uPro', interval: 'month', seatPrice: '70.00', seatMode: 'flexible', minimumSeats: 1, maximumSeats: null, storageGb: 100, aiCreditsPerPeriod: 0 },
    { id: 'ubiz-monthly', name: 'uBiz', interval: 'month', seatPrice: '100.00', seatMode: 'flexible', minimumSeats: 1, maximumSeats: null, storageGb: 100, aiCreditsPerPeriod: 0 },
  ],
  addons: [],
  creditPacks: [],
};

async function main(): Promise<void> {
  const dynamo = await startLocalDynamo();
  try {
    const tableName = `prorata-example-${randomUUID()}`;
    await dynamo.createTable(tableName);
    const store = new BillingStore(createDocumentClient(dynamo.config), { tableName });
    const deps = { store, publisher: { publish: async () => undefined } };
    await store.putCatalog(CATALOG);
    const workspace = 'acme';
    await store.putWorkspace({ id: workspace, name: 'Acme', timezone: 'UTC', currency: 'USD', billingDay: 1, contract: 'standard', paymentMethod: true, settings: DEFAULT_SETTINGS });

    // What the app sent on the bus yesterday: three members, then the subscription.
    const yesterday = new Date(Date.now() - 24 * 3600 * 1000).toISOString();
    const ingest = withMiddlewares(createIngestHandler(() => deps));
    const events: Array<[string, Record<string, unknown>]> = [
      ['member.joined', { workspace, member: 'owner-1', role: 'owner' }],
      ['member.joined', { workspace, member: 'member-2', role: 'member' }],
      ['member.joined', { workspace, member: 'member-3', role: 'member' }],
      ['subscription.started', { workspace, plan: 'upro-monthly' }],
    ];
    for (const [index, [type, detail]] of events.entries()) {
      await ingest({ id: `app-${index}`, version: '0', account: '000000000000', region: 'local', source: 'app', time: yesterday, resources: [], 'detail-type': type, detail }, lambdaContext('ingest'));
    }

    const client = new ProrataClient({ functions: LOCAL_FUNCTION_NAMES, invoke: createLocalLambda({ deps }) });
    await useClient(client, workspace, new Date());
  } finally {
    await dynamo.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`example failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
