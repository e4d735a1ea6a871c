import { CreateTableCommand, DeleteTableCommand, DynamoDBClient, waitUntilTableExists, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';

/**
 * Creates the engine's table exactly as the CDK stack defines it (pk/sk, the `gsi1` due
 * index, a NEW_IMAGE stream: the publisher's source): DynamoDB Local in tests, the simulator and
 * the demo.
 */
export async function createTable(config: DynamoDBClientConfig, tableName: string): Promise<void> {
  const client = new DynamoDBClient(config);
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'gsi1pk', AttributeType: 'S' },
        { AttributeName: 'gsi1sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'gsi1',
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: tableName });
  client.destroy();
}

/** Deletes a table (test clean-up). */
export async function deleteTable(config: DynamoDBClientConfig, tableName: string): Promise<void> {
  const client = new DynamoDBClient(config);
  await client.send(new DeleteTableCommand({ TableName: tableName }));
  client.destroy();
}

/** Waits until an endpoint answers DynamoDB calls (DynamoDB Local takes a few seconds to start). */
export async function waitForEndpoint(config: DynamoDBClientConfig, timeoutMs: number): Promise<void> {
  const { ListTablesCommand } = await import('@aws-sdk/client-dynamodb');
  const client = new DynamoDBClient({ ...config, maxAttempts: 1 });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`DynamoDB Local did not answer within ${timeoutMs} ms: ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    }
  } finally {
    client.destroy();
  }
}
