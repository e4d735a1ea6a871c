import Decimal from 'decimal.js';
import { addDays, eachDate, maxDate, minDate, toBillingDate, type IsoDate } from '../../shared/domain/calendar';
import { DEFAULT_BILLABLE_ROLES } from '../../shared/domain/catalog';
import { endOfDayCounts, MEMBER_EVENT_TYPES, type MemberEvent, type MemberEventType } from '../../shared/domain/members';
import type { DocumentInvoice } from './invoice-document';

/** One day of the timeline. */
export interface TimelineDay {
  date: IsoDate;
  /** Billable members at the end of the day (R4, R7). */
  billable: number;
  /** Seats charged for the day by the invoices issued (period seats plus every seat proration). */
  paid: number;
}

/** One invoice on the time axis. */
export interface TimelineInvoice {
  id: string;
  number?: string;
  kind: DocumentInvoice['kind'];
  date: IsoDate;
  /** Sum of the positive lines. */
  charges: string;
  /** Sum of the negative lines (zero or less). */
  credits: string;
  amountDue: string;
}

/** What the timeline picture draws for one workspace. */
export interface Timeline {
  currency: string;
  days: TimelineDay[];
  invoices: TimelineInvoice[];
  /** Starts of the billing periods the invoices bill (their seat lines' periods). */
  periodStarts: IsoDate[];
  /** Dates of true-up invoices. */
  trueUps: IsoDate[];
}

/** A scenario event as the timeline reads it. */
export interface TimelineEvent {
  at: string;
  type: string;
  workspace: string;
  member?: unknown;
  role?: unknown;
}

/** What `buildTimeline` needs: the workspace, its zone, its events, its invoices, the end of the replay. */
export interface TimelineInput {
  workspace: string;
  timezone: string;
  currency: string;
  events: readonly TimelineEvent[];
  invoices: readonly DocumentInvoice[];
  until: string;
  billableRoles?: readonly string[];
}

/** An add-on's proration (`Unused time on Storage 1 TB after …`), not a seat one (`… on 3 × uPro after …`). */
function isAddonProration(description: string): boolean {
  const match = /^(?:Unused|Remaining) time on (.+) after /.exec(description);
  return match !== null && !/^\d+ × /.test(match[1]);
}

/**
 * The timeline of one workspace (pure): for every day from its first event or invoice to the
 * end of the replay, the billable members (from the member events, R4/R7) and the seats the
 * invoices charged for it (each `seats` line adds its quantity over its period, each seat
 * proration its signed quantity over its own), and each invoice's charges and credits. So
 * a gap between the two lines is a change not invoiced yet (or a minimum, fixed seats, or
 * `seatDecrease: none`), visible at a glance.
 */
export function buildTimeline(input: TimelineInput): Timeline {
  const own = input.events.filter((event) => event.workspace === input.workspace);
  const invoices = input.invoices.filter((invoice) => invoice.workspace === input.workspace);
  const end = toBillingDate(input.until, input.timezone);
  const starts = [...own.map((event) => toBillingDate(event.at, input.timezone)), ...invoices.map((invoice) => invoice.date)];
  const start = starts.length ? starts.reduce(minDate) : end;
  const dates = eachDate(minDate(start, end), maxDate(start, end));

  const memberTypes: readonly string[] = MEMBER_EVENT_TYPES;
  const members: MemberEvent[] = own
    .filter((event) => memberTypes.includes(event.type) && typeof event.member === 'string')
    .map((event, seq) => ({
      type: event.type as MemberEventType,
      member: String(event.member),
      ...(typeof event.role === 'string' ? { role: event.role } : {}),
      at: event.at,
      date: toBillingDate(event.at, input.timezone),
      seq,
    }));
  const counts = endOfDayCounts(members, dates, input.billableRoles ?? DEFAULT_BILLABLE_ROLES);

  const index = new Map(dates.map((date, i) => [date, i]));
  const paid = dates.map(() => 0);
  for (const invoice of invoices) {
    for (const line of invoice.lines) {
      if (line.kind !== 'seats' && !(line.kind === 'proration' && !isAddonProration(line.description))) continue;
      for (let date = maxDate(line.periodStart, dates[0]); date <= line.periodEnd && date <= dates[dates.length - 1]; date = addDays(date, 1)) {
        paid[index.get(date) ?? 0] += line.quantity;
      }
    }
  }

  return {
    currency: input.currency,
    days: dates.map((date, i) => ({ date, billable: counts.get(date) ?? 0, paid: paid[i] })),
    invoices: invoices.map((invoice) => {
      const amounts = invoice.lines.map((line) => new Decimal(line.amount));
      const charges = amounts.filter((amount) => amount.isPositive() && !amount.isZero()).reduce((a, b) => a.plus(b), new Decimal(0));
      const credits = amounts.filter((amount) => amount.isNegative()).reduce((a, b) => a.plus(b), new Decimal(0));
      return {
        id: invoice.id,
        ...(invoice.number ? { number: invoice.number } : {}),
        kind: invoice.kind,
        date: invoice.date,
        charges: charges.toFixed(),
        credits: credits.toFixed(),
        amountDue: invoice.amountDue,
      };
    }),
    periodStarts: [...new Set(invoices.flatMap((invoice) => invoice.lines.filter((line) => line.kind === 'seats').map((line) => line.periodStart)))].sort(),
    trueUps: [...new Set(invoices.filter((invoice) => invoice.kind === 'true-up').map((invoice) => invoice.date))].sort(),
  };
}
