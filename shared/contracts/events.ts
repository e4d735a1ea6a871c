import { z } from 'zod';
import { ValidationError } from '../domain/errors';

const instant = z.iso.datetime({ offset: true });
const id = z.string().min(1);

const base = { workspace: id, at: instant.optional() };

/**
 * The app's events, one schema per detail-type (scenario format, "Event types"). The same
 * shapes arrive on the bus (as `detail`) and in scenarios (flattened with `type` and `at`).
 */
export const EVENT_DETAIL_SCHEMAS = {
  'subscription.started': z.object({ ...base, plan: id, seats: z.number().int().positive().optional(), billingDay: z.number().int().min(1).max(31).optional(), addon: id.optional() }),
  'subscription.canceled': z.object({ ...base, atPeriodEnd: z.boolean().default(true) }),
  'member.invited': z.object({ ...base, member: id, role: id.optional() }),
  'member.joined': z.object({ ...base, member: id, role: id.optional() }),
  'member.role_changed': z.object({ ...base, member: id, role: id }),
  'member.deactivated': z.object({ ...base, member: id }),
  'member.reactivated': z.object({ ...base, member: id }),
  'member.removed': z.object({ ...base, member: id }),
  'plan.change_requested': z.object({ ...base, plan: id, requestedBy: id }),
  'seats.purchased': z.object({ ...base, seats: z.number().int().positive(), requestedBy: id }),
  'storage_addon.changed': z.object({ ...base, addon: id.nullable(), requestedBy: id }),
  'ai_credit_pack.purchased': z.object({ ...base, pack: id, requestedBy: id }),
  'ai_credits.consumed': z.object({ ...base, credits: z.number().int().positive() }),
  'invoice.payment_failed': z.object({ ...base, invoice: id }),
  'invoice.paid': z.object({ ...base, invoice: id }),
  'payment_method.updated': z.object({ ...base, present: z.boolean() }),
  'storage.usage_reported': z.object({ ...base, usedGb: z.number().nonnegative() }),
} as const;

/** Every event type the engine knows. */
export type EventType = keyof typeof EVENT_DETAIL_SCHEMAS;

/** The validated detail of an event of type T. */
export type EventDetail<T extends EventType> = z.output<(typeof EVENT_DETAIL_SCHEMAS)[T]>;

/** A validated app event, normalised: type, instant, workspace, the delivering id, the detail. */
export interface AppEvent {
  id: string;
  type: EventType;
  at: string;
  workspace: string;
  detail: Record<string, unknown>;
}

/** True for a known event type. */
export function isEventType(type: string): type is EventType {
  return Object.prototype.hasOwnProperty.call(EVENT_DETAIL_SCHEMAS, type);
}

/** Formats a zod error as "path: message" naming the first offending field. */
export function describeZodError(error: z.ZodError, prefix: string): ValidationError {
  const issue = error.issues[0];
  const path = [prefix, ...(issue?.path ?? []).map(String)].filter(Boolean).join('.');
  return new ValidationError(path || prefix, issue?.message ?? 'invalid');
}

/** The EventBridge envelope the ingest function receives. */
export const envelopeSchema = z.object({
  id: id,
  'detail-type': z.string().min(1),
  source: z.string().min(1),
  time: instant,
  detail: z.record(z.string(), z.unknown()),
});

/**
 * Validates an event's detail for its type; throws `ValidationError` naming the field. An
 * unknown type throws with field `detail-type`.
 */
export function parseAppEvent(eventId: string, type: string, fallbackAt: string, detail: unknown): AppEvent {
  if (!isEventType(type)) throw new ValidationError('detail-type', `unknown event type ${type}`);
  const parsed = EVENT_DETAIL_SCHEMAS[type].safeParse(detail);
  if (!parsed.success) throw describeZodError(parsed.error, 'detail');
  const value = parsed.data as Record<string, unknown> & { workspace: string; at?: string };
  return { id: eventId, type, at: value.at ?? fallbackAt, workspace: value.workspace, detail: value };
}

/** On-demand invocation of a billing job: `{ asOf, workspace?, dryRun? }` or a schedule's `{ scheduledTime }`. */
export const jobInvocationSchema = z.union([
  z.object({ scheduledTime: instant }).strict(),
  z.object({ asOf: z.union([instant, z.iso.date()]), workspace: id.optional(), dryRun: z.boolean().default(false) }).strict(),
]);

/** A parsed job invocation. */
export type JobInvocation = z.output<typeof jobInvocationSchema>;

/** Validates a job invocation; throws `ValidationError` naming the field. */
export function parseJobInvocation(input: unknown): JobInvocation {
  const parsed = jobInvocationSchema.safeParse(input);
  if (!parsed.success) {
    const record = typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {};
    const branch = 'scheduledTime' in record ? z.object({ scheduledTime: instant }).strict() : jobInvocationSchema.options[1];
    const detail = branch.safeParse(input);
    throw describeZodError(detail.success ? parsed.error : detail.error, 'input');
  }
  return parsed.data;
}

/** The on-demand `changes` invocation (R19): `{ workspace, change, requestedBy, asOf, preview }`. */
export const changeInvocationSchema = z
  .object({
    workspace: id,
    change: z.discriminatedUnion('type', [
      z.object({ type: z.literal('plan.change_requested'), plan: id }),
      z.object({ type: z.literal('seats.purchased'), seats: z.number().int().positive() }),
      z.object({ type: z.literal('storage_addon.changed'), addon: id.nullable() }),
      z.object({ type: z.literal('ai_credit_pack.purchased'), pack: id }),
    ]),
    requestedBy: id,
    asOf: instant,
    preview: z.boolean().default(true),
  })
  .strict();

/** A parsed change invocation. */
export type ChangeInvocation = z.output<typeof changeInvocationSchema>;

/** Validates a change invocation; throws `ValidationError` naming the field. */
export function parseChangeInvocation(input: unknown): ChangeInvocation {
  const parsed = changeInvocationSchema.safeParse(input);
  if (!parsed.success) throw describeZodError(parsed.error, 'input');
  return parsed.data;
}
