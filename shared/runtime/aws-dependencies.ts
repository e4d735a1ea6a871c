import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ValidationError } from '../domain/errors';
import type { Dependencies } from '../jobs/dependencies';
import { BillingStore, createDocumentClient } from '../store/dynamo-store';
import { EventBridgePublisher } from './eventbridge-publisher';

let cached: Dependencies | undefined;

/**
 * The dependencies of a deployed handler, built once per container from its environment:
 * TABLE_NAME and EVENT_BUS_NAME (set by the CDK stack), DYNAMODB_ENDPOINT to aim at
 * DynamoDB Local. The edges read the environment; the core never does.
 */
export function awsDependencies(env: NodeJS.ProcessEnv = process.env): Dependencies {
  if (cached) return cached;
  const tableName = env.TABLE_NAME;
  if (!tableName) throw new ValidationError('TABLE_NAME', 'environment variable is not set');
  const store = new BillingStore(createDocumentClient(env.DYNAMODB_ENDPOINT ? { endpoint: env.DYNAMODB_ENDPOINT } : {}), { tableName });
  const publisher = new EventBridgePublisher(new EventBridgeClient({}), env.EVENT_BUS_NAME ?? 'prorata');
  cached = { store, publisher };
  return cached;
}
