import { z } from 'zod';
import { isValidZone } from '../shared/domain/calendar';
import { DEFAULT_SETTINGS, type Catalog, type Workspace } from '../shared/domain/catalog';
import { ValidationError } from '../shared/domain/errors';
import { INVOICE_PREFIX_PATTERN, invoicePrefixOf } from '../shared/domain/invoice';
import { SUPPORTED_CURRENCIES } from '../shared/domain/money';
import { EVENT_DETAIL_SCHEMAS, eventTypeSchema, idSchema, instantSchema, isEventType, issuePath, MAX_SEATS, MAX_UNITS, moneySchema, type EventType } from '../shared/contracts/events';
import { checkScenarioNames } from './strict';

const instant = instantSchema;
const id = idSchema;
const label = z.string().min(1).max(200);
const count = z.number().int().nonnegative().max(MAX_UNITS);
const gigabytes = z.number().nonnegative().max(MAX_UNITS);

const planSchema = z.strictObject({
  id,
  name: label,
  interval: z.enum(['month', 'quarter', 'year']),
  seatPrice: moneySchema,
  seatMode: z.enum(['flexible', 'fixed']).default('flexible'),
  minimumSeats: z.number().int().nonnegative().max(MAX_SEATS).default(0),
  maximumSeats: z.number().int().positive().max(MAX_SEATS).nullable().default(null),
  storageGb: gigabytes.default(0),
  aiCreditsPerPeriod: count.default(0),
  billableRoles: z.array(id).max(32).optional(),
});

const settingsSchema = z
  .strictObject({
    rounding: z.strictObject({ mode: z.enum(['half-up', 'half-even', 'down']).default('half-up'), point: z.enum(['unit', 'line']).default('unit') }).default(DEFAULT_SETTINGS.rounding),
    seatDecrease: z.enum(['credit', 'none']).default('credit'),
    upgradeBilling: z.enum(['immediate', 'next-invoice']).default('immediate'),
  })
  .default(DEFAULT_SETTINGS);

const workspaceSchema = z.strictObject({
  id,
  name: label.optional(),
  timezone: z.string().max(64).default('UTC').refine(isValidZone, 'must be an IANA time zone name'),
  contract: z.enum(['standard', 'custom']).default('standard'),
  paymentMethod: z.boolean().default(true),
  billingDay: z.number().int().min(1).max(31).default(1),
  /** BCP 47 tag the documents format amounts and dates with (`npm run simulate -- --html`); default en-US. */
  locale: z.string().max(35).refine(isValidLocale, 'must be a BCP 47 language tag such as "de-DE"').optional(),
  /** The prefix of the workspace's invoice numbers (`<prefix>-<seq>`); default derived from the id (`defaultInvoicePrefix`). */
  invoicePrefix: z.string().regex(INVOICE_PREFIX_PATTERN, 'must be 1 to 24 letters, digits, ".", "_", "/" or "-", starting with a letter or digit').optional(),
});

/** True for a well-formed BCP 47 language tag that `Intl` accepts. */
function isValidLocale(tag: string): boolean {
  try {
    return Intl.getCanonicalLocales(tag).length === 1;
  } catch {
    return false;
  }
}

const addonSchema = z.strictObject({ id, name: label, price: moneySchema, storageGb: gigabytes.default(0) });
const creditPackSchema = z.strictObject({ id, name: label, price: moneySchema, credits: z.number().int().positive().max(MAX_UNITS) });

const eventSchema = z.preprocess(
  (raw, ctx) => {
    // JSON.parse makes `__proto__` an own key; copied into a parsed event it would set its prototype.
    if (typeof raw === 'object' && raw !== null && Object.hasOwn(raw, '__proto__')) {
      ctx.addIssue({ code: 'custom', path: ['__proto__'], message: 'is not an event field' });
    }
    return raw;
  },
  z
    .object({ at: instant, type: eventTypeSchema, workspace: id, deliveredAt: instant.optional() })
    .passthrough()
    .superRefine((event, ctx) => {
      // Unknown (well-formed) types are refused by strict mode (`checkScenarioNames`) or, with
      // `lenient`, replayed and reported as `unsupported` rejections.
      if (!isEventType(event.type)) return;
      const parsed = EVENT_DETAIL_SCHEMAS[event.type].safeParse(event);
      if (!parsed.success) for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', path: issuePath(issue), message: issue.message });
    }),
);

/** Flags a repeated `id` in a list (plans, add-ons, packs, workspaces): the later one would silently shadow the first. */
function uniqueIds(list: string, items: ReadonlyArray<{ id: string }>, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  items.forEach((item, index) => {
    if (seen.has(item.id)) ctx.addIssue({ code: 'custom', path: [list, index, 'id'], message: `duplicate id ${item.id}` });
    seen.add(item.id);
  });
}

/** The scenario document (scenario-format.md, Input), with defaults applied; unknown top-level keys are refused. */
export const scenarioSchema = z
  .strictObject({
    name: label.default('scenario'),
    description: z.string().max(2000).optional(),
    currency: z.string().refine((code) => SUPPORTED_CURRENCIES.includes(code), 'unsupported currency'),
    settings: settingsSchema,
    plans: z.array(planSchema).min(1).max(1000),
    addons: z.array(addonSchema).max(1000).default([]),
    creditPacks: z.array(creditPackSchema).max(1000).default([]),
    workspaces: z.array(workspaceSchema).min(1).max(10_000),
    events: z.array(eventSchema).max(1_000_000).default([]),
    until: instant,
    /** What the rules say the replay must produce (bundled examples; checked by the tests). */
    expected: z
      .object({
        invoices: z.array(z.object({ workspace: z.string(), kind: z.string(), date: z.string(), lines: z.array(z.string()), subtotal: z.string(), creditApplied: z.string(), amountDue: z.string() })),
        rejections: z.array(z.object({ workspace: z.string(), type: z.string(), reason: z.string() })),
        balances: z.record(z.string(), z.object({ billingCredit: z.string(), aiCredits: z.number() })),
      })
      .optional(),
  })
  .superRefine((scenario, ctx) => {
    uniqueIds('plans', scenario.plans, ctx);
    uniqueIds('addons', scenario.addons, ctx);
    uniqueIds('creditPacks', scenario.creditPacks, ctx);
    uniqueIds('workspaces', scenario.workspaces, ctx);
    uniquePrefixes(scenario.workspaces, ctx);
  });

/** Two workspaces printing the same invoice numbers would make them ambiguous: their prefixes must differ. */
function uniquePrefixes(workspaces: ReadonlyArray<{ id: string; invoicePrefix?: string }>, ctx: z.RefinementCtx): void {
  const seen = new Map<string, string>();
  workspaces.forEach((workspace, index) => {
    const prefix = invoicePrefixOf(workspace);
    const other = seen.get(prefix);
    if (other !== undefined) ctx.addIssue({ code: 'custom', path: ['workspaces', index, 'invoicePrefix'], message: `invoice prefix ${prefix} is already that of workspace ${other}` });
    else seen.set(prefix, workspace.id);
  });
}

/** A validated scenario. */
export type Scenario = z.output<typeof scenarioSchema>;

/** A scenario event as replayed. */
export type ScenarioEvent = Scenario['events'][number] & { type: EventType | string };

/** How strictly a scenario's names are checked. */
export interface ParseScenarioOptions {
  /**
   * Replay unknown event types and undefined workspace, plan, add-on and pack ids (reported as
   * rejections, as the deployed engine does) instead of refusing the scenario. Default false.
   */
  lenient?: boolean;
}

/**
 * Validates a scenario; throws `ValidationError` naming the field (e.g. `events.3.member`).
 * Strict by default: an unknown event type or id is refused with the closest known name
 * (`checkScenarioNames`), unless `lenient`.
 */
export function parseScenario(input: unknown, options: ParseScenarioOptions = {}): Scenario {
  const parsed = scenarioSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ValidationError(issuePath(issue).join('.') || 'scenario', issue.message);
  }
  if (!options.lenient) checkScenarioNames(parsed.data);
  return parsed.data;
}

/** The catalog a scenario defines. */
export function catalogOf(scenario: Scenario): Catalog {
  return { plans: scenario.plans, addons: scenario.addons, creditPacks: scenario.creditPacks };
}

/** The workspaces a scenario defines, with its currency and settings. */
export function workspacesOf(scenario: Scenario): Workspace[] {
  return scenario.workspaces.map((workspace) => ({
    id: workspace.id,
    name: workspace.name ?? workspace.id,
    timezone: workspace.timezone,
    currency: scenario.currency,
    billingDay: workspace.billingDay,
    contract: workspace.contract,
    paymentMethod: workspace.paymentMethod,
    settings: scenario.settings,
    ...(workspace.invoicePrefix ? { invoicePrefix: workspace.invoicePrefix } : {}),
  }));
}
