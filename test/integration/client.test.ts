/**
 * The typed client against DynamoDB Local, through the local Invoke (`createLocalLambda`),
 * which runs the deployed handlers: what a customer's backend sees, without AWS.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plan } from '../../shared/domain/catalog';
import { ProrataClient, ProrataInputError, ProrataTransportError } from '../../shared/client/prorata-client';
import { createLocalLambda, LOCAL_FUNCTION_NAMES } from '../../simulator/local-lambda';
import { validateJsonSchema } from '../json-schema-check';
import { makeCatalog, seed, setupDynamo, storedInvoices, subscribe, UPRO_MONTHLY, type World } from './harness';

const UBIZ_MONTHLY: Plan = { ...UPRO_MONTHLY, id: 'ubiz-monthly', name: 'uBiz', seatPrice: '100.00' };
const catalog = { ...makeCatalog([UPRO_MONTHLY, UBIZ_MONTHLY]), creditPacks: [{ id: 'ai-1000', name: '1,000 AI credits', price: '10.00', credits: 1000 }] };
const dynamo = setupDynamo();

const UPGRADE = { workspace: 'acme', change: { type: 'plan.change_requested' as const, plan: 'ubiz-monthly' }, requestedBy: 'u1', asOf: '2027-01-10T09:00:00Z' };

const SCHEMAS = join(__dirname, '..', '..', 'schemas');
const RESPONSE_SCHEMAS: Record<string, Record<string, unknown>> = {
  [LOCAL_FUNCTION_NAMES.changes]: JSON.parse(readFileSync(join(SCHEMAS, 'changes-response.json'), 'utf8')),
  [LOCAL_FUNCTION_NAMES.invoicing]: JSON.parse(readFileSync(join(SCHEMAS, 'job-result.json'), 'utf8')),
  [LOCAL_FUNCTION_NAMES.accrual]: JSON.parse(readFileSync(join(SCHEMAS, 'job-result.json'), 'utf8')),
};
/** Every successful answer of a test, as the functions sent it (before the client parses it). */
const answers: Array<{ functionName: string; body: unknown }> = [];

afterEach(() => {
  // The raw answers, not the client's parse (which drops unknown keys), against the committed schemas.
  for (const { functionName, body } of answers.splice(0)) expect(validateJsonSchema(RESPONSE_SCHEMAS[functionName], body)).toEqual([]);
});

/** A subscribed workspace (3 seats of uPro from 1 Jan 2027) and a client whose functions' clock is `clock.now`. */
async function subscribedClient(): Promise<{ world: World; client: ProrataClient; clock: { now: number } }> {
  const world = await dynamo.world();
  await seed(world.store, undefined, catalog);
  await subscribe(world.deps, 'acme', '2027-01-01T08:00:00Z', '2027-01-01T09:00:00Z');
  const clock = { now: Date.parse(UPGRADE.asOf) };
  const local = createLocalLambda({ deps: world.deps, clock: () => clock.now });
  const client = new ProrataClient({
    functions: LOCAL_FUNCTION_NAMES,
    invoke: async (command) => {
      const result = await local(command);
      if (!result.FunctionError) answers.push({ functionName: command.input.FunctionName ?? '', body: JSON.parse(new TextDecoder().decode(result.Payload)) });
      return result;
    },
  });
  return { world, client, clock };
}

describe('ProrataClient on DynamoDB Local (every answer also checked against schemas/changes-response.json or job-result.json)', () => {
  test('a previewed upgrade writes nothing; applying it returns and stores exactly the previewed invoice; a retry changes nothing', async () => {
    const { world, client } = await subscribedClient();
    const before = await world.scan();
    const preview = await client.previewChange(UPGRADE);
    expect(await world.scan()).toEqual(before);
    if (preview.status === 'rejected') throw new Error(`unexpected rejection: ${preview.message}`);
    expect(preview.status).toBe('preview');
    // 3 × round(70 × 22/31) credited, 3 × round(100 × 22/31) charged (as test/integration/changes.test.ts).
    expect(preview.invoice?.lines.map((line) => line.amount)).toEqual(['-149.04', '212.91']);

    const applied = await client.applyChange(UPGRADE);
    if (applied.status === 'rejected') throw new Error(`unexpected rejection: ${applied.message}`);
    expect(applied.status).toBe('applied');
    expect({ ...applied, status: 'preview' }).toEqual(preview);
    expect((await storedInvoices(world.store, 'acme')).filter((invoice) => invoice.kind === 'change')).toEqual([preview.invoice]);

    expect(await client.applyChange(UPGRADE)).toEqual(applied);
    expect((await storedInvoices(world.store, 'acme')).filter((invoice) => invoice.kind === 'change')).toHaveLength(1);
  });

  test('rejections are typed results: a plain member may not change the plan, an unknown pack is named', async () => {
    const { client } = await subscribedClient();
    const forbidden = await client.applyChange({ ...UPGRADE, requestedBy: 'u2' });
    expect(forbidden).toMatchObject({ status: 'rejected', reason: 'forbidden' });
    const unknownPack = await client.previewChange({ ...UPGRADE, change: { type: 'ai_credit_pack.purchased', pack: 'ai-9999' } });
    expect(unknownPack).toMatchObject({ status: 'rejected', reason: 'unknown-pack' });
  });

  test('an AI credit pack previewed and applied: the same one-time invoice and balance', async () => {
    const { client } = await subscribedClient();
    const request = { ...UPGRADE, change: { type: 'ai_credit_pack.purchased' as const, pack: 'ai-1000' } };
    const preview = await client.previewChange(request);
    const applied = await client.applyChange(request);
    expect(preview).toMatchObject({ status: 'preview', balance: { aiCredits: 1000 } });
    expect({ ...applied, status: 'preview' }).toEqual(preview);
  });

  test("the function's own checks come back typed: applying outside the clock window is a remote ProrataInputError", async () => {
    const { client, clock } = await subscribedClient();
    clock.now = Date.parse('2027-01-13T09:00:00Z');
    const error = await client.applyChange(UPGRADE).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProrataInputError);
    expect(error).toMatchObject({ field: 'input.asOf', remote: true });
  });

  test('jobs on demand: a dry run of one workspace shows the renewal, the real run issues it, a fanned-out run finds nothing left', async () => {
    const { world, client, clock } = await subscribedClient();
    clock.now = Date.parse('2027-02-01T00:10:00Z');
    const dry = await client.runJob('invoicing', { asOf: '2027-02-01', workspace: 'acme', dryRun: true });
    if (!('summary' in dry)) throw new Error('expected a run report');
    expect(dry.workspaces[0].invoices.map((invoice) => [invoice.kind, invoice.amountDue])).toEqual([['renewal', '210.00']]);
    expect(await storedInvoices(world.store, 'acme')).toHaveLength(1);

    const real = await client.runJob('invoicing', { asOf: '2027-02-01', workspace: 'acme' });
    if (!('summary' in real)) throw new Error('expected a run report');
    expect(real.workspaces[0].invoices).toEqual(dry.workspaces[0].invoices);
    expect((await storedInvoices(world.store, 'acme')).map((invoice) => invoice.kind)).toEqual(['first', 'renewal']);

    const dispatched = await client.runJob('invoicing', { scheduledTime: '2027-02-01T00:05:00Z' });
    expect(dispatched).toMatchObject({ job: 'invoicing' });
    expect(await storedInvoices(world.store, 'acme')).toHaveLength(2);
  });

  test("an unknown function name is a transport error, as the SDK's ResourceNotFoundException is", async () => {
    const { world } = await subscribedClient();
    const client = new ProrataClient({ functions: { ...LOCAL_FUNCTION_NAMES, changes: 'no-such-function' }, invoke: createLocalLambda({ deps: world.deps }) });
    await expect(client.previewChange(UPGRADE)).rejects.toThrow(ProrataTransportError);
  });
});

describe('npm run example:client (the README example)', () => {
  test('runs against its own DynamoDB Local and shows the applied change equal to its preview', async () => {
    const root = join(__dirname, '..', '..');
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'examples', 'client.ts')], { cwd: root, timeout: 90000 }, (error, out) =>
        resolve({ code: error ? 1 : 0, stdout: out }),
      );
    });
    expect(code).toBe(0);
    expect(stdout).toContain('rejected (forbidden)');
    expect(stdout).toContain('the applied change is the preview: true');
    expect(stdout).toContain('refused before sending: input.change.seats');
    expect(stdout).toMatch(/dry run of invoicing as of \d{4}-\d{2}-01: renewal invoice of 300\.00 USD/);
  }, 90000);
});
