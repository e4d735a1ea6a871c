import type { Interval } from './calendar';
import type { Rounding } from './money';

/** A member role (R7). Plans may override which ones are billable. */
export type Role = 'owner' | 'admin' | 'billing-admin' | 'member' | 'guest' | 'viewer' | 'platform-admin' | 'invited';

/** Roles that count as seats unless a plan overrides them (R7). */
export const DEFAULT_BILLABLE_ROLES: readonly string[] = ['owner', 'admin', 'billing-admin', 'member'];

/** Roles allowed to request self-serve changes (R15). */
export const BILLING_MANAGER_ROLES: readonly string[] = ['owner', 'admin', 'billing-admin'];

/** A seat plan from the catalog; `seatPrice` is per seat per interval. */
export interface Plan {
  id: string;
  name: string;
  interval: Interval;
  seatPrice: string;
  seatMode: 'flexible' | 'fixed';
  minimumSeats: number;
  maximumSeats: number | null;
  storageGb: number;
  aiCreditsPerPeriod: number;
  billableRoles?: string[];
}

/** A recurring workspace-level storage add-on; `price` is per month (R17). */
export interface Addon {
  id: string;
  name: string;
  price: string;
  storageGb: number;
}

/** A one-time AI credit pack (R18). */
export interface CreditPack {
  id: string;
  name: string;
  price: string;
  credits: number;
}

/** Everything a workspace can buy. */
export interface Catalog {
  plans: Plan[];
  addons: Addon[];
  creditPacks: CreditPack[];
}

/** Engine settings with the defaults of billing-rules.md. */
export interface Settings {
  rounding: Rounding;
  seatDecrease: 'credit' | 'none';
  upgradeBilling: 'immediate' | 'next-invoice';
}

/** The defaults of R5, R6, R9 and R16. */
export const DEFAULT_SETTINGS: Settings = {
  rounding: { mode: 'half-up', point: 'unit' },
  seatDecrease: 'credit',
  upgradeBilling: 'immediate',
};

/** A customer workspace: who is billed, in which zone and currency. */
export interface Workspace {
  id: string;
  name: string;
  timezone: string;
  currency: string;
  billingDay: number;
  contract: 'standard' | 'custom';
  paymentMethod: boolean;
  settings: Settings;
  /** The prefix of its invoice numbers (`<prefix>-<seq>`); absent: derived from the id (`defaultInvoicePrefix`). */
  invoicePrefix?: string;
  /** Invoices whose payment failed and are not paid yet: they block self-serve changes (R15). */
  failedInvoices?: string[];
  /** The latest reported storage in use, for the downgrade gate (R15). */
  storageUsedGb?: number;
}

/** The roles a plan bills for. */
export function billableRolesOf(plan: Plan): readonly string[] {
  return plan.billableRoles ?? DEFAULT_BILLABLE_ROLES;
}
