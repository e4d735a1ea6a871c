import { escapeXml, formatCount, formatDate, formatMoney, formatMonth } from './format';
import type { Timeline } from './timeline';

const WIDTH = 1000;
const LEFT = 84;
const RIGHT = 16;
const TOP = 34;
const SEATS_HEIGHT = 170;
const GAP = 26;
const MONEY_HEIGHT = 110;
const AXIS = 34;
const HEIGHT = TOP + SEATS_HEIGHT + GAP + MONEY_HEIGHT + AXIS;

function n(value: number): string {
  return String(Math.round(value * 100) / 100);
}

/**
 * The timeline picture (inline SVG, no script, no external reference): billable members per
 * day (a step line with one point per day), the seats paid for each day (a shaded step), the
 * period starts and true-up dates (dashed lines), and below on the same axis each invoice's
 * charges (up) and credits (down), each bar linking to its invoice. Scales to its container.
 */
export function renderTimelineSvg(timeline: Timeline, locale: string): string {
  const days = timeline.days;
  const count = Math.max(1, days.length);
  const plotWidth = WIDTH - LEFT - RIGHT;
  const dx = plotWidth / count;
  const xAt = (i: number) => LEFT + i * dx;
  const indexOf = new Map(days.map((day, i) => [day.date, i]));
  const maxSeats = Math.max(1, ...days.map((day) => Math.max(day.billable, day.paid)));
  const ySeat = (seats: number) => TOP + SEATS_HEIGHT - (Math.max(0, seats) / maxSeats) * SEATS_HEIGHT;
  const moneyTop = TOP + SEATS_HEIGHT + GAP;
  const maxCharge = Math.max(0, ...timeline.invoices.map((invoice) => Number(invoice.charges)));
  const maxCredit = Math.max(0, ...timeline.invoices.map((invoice) => -Number(invoice.credits)));
  const moneySpan = Math.max(1e-9, maxCharge + maxCredit);
  const zeroY = moneyTop + (maxCharge / moneySpan) * MONEY_HEIGHT;
  const yMoney = (amount: number) => zeroY - (amount / moneySpan) * MONEY_HEIGHT;
  const out: string[] = [];
  const title = `Seats and invoices per day, ${days.length ? `${formatDate(days[0].date, locale)} – ${formatDate(days[days.length - 1].date, locale)}` : ''}`;
  out.push(
    `<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%" role="img" aria-labelledby="timeline-title" data-days="${days.length}" data-first-date="${escapeXml(days[0]?.date ?? '')}" data-last-date="${escapeXml(days[days.length - 1]?.date ?? '')}">`,
  );
  out.push(`<title id="timeline-title">${escapeXml(title)}</title>`);

  // Legend.
  const legend: Array<[string, string]> = [
    ['legend-paid', 'Seats paid (invoiced)'],
    ['legend-billable', 'Billable members (end of day)'],
    ['legend-period', 'Period start'],
    ['legend-true-up', 'True-up'],
    ['legend-charge', 'Charges'],
    ['legend-credit', 'Credits'],
  ];
  let legendX = LEFT;
  for (const [cls, label] of legend) {
    out.push(`<rect class="${cls}" x="${legendX}" y="8" width="14" height="10"/><text class="legend" x="${legendX + 19}" y="17">${escapeXml(label)}</text>`);
    // About 6.5 units per character at 11px, then a gap.
    legendX += 19 + Math.ceil(label.length * 6.5) + 22;
  }

  // Axes and gridlines.
  for (const seats of [...new Set([0, Math.round(maxSeats / 2), maxSeats])]) {
    const y = ySeat(seats);
    out.push(
      `<line class="grid" x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${n(y)}" y2="${n(y)}"/><text class="axis" x="${LEFT - 6}" y="${n(y + 4)}" text-anchor="end">${escapeXml(formatCount(seats, locale))}</text>`,
    );
  }
  out.push(`<text class="axis-title" x="12" y="${n(TOP + SEATS_HEIGHT / 2)}" transform="rotate(-90 12 ${n(TOP + SEATS_HEIGHT / 2)})" text-anchor="middle">seats</text>`);
  out.push(`<line class="zero" x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${n(zeroY)}" y2="${n(zeroY)}"/>`);
  // The largest charge and credit, labelled with their exact amounts.
  const largest = (pick: (invoice: Timeline['invoices'][number]) => string, sign: number) =>
    timeline.invoices.map(pick).reduce((best, amount) => (sign * Number(amount) > sign * Number(best) ? amount : best), '0');
  const moneyTicks = [...new Set(['0', largest((invoice) => invoice.charges, 1), largest((invoice) => invoice.credits, -1)])];
  const labelled: number[] = [];
  for (const amount of moneyTicks) {
    // A label closer than a line of text to one already drawn would overlap it.
    if (labelled.some((y) => Math.abs(y - yMoney(Number(amount))) < 12)) continue;
    labelled.push(yMoney(Number(amount)));
    out.push(`<text class="axis" x="${LEFT - 6}" y="${n(yMoney(Number(amount)) + 4)}" text-anchor="end">${escapeXml(formatMoney(amount, timeline.currency, locale))}</text>`);
  }

  // Month starts on the axis (at most about a dozen labels).
  const monthStarts = days.map((day, i) => ({ day, i })).filter(({ day, i }) => i === 0 || day.date.endsWith('-01'));
  const every = Math.max(1, Math.ceil(monthStarts.length / 12));
  monthStarts.forEach(({ day, i }, k) => {
    if (k % every !== 0) return;
    const x = xAt(i);
    const label = day.date.endsWith('-01') ? formatMonth(day.date, locale) : formatDate(day.date, locale, 'short');
    out.push(
      `<line class="tick" x1="${n(x)}" x2="${n(x)}" y1="${moneyTop + MONEY_HEIGHT}" y2="${moneyTop + MONEY_HEIGHT + 5}"/><text class="axis" x="${n(x)}" y="${moneyTop + MONEY_HEIGHT + 18}" text-anchor="${i === 0 ? 'start' : 'middle'}">${escapeXml(label)}</text>`,
    );
  });

  // Period starts and true-ups across both panels.
  for (const date of timeline.periodStarts) {
    const i = indexOf.get(date);
    if (i === undefined) continue;
    out.push(
      `<line class="period-start" data-date="${escapeXml(date)}" x1="${n(xAt(i))}" x2="${n(xAt(i))}" y1="${TOP}" y2="${moneyTop + MONEY_HEIGHT}"><title>${escapeXml(`Period starts ${formatDate(date, locale)}`)}</title></line>`,
    );
  }
  for (const date of timeline.trueUps) {
    const i = indexOf.get(date);
    if (i === undefined) continue;
    out.push(
      `<line class="true-up" data-date="${escapeXml(date)}" x1="${n(xAt(i))}" x2="${n(xAt(i))}" y1="${TOP}" y2="${moneyTop + MONEY_HEIGHT}"><title>${escapeXml(`True-up ${formatDate(date, locale)}`)}</title></line>`,
    );
  }

  // Seats paid: a shaded step; billable members: a step line with one point per day.
  if (days.length) {
    const paid = [`M${n(xAt(0))} ${n(ySeat(0))}`];
    const billable: string[] = [];
    days.forEach((day, i) => {
      paid.push(`V${n(ySeat(day.paid))}H${n(xAt(i + 1))}`);
      billable.push(`${i === 0 ? 'M' : 'H'}${n(xAt(i))}${i === 0 ? ` ${n(ySeat(day.billable))}` : `V${n(ySeat(day.billable))}`}`);
    });
    paid.push(`V${n(ySeat(0))}Z`);
    billable.push(`H${n(xAt(days.length))}`);
    out.push(`<path class="paid" d="${paid.join('')}"/>`);
    out.push(`<path class="billable" d="${billable.join('')}"/>`);
    const r = n(Math.max(0.8, Math.min(2.5, dx / 2.5)));
    out.push('<g class="days">');
    days.forEach((day, i) => {
      const label = `${formatDate(day.date, locale)}: ${formatCount(day.billable, locale)} billable, ${formatCount(day.paid, locale)} paid`;
      out.push(
        `<circle class="day" cx="${n(xAt(i) + dx / 2)}" cy="${n(ySeat(day.billable))}" r="${r}" data-date="${day.date}" data-billable="${day.billable}" data-paid="${day.paid}"><title>${escapeXml(label)}</title></circle>`,
      );
    });
    out.push('</g>');
  }

  // Each invoice's charges (up) and credits (down) on its date; invoices of one date side by side.
  const barWidth = Math.max(2, Math.min(14, dx * 0.8));
  const perDate = new Map<string, number>();
  for (const invoice of timeline.invoices) {
    const i = indexOf.get(invoice.date);
    if (i === undefined) continue;
    const k = perDate.get(invoice.date) ?? 0;
    perDate.set(invoice.date, k + 1);
    const x = xAt(i) + dx / 2 - barWidth / 2 + k * (barWidth + 1);
    const label = `${invoice.number ?? invoice.id} (${invoice.kind}, ${formatDate(invoice.date, locale)}): charges ${formatMoney(invoice.charges, timeline.currency, locale)}, credits ${formatMoney(invoice.credits, timeline.currency, locale)}, amount due ${formatMoney(invoice.amountDue, timeline.currency, locale)}`;
    out.push(
      `<a class="invoice-bar" href="#${escapeXml(invoice.id)}" data-invoice="${escapeXml(invoice.id)}" data-date="${invoice.date}" data-charges="${invoice.charges}" data-credits="${invoice.credits}"><title>${escapeXml(label)}</title>`,
    );
    const charge = Number(invoice.charges);
    const credit = Number(invoice.credits);
    out.push(`<rect class="charge" x="${n(x)}" y="${n(yMoney(charge))}" width="${n(barWidth)}" height="${n(Math.max(charge > 0 ? 1 : 0, zeroY - yMoney(charge)))}"/>`);
    if (credit < 0) out.push(`<rect class="credit" x="${n(x)}" y="${n(zeroY)}" width="${n(barWidth)}" height="${n(Math.max(1, yMoney(credit) - zeroY))}"/>`);
    if (charge === 0 && credit === 0) out.push(`<rect class="charge" x="${n(x)}" y="${n(zeroY - 1)}" width="${n(barWidth)}" height="2"/>`);
    out.push('</a>');
  }
  out.push(`<text class="axis-title" x="12" y="${n(moneyTop + MONEY_HEIGHT / 2)}" transform="rotate(-90 12 ${n(moneyTop + MONEY_HEIGHT / 2)})" text-anchor="middle">invoiced</text>`);
  out.push('</svg>');
  return out.join('\n');
}

/** The timeline's styles (inline in the page's `<style>`). */
export const TIMELINE_CSS = `
svg.timeline { display: block; width: 100%; height: auto; font-family: inherit; }
svg.timeline .legend, svg.timeline .axis { font-size: 11px; fill: #444; }
svg.timeline .axis-title { font-size: 11px; fill: #666; }
svg.timeline .grid { stroke: #e5e5e5; }
svg.timeline .zero, svg.timeline .tick { stroke: #999; }
svg.timeline .paid, svg.timeline .legend-paid { fill: #cfe3f7; stroke: #7fb0e0; }
svg.timeline .billable { fill: none; stroke: #1d3f6e; stroke-width: 1.5; }
svg.timeline .legend-billable { fill: #1d3f6e; }
svg.timeline .day { fill: #1d3f6e; }
svg.timeline .period-start { stroke: #888; stroke-dasharray: 4 3; }
svg.timeline .legend-period { fill: #888; }
svg.timeline .true-up { stroke: #d9822b; stroke-dasharray: 2 2; stroke-width: 1.5; }
svg.timeline .legend-true-up { fill: #d9822b; }
svg.timeline .charge, svg.timeline .legend-charge { fill: #2e8b57; }
svg.timeline .credit, svg.timeline .legend-credit { fill: #c0392b; }
`;
