import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { toBillingDate } from '../shared/domain/calendar';
import { createDocumentClient } from '../shared/store/dynamo-store';

/**
 * `npx tsx scripts/client-cpu.ts`: the client CPU of one DynamoDB request through the store's
 * `createDocumentClient` against the SDK's default configuration, with no network (a request
 * handler answers at once), so the figure is the client's own work (marshalling, signing,
 * middlewares) and not DynamoDB Local's or the kernel's; and the CPU of one `toBillingDate`, first
 * call of its (instant, zone) pair (luxon's work) and again (the memoised answer).
 * Rounds alternate the two clients; the best round of each is printed (the machine is shared).
 * Run it both ways (with and without `--default-first`) to rule out the build order.
 */

const ROUNDS = 6;
const REQUESTS = 4000;
const DATES = 20_000;

const cpuMs = async (work: () => Promise<void> | void): Promise<number> => {
  const start = process.cpuUsage();
  await work();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};

const requestHandler = {
  handle: async () => ({
    response: { statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.0' }, body: Buffer.from('{"Item":{"pk":{"S":"WS#a"},"sk":{"S":"PROFILE"},"n":{"N":"1"}}}') },
  }),
};
const config: DynamoDBClientConfig = {
  region: 'us-east-1',
  endpoint: 'http://localhost:1',
  credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  requestHandler: requestHandler as unknown as DynamoDBClientConfig['requestHandler'],
};
const item = { pk: 'WS#a', sk: 'SUBSCRIPTION', periods: [{ start: '2026-01-01', end: '2026-02-01', seats: 25, plan: 'pro' }], balance: '0.00', version: 3 };

async function send(doc: DynamoDBDocumentClient, pairs: number): Promise<void> {
  for (let i = 0; i < pairs; i += 1) {
    await doc.send(new GetCommand({ TableName: 'bench', Key: { pk: 'WS#a', sk: 'PROFILE' } }));
    await doc.send(new PutCommand({ TableName: 'bench', Item: item }));
  }
}

async function main(): Promise<void> {
  // Build order is a command-line switch (`--default-first`) so that warm-up order can be ruled out.
  const defaultFirst = process.argv.includes('--default-first');
  const built: Array<[string, DynamoDBDocumentClient]> = [];
  const buildDefault = () => built.push(['SDK default config', DynamoDBDocumentClient.from(new DynamoDBClient(config), { marshallOptions: { removeUndefinedValues: true } })]);
  const buildOurs = () => built.push(['createDocumentClient', createDocumentClient(config)]);
  if (defaultFirst) {
    buildDefault();
    buildOurs();
  } else {
    buildOurs();
    buildDefault();
  }
  const clients = Object.fromEntries(built);
  const best: Record<string, number> = {};
  for (const doc of Object.values(clients)) await send(doc, 500);
  for (let round = 0; round < ROUNDS; round += 1) {
    const order = round % 2 === 0 ? Object.entries(clients) : Object.entries(clients).reverse();
    for (const [name, doc] of order) {
      const perRequestUs = ((await cpuMs(() => send(doc, REQUESTS / 2))) / REQUESTS) * 1000;
      best[name] = Math.min(best[name] ?? Number.POSITIVE_INFINITY, perRequestUs);
    }
    // A fresh instant each call (a second apart, never asked before): luxon converts it.
    const firstUs =
      ((await cpuMs(() => {
        for (let i = 0; i < DATES; i += 1) toBillingDate(new Date(Date.UTC(2030 + round, 0, 1) + i * 1000).toISOString(), 'Europe/Paris');
      })) /
        DATES) *
      1000;
    const againUs =
      ((await cpuMs(() => {
        for (let i = 0; i < DATES; i += 1) toBillingDate('2026-12-01T00:00:00Z', 'Europe/Paris');
      })) /
        DATES) *
      1000;
    best.toBillingDate = Math.min(best.toBillingDate ?? Number.POSITIVE_INFINITY, firstUs);
    best['toBillingDate again'] = Math.min(best['toBillingDate again'] ?? Number.POSITIVE_INFINITY, againUs);
  }
  for (const [name, us] of Object.entries(best)) console.log(`${name.padEnd(20)} ${us.toFixed(1)} µs ${name.startsWith('toBillingDate') ? 'a call' : 'a request'} (best of ${ROUNDS})`);
}

void main();
