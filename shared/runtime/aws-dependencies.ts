import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { FailedBatchSource } from '../jobs/publish';
import { SqsFailedBatchSource } from './sqs-failed-batches';
import { ValidationError } from '../domain/errors';
import type { Dependencies } from '../jobs/dependencies';
import { BillingStore, createDocumentClient } from '../store/dynamo-store';
import type { WorkQueue } from '../jobs/fan-out';
import { EventBridgePublisher } from './eventbridge-publisher';
import { powertoolsMetrics, type MetricsSink } from './metrics';
import { SqsWorkQueue } from './sqs-work-queue';
import type { WorkerOptions } from './worker-handler';

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

let queue: WorkQueue | undefined;

/** The work queue of a deployed dispatcher, from WORK_QUEUE_URL (set by the CDK stack). */
export function awsWorkQueue(env: NodeJS.ProcessEnv = process.env): WorkQueue {
  if (queue) return queue;
  const url = env.WORK_QUEUE_URL;
  if (!url) throw new ValidationError('WORK_QUEUE_URL', 'environment variable is not set');
  queue = new SqsWorkQueue(new SQSClient({}), url);
  return queue;
}

let metrics: MetricsSink | undefined;

/** Powertools Metrics (EMF on stdout), one per container. */
export function awsMetrics(): MetricsSink {
  metrics ??= powertoolsMetrics();
  return metrics;
}

/** The deployed worker's options: EMF metrics, and the queue's maxReceiveCount from WORK_MAX_RECEIVE_COUNT. */
export function awsWorkerOptions(env: NodeJS.ProcessEnv = process.env): WorkerOptions {
  const maxReceiveCount = Number(env.WORK_MAX_RECEIVE_COUNT);
  return { metrics: awsMetrics(), maxReceiveCount: Number.isInteger(maxReceiveCount) && maxReceiveCount > 0 ? maxReceiveCount : undefined };
}

let failedBatches: FailedBatchSource | undefined;

/** The publisher's failed stream batches, from PUBLISHER_FAILURE_QUEUE_URL (set by the CDK stack); none without it. */
export function awsFailedBatchSource(env: NodeJS.ProcessEnv = process.env): FailedBatchSource | undefined {
  if (failedBatches) return failedBatches;
  const url = env.PUBLISHER_FAILURE_QUEUE_URL;
  if (!url) return undefined;
  failedBatches = new SqsFailedBatchSource(new SQSClient({}), new DynamoDBStreamsClient({}), url);
  return failedBatches;
}
