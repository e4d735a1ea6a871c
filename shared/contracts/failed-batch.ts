import { z } from 'zod';
import { ValidationError } from '../domain/errors';
import { describeZodError } from './events';

/**
 * What the stream event source mapping sends its on-failure destination (PublisherFailureDlq)
 * for a batch it gave up on: the stream coordinates of the batch, not its records
 * (`DDBStreamBatchInfo` of Lambda's invocation record; only the fields replay needs are read).
 */
export const failedStreamBatchMessageSchema = z.object({
  DDBStreamBatchInfo: z.object({
    streamArn: z.string().min(1).max(2048),
    shardId: z.string().min(1).max(128),
    startSequenceNumber: z.string().regex(/^\d{1,64}$/),
    endSequenceNumber: z.string().regex(/^\d{1,64}$/),
  }),
});

/** One failed stream batch: where its records are in the stream. */
export type FailedStreamBatch = z.infer<typeof failedStreamBatchMessageSchema>['DDBStreamBatchInfo'];

/** Parses an on-failure message body; a bad one names its field (and is kept in the queue). */
export function parseFailedStreamBatch(body: string): FailedStreamBatch {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new ValidationError('message', 'is not JSON');
  }
  const parsed = failedStreamBatchMessageSchema.safeParse(json);
  if (!parsed.success) throw describeZodError(parsed.error, 'message');
  return parsed.data.DDBStreamBatchInfo;
}
