import { z } from 'zod';
import { isValidZone } from '../shared/domain/calendar';
import { DEFAULT_SETTINGS, type Catalog, type Workspace } from '../shared/domain/catalog';
import { ValidationError } from '../shared/domain/errors';
import { SUPPORTED_CURRENCIES } from '../shared/domain/money';
import { EVENT_DETAIL_SCHEMAS, type EventType } from '../shared/contracts/events';

const instant = z.iso.datetime({ offset: true });
const decimal = z.string().regex(/^-?\d+(\.\d+)?$/, 'must be a decimal string such as "70.00"');

const planSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  interval: z.enum(['month', 'quarter', 'year']),
  seatPrice: decimal,
  seatMode: z.enum(['flexible', 'fixed']).default('flexible'),
  minimumSeats: z.number().int().nonnegative().default(0),
  maximumSeats: z.number().int().positive().nullable().default(null),
  storageGb: z.number().nonnegative().default(0),
  aiCreditsPerPeriod: z.number().int().nonnegative().default(0),
  billableRoles: z.array(z.string()).optional(),
});

const settingsSchema = z
  .object({
    rounding: z.object({ mode: z.enum(['half-up', 'half-even', 'down']).default('half-up'), point: z.enum(['unit', 'line']).default('unit') }).default(DEFAULT_SETTINGS.rounding),
    seatDecrease: z.enum(['credit', 'none']).default('credit'),
    upgradeBilling: z.enum(['immediate', 'next-invoice']).default('immediate'),
  })
  .default(DEFAULT_SETTINGS);

const workspaceSchema = z.object({
  id: z.string().min(1),
  name: z.string().optional(),
  timezone: z.string().default('UTC').refine(isValidZone, 'must be an IANA time zone name'),
  contract: z.enum(['standard', 'custom']).default('standard'),
  paymentMethod: z.boolean().default(true),
  billingDay: z.number().int().min(1).max(31).default(1),
});

const eventSchema = z
  .object({ at: instant, type: z.string(), workspace: z.string().min(1), deliveredAt: instant.optional() })
  .passthrough()
  .superRefine((event, ctx) => {
    const schema = (EVENT_DETAIL_SCHEMAS as Record<string, z.ZodType>)[event.type];
    if (!schema) return; // unknown types are replayed and reported as `unsupported` rejections
    const parsed = schema.safeParse(event);
    if (!parsed.success) for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  });

/** The scenario document (scenario-format.md, Input), with defaults applied. */
export const scenarioSchema = z.object({
  name: z.string().default('scenario'),
  description: z.string().optional(),
  currency: z.string().refine((code) => SUPPORTED_CURRENCIES.includes(code), 'unsupported currency'),
  settings: settingsSchema,
  plans: z.array(planSchema).min(1),
  addons: z.array(z.object({ id: z.string().min(1), name: z.string(), price: decimal, storageGb: z.number().nonnegative().default(0) })).default([]),
  creditPacks: z.array(z.object({ id: z.string().min(1), name: z.string(), price: decimal, credits: z.number().int().positive() })).default([]),
  workspaces: z.array(workspaceSchema).min(1),
  events: z.array(eventSchema).default([]),
  until: instant,
  /** What the rules say the replay must produce (bundled examples; checked by the tests). */
  expected: z
    .object({
      invoices: z.array(z.object({ workspace: z.string(), kind: z.string(), date: z.string(), lines: z.array(z.string()), subtotal: z.string(), creditApplied: z.string(), amountDue: z.string() })),
      rejections: z.array(z.object({ workspace: z.string(), type: z.string(), reason: z.string() })),
      balances: z.record(z.string(), z.object({ billingCredit: z.string(), aiCredits: z.number() })),
    })
    .optional(),
});

/** A validated scenario. */
export type Scenario = z.output<typeof scenarioSchema>;

/** A scenario event as replayed. */
export type ScenarioEvent = Scenario['events'][number] & { type: EventType | string };

/** Validates a scenario; throws `ValidationError` naming the field (e.g. `events.3.member`). */
export function parseScenario(input: unknown): Scenario {
  const parsed = scenarioSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ValidationError(issue.path.map(String).join('.') || 'scenario', issue.message);
  }
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
  }));
}
