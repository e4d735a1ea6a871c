import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePort, startLocalDynamo, type LocalDynamo, type RetryReason } from '../../simulator/dynamo-local';

/** Every instance a test started, stopped after it whatever happened. */
const started: LocalDynamo[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((dynamo) => dynamo.stop()));
}, 30000);

async function start(...args: Parameters<typeof startLocalDynamo>): Promise<LocalDynamo> {
  const dynamo = await startLocalDynamo(...args);
  started.push(dynamo);
  return dynamo;
}

async function tableNames(dynamo: LocalDynamo): Promise<string[]> {
  const client = new DynamoDBClient(dynamo.config);
  try {
    return (await client.send(new ListTablesCommand({}))).TableNames ?? [];
  } finally {
    client.destroy();
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** True when something accepts TCP connections on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A plain TCP server on the port, on every interface as Java binds, that never answers; and how to close it. */
async function occupy(port: number): Promise<{ server: Server; connections: Set<Socket>; close(): Promise<void> }> {
  const connections = new Set<Socket>();
  const server = createServer((socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    socket.on('error', () => undefined);
    // Reads (and ignores) the request, so it sees the client hang up.
    socket.resume();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () => resolve());
  });
  return {
    server,
    connections,
    close: async () => {
      for (const socket of connections) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A port picker that hands out `first` once, then free ports. */
function pickerStartingWith(first: number): () => Promise<number> {
  let used = false;
  return async () => {
    if (used) return freePort();
    used = true;
    return first;
  };
}

describe('DynamoDB Local launcher', () => {
  test('three instances started at once each answer on their own port and stop cleanly', async () => {
    const dynamos = await Promise.all([1, 2, 3].map(() => start()));
    expect(new Set(dynamos.map((dynamo) => dynamo.port)).size).toBe(3);

    // Each is its own in-memory database: a table created in one is not in the others.
    await Promise.all(dynamos.map((dynamo, index) => dynamo.createTable(`table-${index}`)));
    expect(await Promise.all(dynamos.map(tableNames))).toEqual([['table-0'], ['table-1'], ['table-2']]);

    await Promise.all(started.splice(0).map((dynamo) => dynamo.stop()));
    for (const dynamo of dynamos) {
      expect(isRunning(dynamo.pid)).toBe(false);
      expect(await listening(dynamo.port)).toBe(false);
    }
  }, 180000);

  test('a port taken between the probe and the spawn: Java fails to bind and a new port is tried', async () => {
    const taken = await freePort();
    const squatter = await occupy(taken);
    try {
      const retries: Array<{ port: number; pid: number; reason: RetryReason }> = [];
      const dynamo = await start({ pickPort: pickerStartingWith(taken), onRetry: (retry) => retries.push(retry) });
      expect(retries.map((retry) => [retry.port, retry.reason])).toEqual([[taken, 'port-in-use']]);
      expect(isRunning(retries[0].pid)).toBe(false);
      expect(dynamo.port).not.toBe(taken);
      await dynamo.createTable('mine');
      expect(await tableNames(dynamo)).toEqual(['mine']);
      // The launcher's probes gave up their connections to the silent server.
      expect(squatter.connections.size).toBe(0);
    } finally {
      await squatter.close();
    }
  }, 120000);

  test('a port taken by another DynamoDB Local: its answers are not mistaken for ours', async () => {
    const other = await start();
    await other.createTable('theirs');
    const retries: Array<{ port: number; pid: number; reason: RetryReason }> = [];
    const dynamo = await start({ pickPort: pickerStartingWith(other.port), onRetry: (retry) => retries.push(retry) });

    expect(retries.map((retry) => [retry.port, retry.reason])).toEqual([[other.port, 'foreign-server']]);
    expect(isRunning(retries[0].pid)).toBe(false);
    expect(dynamo.port).not.toBe(other.port);
    expect(await tableNames(dynamo)).toEqual([]);

    // Stopping the other instance leaves ours answering.
    await other.stop();
    await dynamo.createTable('mine');
    expect(await tableNames(dynamo)).toEqual(['mine']);
  }, 120000);

  test('a start slower than its timeout is re-spawned with a longer one, and the slow child is stopped', async () => {
    const retries: Array<{ pid: number; reason: RetryReason }> = [];
    const dynamo = await start({ startTimeoutMs: 500, attempts: 8, onRetry: (retry) => retries.push(retry) });
    expect(retries.length).toBeGreaterThan(0);
    expect(retries.every((retry) => retry.reason === 'slow-start')).toBe(true);
    expect(retries.filter((retry) => isRunning(retry.pid))).toEqual([]);
    expect(await tableNames(dynamo)).toEqual([]);
  }, 180000);
});
