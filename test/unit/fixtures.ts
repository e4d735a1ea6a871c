import { DEFAULT_SETTINGS, type Catalog, type Plan, type Settings, type Workspace } from '../../shared/domain/catalog';
import { toBillingDate } from '../../shared/domain/calendar';
import type { MemberEvent, MemberEventType } from '../../shared/domain/members';
import type { BillingContext } from '../../shared/domain/proration';

/** A plan with the scenario format's defaults. */
export function makePlan(overrides: Partial<Plan> = {}): Plan {
  return {
    id: 'upro-monthly',
    name: 'uPro',
    interval: 'month',
    seatPrice: '70.00',
    seatMode: 'flexible',
    minimumSeats: 1,
    maximumSeats: null,
    storageGb: 100,
    aiCreditsPerPeriod: 0,
    ...overrides,
  };
}

/** A UTC USD workspace on calendar billing. */
export function makeWorkspace(overrides: Partial<Workspace> = {}, settings: Partial<Settings> = {}): Workspace {
  return {
    id: 'acme',
    name: 'Acme',
    timezone: 'UTC',
    currency: 'USD',
    billingDay: 1,
    contract: 'standard',
    paymentMethod: true,
    settings: { ...DEFAULT_SETTINGS, ...settings },
    ...overrides,
  };
}

let seq = 0;
/** A member event at an instant, its billing date taken in `zone`. */
export function memberEvent(at: string, type: MemberEventType, member: string, role = 'member', zone = 'UTC'): MemberEvent {
  return { at, type, member, role, date: toBillingDate(at, zone), seq: seq++ };
}

/** `n` members joining at `at`. */
export function joins(at: string, n: number, prefix = 'u'): MemberEvent[] {
  return Array.from({ length: n }, (_, i) => memberEvent(at, 'member.joined', `${prefix}${i + 1}`));
}

/** A billing context over one plan catalog. */
export function makeContext(members: MemberEvent[], plans: Plan[] = [makePlan()], workspace: Workspace = makeWorkspace()): BillingContext {
  const catalog: Catalog = { plans, addons: [], creditPacks: [] };
  return { workspace, catalog, members };
}
