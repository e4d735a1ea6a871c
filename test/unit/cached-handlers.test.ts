/**
 * `cacheDocumentHandlers` (through `createDocumentClient`): each command class's middleware stack
 * is resolved once, yet every command sends its own input, gets its own output, and a middleware
 * added later applies to the next send. A request handler answers at once (no network), echoing
 * the key it was asked for, so what was sent is what comes back.
 */
import { GetItemCommand, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../shared/store/dynamo-store';

function echoingClient() {
  const bodies: Array<Record<string, unknown>> = [];
  const requestHandler = {
    handle: async (request: { body?: string }) => {
      const body = JSON.parse(String(request.body ?? '{}')) as { Key?: Record<string, unknown>; Item?: Record<string, unknown> };
      bodies.push(body);
      const answer = body.Key ? { Item: { ...body.Key, echoed: { BOOL: true } } } : {};
      return { response: { statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.0' }, body: Buffer.from(JSON.stringify(answer)) } };
    },
  };
  const config: DynamoDBClientConfig = {
    region: 'us-east-1',
    endpoint: 'http://localhost:1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    requestHandler: requestHandler as unknown as DynamoDBClientConfig['requestHandler'],
  };
  return { doc: createDocumentClient(config), bodies };
}

describe('document client with cached middleware stacks', () => {
  afterEach(() => jest.restoreAllMocks());

  test('concurrent commands of one class each send their own input and get their own output; the stack is resolved once', async () => {
    const resolved = jest.spyOn(GetItemCommand.prototype, 'resolveMiddleware');
    const { doc, bodies } = echoingClient();
    const keys = Array.from({ length: 20 }, (_, i) => ({ pk: `WS#w${i}`, sk: 'PROFILE' }));
    const outputs = await Promise.all(keys.map((Key) => doc.send(new GetCommand({ TableName: 'prorata', Key }))));
    expect(outputs.map((output) => output.Item)).toEqual(keys.map((key) => ({ ...key, echoed: true })));
    expect(bodies.map((body) => body.Key)).toEqual(keys.map((key) => ({ pk: { S: key.pk }, sk: { S: key.sk } })));
    expect(resolved).toHaveBeenCalledTimes(1);
    doc.destroy();
  });

  test('a middleware added after the first send runs on the next one, and another command class resolves its own stack', async () => {
    const { doc, bodies } = echoingClient();
    await doc.send(new GetCommand({ TableName: 'prorata', Key: { pk: 'WS#a', sk: 'PROFILE' } }));
    const seen: unknown[] = [];
    doc.middlewareStack.add(
      (next) => async (args) => {
        seen.push(args.input);
        return next(args);
      },
      { step: 'initialize', name: 'addedLater' },
    );
    await doc.send(new GetCommand({ TableName: 'prorata', Key: { pk: 'WS#b', sk: 'PROFILE' } }));
    await doc.send(new PutCommand({ TableName: 'prorata', Item: { pk: 'WS#b', sk: 'BALANCE', amounts: { USD: '1.00' } } }));
    // The middleware sees the document-level input, as it would without the cache.
    expect(seen).toEqual([
      { TableName: 'prorata', Key: { pk: 'WS#b', sk: 'PROFILE' } },
      { TableName: 'prorata', Item: { pk: 'WS#b', sk: 'BALANCE', amounts: { USD: '1.00' } } },
    ]);
    expect(bodies.at(-1)?.Item).toEqual({ pk: { S: 'WS#b' }, sk: { S: 'BALANCE' }, amounts: { M: { USD: { S: '1.00' } } } });
    doc.destroy();
  });
});
