import { z } from 'zod';
import { ValidationError } from '../domain/errors';

/**
 * Ids (workspaces, members, plans, invoices, events): bounded, and made only of characters that
 * are safe inside the table's keys (`#` separates key parts). The first character is a letter
 * or digit, so names such as `__proto__` never become ids.
 */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** An id (see `ID_PATTERN`). */
export const idSchema = z.string().regex(ID_PATTERN, 'must be 1 to 128 letters, digits, ".", "_", ":" or "-", starting with a letter or digit');

/** Event types look like `member.joined`; anything else (`__proto__`, `constructor`) is refused, not looked up. */
export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9_]{0,63}(\.[a-z][a-z0-9_]{0,63}){1,3}$/;

/** An event type name (see `EVENT_TYPE_PATTERN`); whether the engine knows it is checked separately. */
export const eventTypeSchema = z.string().regex(EVENT_TYPE_PATTERN, 'must be an event type such as "member.joined"');

/** Most seats one subscription can hold or buy at once: bounds hostile quantities before any arithmetic. */
export const MAX_SEATS = 100_000;

/** Most AI credits (or GB of storage) one event, plan or pack may carry. */
export const MAX_UNITS = 1_000_000_000;

/** A non-negative money amount as a decimal string, at most 999999999.9999 (prices are never negative). */
export const moneySchema = z.string().regex(/^\d{1,9}(\.\d{1,4})?$/, 'must be a non-negative decimal string such as "70.00" (at most 9 digits before the point and 4 after)');

const EARLIEST_INSTANT = Date.parse('1970-01-01T00:00:00Z');
const LATEST_INSTANT = Date.parse('9999-12-31T23:59:59Z');

/**
 * An ISO-8601 instant with any offset, as the UTC form `YYYY-MM-DDTHH:mm:ss[.SSS]Z`. Instants
 * are compared and used in keys as strings, so every entry point normalises them here: a
 * `+13:00` instant would otherwise sort against `Z` ones by its local digits.
 */
export function normaliseInstant(value: string): string {
  return new Date(value).toISOString().replace('.000Z', 'Z');
}

/** An instant with any offset, normalised to UTC `Z` (see `normaliseInstant`), between 1970 and 9999. */
export const instantSchema = z.iso
  .datetime({ offset: true, error: 'must be an ISO-8601 instant with an offset, e.g. 2027-01-01T00:05:00Z or 2027-01-01T13:05:00+13:00' })
  .refine((value) => {
    const time = Date.parse(value);
    return time >= EARLIEST_INSTANT && time <= LATEST_INSTANT;
  }, 'must be between 1970 and 9999')
  .transform(normaliseInstant);

const instant = instantSchema;
const id = idSchema;
const seats = z.number().int().positive().max(MAX_SEATS);

const base = { workspace: id, at: instant.optional() };

/**
 * The app's events, one schema per detail-type (scenario format, "Event types"). The same
 * shapes arrive on the bus (as `detail`) and in scenarios (flattened with `type` and `at`).
 */
export const EVENT_DETAIL_SCHEMAS = {
  'subscription.started': z.object({ ...base, plan: id, seats: seats.optional(), billingDay: z.number().int().min(1).max(31).optional(), addon: id.optional() }),
  'subscription.canceled': z.object({ ...base, atPeriodEnd: z.boolean().default(true) }),
  'member.invited': z.object({ ...base, member: id, role: id.optional() }),
  'member.joined': z.object({ ...base, member: id, role: id.optional() }),
  'member.role_changed': z.object({ ...base, member: id, role: id }),
  'member.deactivated': z.object({ ...base, member: id }),
  'member.reactivated': z.object({ ...base, member: id }),
  'member.removed': z.object({ ...base, member: id }),
  'plan.change_requested': z.object({ ...base, plan: id, requestedBy: id }),
  'seats.purchased': z.object({ ...base, seats, requestedBy: id }),
  'storage_addon.changed': z.object({ ...base, addon: id.nullable(), requestedBy: id }),
  'ai_credit_pack.purchased': z.object({ ...base, pack: id, requestedBy: id }),
  'ai_credits.consumed': z.object({ ...base, credits: z.number().int().positive().max(MAX_UNITS) }),
  'invoice.payment_failed': z.object({ ...base, invoice: id }),
  'invoice.paid': z.object({ ...base, invoice: id }),
  'payment_method.updated': z.object({ ...base, present: z.boolean() }),
  'storage.usage_reported': z.object({ ...base, usedGb: z.number().nonnegative().max(MAX_UNITS) }),
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
  return Object.hasOwn(EVENT_DETAIL_SCHEMAS, type);
}

/**
 * The dotted path of a zod issue, e.g. `events.3.member`. An unknown key is named itself
 * (`input.dryrun`), so a typo points at the typo rather than at its parent.
 */
export function issuePath(issue: z.core.$ZodIssue | undefined): string[] {
  if (!issue) return [];
  const path = issue.path.map(String);
  return issue.code === 'unrecognized_keys' && issue.keys.length > 0 ? [...path, issue.keys[0]] : path;
}

/** Formats a zod error as "path: message" naming the first offending field. */
export function describeZodError(error: z.ZodError, prefix: string): ValidationError {
  const issue = error.issues[0];
  const path = [prefix, ...issuePath(issue)].filter(Boolean).join('.');
  return new ValidationError(path || prefix, issue?.message ?? 'invalid');
}

/** The EventBridge envelope the ingest function receives (other envelope keys are EventBridge's own). */
export const envelopeSchema = z.object({
  id: id,
  'detail-type': z.string().min(1).max(128),
  source: z.string().min(1).max(256),
  time: instant,
  detail: z.record(z.string(), z.unknown()),
});

/**
 * Validates an event's detail for its type; throws `ValidationError` naming the field. A
 * malformed or unknown type throws with field `detail-type`; instants come back in UTC `Z`.
 */
export function parseAppEvent(eventId: string, type: string, fallbackAt: string, detail: unknown): AppEvent {
  if (!EVENT_TYPE_PATTERN.test(type)) throw new ValidationError('detail-type', `${JSON.stringify(type.slice(0, 64))} is not an event type (e.g. "member.joined")`);
  if (!isEventType(type)) throw new ValidationError('detail-type', `unknown event type ${type}`);
  const parsed = EVENT_DETAIL_SCHEMAS[type].safeParse(detail);
  if (!parsed.success) throw describeZodError(parsed.error, 'detail');
  const value = parsed.data as Record<string, unknown> & { workspace: string; at?: string };
  if (value.at) return { id: eventId, type, at: value.at, workspace: value.workspace, detail: value };
  const fallback = instant.safeParse(fallbackAt);
  if (!fallback.success) throw describeZodError(fallback.error, 'time');
  return { id: eventId, type, at: fallback.data, workspace: value.workspace, detail: value };
}

/** On-demand invocation of a billing job: `{ asOf, workspace?, dryRun? }` or a schedule's `{ scheduledTime }`. */
export const jobInvocationSchema = z.union([
  z.strictObject({ scheduledTime: instant }),
  z.strictObject({
    asOf: z.union([instant, z.iso.date()], { error: 'must be an ISO date (2027-01-01) or an instant with an offset (2027-01-01T00:05:00Z), 1970 to 9999' }),
    workspace: id.optional(),
    dryRun: z.boolean().default(false),
  }),
]);

/** A parsed job invocation. */
export type JobInvocation = z.output<typeof jobInvocationSchema>;

/** Validates a job invocation; throws `ValidationError` naming the field. */
export function parseJobInvocation(input: unknown): JobInvocation {
  const parsed = jobInvocationSchema.safeParse(input);
  if (!parsed.success) {
    const record = typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {};
    const branch = 'scheduledTime' in record ? jobInvocationSchema.options[0] : jobInvocationSchema.options[1];
    const detail = branch.safeParse(input);
    throw describeZodError(detail.success ? parsed.error : detail.error, 'input');
  }
  return parsed.data;
}

/** The on-demand `changes` invocation (R19): `{ workspace, change, requestedBy, asOf, preview }`. */
export const changeInvocationSchema = z.strictObject({
  workspace: id,
  change: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('plan.change_requested'), plan: id }),
    z.strictObject({ type: z.literal('seats.purchased'), seats }),
    z.strictObject({ type: z.literal('storage_addon.changed'), addon: id.nullable() }),
    z.strictObject({ type: z.literal('ai_credit_pack.purchased'), pack: id }),
  ]),
  requestedBy: id,
  asOf: instant,
  preview: z.boolean().default(true),
  /** A retry with the same key returns the first response; default: a hash of the request. */
  idempotencyKey: id.optional(),
});

/** A parsed change invocation. */
export type ChangeInvocation = z.output<typeof changeInvocationSchema>;

/** Validates a change invocation; throws `ValidationError` naming the field. */
export function parseChangeInvocation(input: unknown): ChangeInvocation {
  const parsed = changeInvocationSchema.safeParse(input);
  if (!parsed.success) throw describeZodError(parsed.error, 'input');
  return parsed.data;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** How far ahead of the clock an on-demand job may bill for real: one day (a dry run may look further). */
export const JOB_HORIZON_MS = DAY_MS;

/** How far from the clock a change may be applied: a day back (a delayed request), five minutes ahead (clock skew). */
export const CHANGE_WINDOW_MS = { before: DAY_MS, after: 5 * 60 * 1000 };

/**
 * Refuses an on-demand run that would bill more than a day ahead of `now` (a mistyped year
 * would otherwise issue real invoices early); a dry run may look as far ahead as it likes, and
 * a schedule's `scheduledTime` is the scheduler's. A date counts from its first midnight
 * anywhere (UTC+14). `now` comes from the handler's clock: this module never reads one.
 */
export function assertJobWithinHorizon(invocation: JobInvocation, now: number): void {
  if (!('asOf' in invocation) || invocation.dryRun) return;
  const starts = ISO_DATE.test(invocation.asOf) ? Date.parse(`${invocation.asOf}T00:00:00+14:00`) : Date.parse(invocation.asOf);
  if (starts > now + JOB_HORIZON_MS) {
    throw new ValidationError('input.asOf', `${invocation.asOf} is more than one day ahead of the clock (${normaliseInstant(new Date(now).toISOString())}); pass "dryRun": true to preview it`);
  }
}

/**
 * Refuses applying a change at an `asOf` outside [now − 1 day, now + 5 min]: a change is made
 * now, not backdated or postdated. A preview may be asked for any instant.
 */
export function assertChangeWithinWindow(invocation: ChangeInvocation, now: number): void {
  if (invocation.preview) return;
  const at = Date.parse(invocation.asOf);
  if (at < now - CHANGE_WINDOW_MS.before || at > now + CHANGE_WINDOW_MS.after) {
    throw new ValidationError(
      'input.asOf',
      `${invocation.asOf} is not within a day before and five minutes after the clock (${normaliseInstant(new Date(now).toISOString())}); only a preview may be asked for another instant`,
    );
  }
}

const streamRecordSchema = z.object({
  eventName: z.string().max(16).optional(),
  dynamodb: z.object({ SequenceNumber: z.string().max(64).optional(), NewImage: z.record(z.string(), z.unknown()).optional() }).optional(),
});

/** The publisher's input: a batch from the table's stream, or `{ "sweep": true }` to publish what the outbox holds. */
export const publisherInputSchema = z.union([z.strictObject({ sweep: z.literal(true) }), z.object({ Records: z.array(streamRecordSchema).max(10_000) })]);

/** A parsed publisher input. */
export type PublisherInput = z.output<typeof publisherInputSchema>;

/** Validates the publisher's input; throws `ValidationError` naming the field (a stream batch or a sweep). */
export function parsePublisherInput(input: unknown): PublisherInput {
  const parsed = publisherInputSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const record = typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {};
  const detail = ('sweep' in record ? publisherInputSchema.options[0] : publisherInputSchema.options[1]).safeParse(input);
  throw describeZodError(detail.success ? parsed.error : detail.error, 'input');
}
