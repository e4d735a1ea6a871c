import { z } from 'zod';
import type { Invoice, InvoiceLine } from '../domain/invoice';
import type { Proration } from '../domain/proration';
import type { ChangeResult } from '../jobs/changes';
import type { JobReport, RunSummary } from '../jobs/billing-jobs';
import type { DispatchReport } from '../jobs/fan-out';

/**
 * What the engine gives out, as zod schemas: invoices, prorations, the engine's events, the
 * `changes` and job responses. The published JSON Schemas (`npm run schemas`, `schemas/`) and
 * the typed client (`shared/client`) are derived from these, and the type checks at the end of
 * this file fail the build if a schema and the TypeScript type it describes drift apart.
 */

const isoDate = z.iso.date();
const instant = z.iso.datetime({ offset: true });
/** A signed exact decimal amount in the currency's minor units (a credit line is negative). */
const amount = z.string().regex(/^-?\d+(\.\d+)?$/, 'must be a decimal string such as "70.00" or "-12.50"');
const nonNegativeInt = z.number().int().nonnegative();

/** One invoice line (scenario-format.md, Output). */
export const invoiceLineSchema = z.object({
  kind: z.enum(['seats', 'proration', 'addon', 'one-time']),
  description: z.string(),
  quantity: z.number().int(),
  unitAmount: amount,
  amount,
  periodStart: isoDate,
  periodEnd: isoDate,
});

const invoiceHeader = {
  /** Deterministic (R14): the idempotency key of the invoice. */
  id: z.string(),
  /** The human number, gapless and increasing per workspace: `<prefix>-<seq>` (seq zero-padded to at least 4 digits). */
  number: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,23}-\d{4,}$/, 'must be <prefix>-<seq>, such as "ACME-3ZJJ-0001"'),
  workspace: z.string(),
  subscription: z.string(),
  kind: z.enum(['first', 'renewal', 'true-up', 'change']),
  date: isoDate,
  currency: z.string().length(3),
  periodStart: isoDate,
  periodEnd: isoDate,
};

const totals = { subtotal: amount, creditApplied: amount, amountDue: amount };

/** An issued invoice (R10–R13), as stored, returned and published. */
export const invoiceSchema = z.object({ ...invoiceHeader, lines: z.array(invoiceLineSchema), ...totals });

/** One day-count proration accrued (R9, R16, R17). */
export const prorationSchema = z.object({
  id: z.string(),
  workspace: z.string(),
  subscription: z.string(),
  seq: nonNegativeInt,
  date: isoDate,
  delta: z.number().int(),
  fromQuantity: nonNegativeInt,
  toQuantity: nonNegativeInt,
  planId: z.string(),
  unitPrice: amount,
  periodStart: isoDate,
  periodEnd: isoDate,
  days: nonNegativeInt,
  of: z.number().int().positive(),
  unitAmount: amount,
  amount,
  adjustment: z.boolean(),
  description: z.string(),
  subject: z.enum(['seats', 'plan', 'addon']).optional(),
});

/** A workspace's balances: billing credit (R13) and AI credits (R18). */
export const balanceSchema = z.object({ billingCredit: amount, aiCredits: z.number().int() });

/**
 * The `Invoice Issued` detail as the outbox holds it: the invoice, or, when its JSON would
 * not fit one EventBridge event, the invoice without `lines` but with `lineCount` and
 * `linesOmitted: true` (fetch the lines from the store).
 */
export const invoiceIssuedDetailSchema = z.union([invoiceSchema, z.object({ ...invoiceHeader, ...totals, lineCount: nonNegativeInt, linesOmitted: z.literal(true) })]);

/** The `Change Rejected` detail: a change (event or on-demand apply) the rules refused (R15). */
export const changeRejectedDetailSchema = z.object({ workspace: z.string(), type: z.string(), reason: z.string(), message: z.string(), at: instant });

/** The `Seat Limit Exceeded` detail: more billable members than seats bought on a fixed-seat plan (R8); a warning, never a charge. */
export const seatLimitExceededDetailSchema = z.object({ workspace: z.string(), at: instant, billableMembers: nonNegativeInt, seats: nonNegativeInt });

/** Every detail-type the engine publishes (source `prorata`), with its detail as the outbox holds it. */
export const ENGINE_EVENT_DETAIL_SCHEMAS = {
  'Invoice Issued': invoiceIssuedDetailSchema,
  'Change Rejected': changeRejectedDetailSchema,
  'Seat Limit Exceeded': seatLimitExceededDetailSchema,
} as const;

/** A detail-type the engine publishes. */
export type EngineDetailType = keyof typeof ENGINE_EVENT_DETAIL_SCHEMAS;

/**
 * The published detail of an engine event: as the outbox holds it plus `eventId`, the
 * outbox entry id, which is the same on every retry (consumers deduplicate on it; see
 * `EventBridgePublisher`).
 */
export function publishedDetailSchema(detailType: EngineDetailType) {
  const eventId = { eventId: z.string().min(1) };
  if (detailType === 'Invoice Issued') return z.union(invoiceIssuedDetailSchema.options.map((option) => option.extend(eventId)));
  return ENGINE_EVENT_DETAIL_SCHEMAS[detailType].extend(eventId);
}

/** An engine event as the publisher hands it on (and the simulator's output lists it): outbox id, detail-type, detail. */
export const engineEventSchema = z.discriminatedUnion('detailType', [
  z.object({ id: z.string(), detailType: z.literal('Invoice Issued'), detail: invoiceIssuedDetailSchema }),
  z.object({ id: z.string(), detailType: z.literal('Change Rejected'), detail: changeRejectedDetailSchema }),
  z.object({ id: z.string(), detailType: z.literal('Seat Limit Exceeded'), detail: seatLimitExceededDetailSchema }),
]);

/** The `changes` response (R19): what the change did or, previewed, would do; or why it was refused. */
export const changeResultSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.enum(['applied', 'preview']),
    /** The invoice issued now (an immediate upgrade, a one-time purchase), or null. */
    invoice: invoiceSchema.nullable(),
    /** Prorations accrued now, billed on the next invoice. */
    accrued: z.array(prorationSchema),
    /** When a scheduled change (a downgrade, an interval change) takes effect, or null. */
    atPeriodEnd: isoDate.nullable(),
    balance: balanceSchema,
  }),
  z.object({ status: z.literal('rejected'), reason: z.string(), message: z.string() }),
]);

const runSummarySchema = z.object({
  workspaces: nonNegativeInt,
  invoiced: nonNegativeInt,
  alreadyBilled: nonNegativeInt,
  invoices: nonNegativeInt,
  prorations: nonNegativeInt,
  failed: nonNegativeInt,
  /** Amount due of the invoices issued, per currency. */
  amounts: z.record(z.string(), amount),
});

const jobName = z.enum(['invoicing', 'accrual']);

/** A billing run's report: each workspace billed (an on-demand run of one workspace), failures, counts. */
export const jobReportSchema = z.object({
  job: jobName,
  dryRun: z.boolean(),
  workspaces: z.array(z.object({ workspace: z.string(), asOf: isoDate, invoices: z.array(invoiceSchema), prorations: z.array(prorationSchema) })),
  failed: z.array(z.object({ workspace: z.string(), error: z.string() })),
  retries: nonNegativeInt,
  summary: runSummarySchema,
});

/** A dispatcher run's report: the due workspaces it sent to the workers. */
export const dispatchReportSchema = z.object({
  job: jobName,
  at: z.string(),
  due: nonNegativeInt,
  dispatched: nonNegativeInt,
  notDispatched: nonNegativeInt,
  notDispatchedWorkspaces: z.array(z.string()),
  oldestDueAt: z.string().optional(),
  retries: nonNegativeInt,
});

/**
 * What an invoked job (invoicing, accrual) returns: the run's report when it billed here
 * (`{asOf, workspace}` or a dry run), the dispatch report when it fanned out to the workers.
 */
export const jobResultSchema = z.union([jobReportSchema, dispatchReportSchema]);

// Compile-time guards: each schema's output must be assignable to the engine's own type and
// back with the same keys (optional ones included), so a field added to one and not the other
// fails `tsc`.
type Assignable<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Same<A, B> = Assignable<A, B> extends true ? Assignable<keyof A, keyof B> : false;
const sameTypes: [
  Same<z.output<typeof invoiceLineSchema>, InvoiceLine>,
  Same<z.output<typeof invoiceSchema>, Invoice>,
  Same<z.output<typeof prorationSchema>, Proration>,
  Same<z.output<typeof changeResultSchema>, ChangeResult>,
  Same<z.output<typeof runSummarySchema>, RunSummary>,
  Same<z.output<typeof jobReportSchema>, JobReport>,
  Same<z.output<typeof dispatchReportSchema>, DispatchReport>,
] = [true, true, true, true, true, true, true];
void sameTypes;
