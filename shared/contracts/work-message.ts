import { z } from 'zod';
import { ValidationError } from '../domain/errors';
import { describeZodError, idSchema, instantSchema, type JobInvocation } from './events';

/**
 * One unit of fan-out work: bill one workspace for one job at the run's billing instant. The
 * dispatcher sends one per due workspace; a worker rebuilds the run's invocation from it, so the
 * billing date and `issuedAt` are exactly those of the run that found the workspace due.
 * `sortKey` is the due-index entry the dispatcher saw (accrual removes its marker only while it
 * still has it). `subscriptionId` (a renewal's) lets the worker read the batch's subscriptions
 * together; without it (an older dispatcher, an accrual) each is found by its workspace. No
 * deduplication id: a message delivered twice, or two runs dispatching the same workspace, bill it
 * once, as every write is conditional on the subscription's version.
 */
export const workMessageSchema = z
  .strictObject({
    job: z.enum(['invoicing', 'accrual']),
    workspace: idSchema,
    sortKey: z.string().max(300),
    /** The subscription a renewal's due entry belongs to: the worker reads it with its batch's other reads (`readRenewalBatch`). */
    subscriptionId: idSchema.optional(),
    /** The schedule's scheduled time, or for an on-demand run its `asOf` (a date or an instant). */
    scheduledTime: instantSchema.optional(),
    asOf: z.union([instantSchema, z.iso.date()]).optional(),
  })
  .refine((message) => (message.scheduledTime === undefined) !== (message.asOf === undefined), { error: 'exactly one of scheduledTime and asOf', path: ['scheduledTime'] });

/** A validated work message. */
export type WorkMessage = z.output<typeof workMessageSchema>;

/** Parses a queue message body, refusing it with a `ValidationError` naming the field. */
export function parseWorkMessage(body: string): WorkMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw new ValidationError('body', 'is not JSON');
  }
  const parsed = workMessageSchema.safeParse(raw);
  if (!parsed.success) throw describeZodError(parsed.error, 'body');
  return parsed.data;
}

/** The run a message belongs to, as the invocation the in-process path would have received. */
export function invocationOf(message: WorkMessage): JobInvocation {
  if (message.scheduledTime !== undefined) return { scheduledTime: message.scheduledTime };
  return { asOf: message.asOf ?? '', workspace: message.workspace, dryRun: false };
}
