import { daysInclusive } from '../../shared/domain/calendar';
import { DEFAULT_LOCALE, escapeXml, formatCount, formatDate, formatMoney } from './format';
import type { DocumentInvoice } from './invoice-document';
import type { Timeline } from './timeline';
import { renderTimelineSvg, TIMELINE_CSS } from './timeline-svg';

/** What one workspace's page shows. */
export interface WorkspaceDocumentInput {
  /** The scenario (or account) the page belongs to, for the heading. */
  title: string;
  workspace: { id: string; name?: string; timezone: string };
  /** BCP 47 tag for every amount and date on the page (default `en-US`). */
  locale?: string;
  currency: string;
  /** The workspace's invoices in issue order (others are ignored). */
  invoices: readonly DocumentInvoice[];
  timeline: Timeline;
  balance?: { billingCredit: string; aiCredits: number };
}

const KIND_LABELS: Readonly<Record<DocumentInvoice['kind'], string>> = {
  first: 'First invoice',
  renewal: 'Renewal',
  'true-up': 'True-up',
  change: 'Change',
};

/** A money cell: the formatted amount, with the exact decimal in `data-value` for machines. */
function money(amount: string, currency: string, locale: string, field: string, tag = 'td'): string {
  return `<${tag} class="money" data-field="${field}" data-value="${escapeXml(amount)}">${escapeXml(formatMoney(amount, currency, locale))}</${tag}>`;
}

function period(start: string, end: string, locale: string): string {
  return start === end ? formatDate(start, locale) : `${formatDate(start, locale)} – ${formatDate(end, locale)}`;
}

/** One invoice as a printable document: header, every line, subtotal, credit applied, amount due. */
export function renderInvoiceArticle(invoice: DocumentInvoice, workspaceName: string, locale: string): string {
  const c = invoice.currency;
  const title = invoice.number ? `Invoice ${invoice.number}` : 'Invoice';
  const facts: Array<[string, string]> = [
    ...(invoice.number ? [['Invoice number', invoice.number] as [string, string]] : []),
    ['Invoice id', invoice.id],
    ['Billed to', workspaceName === invoice.workspace ? workspaceName : `${workspaceName} (${invoice.workspace})`],
    ['Date issued', formatDate(invoice.date, locale)],
    ['Kind', KIND_LABELS[invoice.kind] ?? invoice.kind],
    ['Period', period(invoice.periodStart, invoice.periodEnd, locale)],
    ['Currency', c],
  ];
  const rows = invoice.lines.map(
    (line, i) => `<tr class="line" data-index="${i}" data-kind="${escapeXml(line.kind)}">
<td class="description">${escapeXml(line.description)}</td>
<td class="period">${escapeXml(period(line.periodStart, line.periodEnd, locale))}</td>
<td class="number" data-field="days" data-value="${daysInclusive(line.periodStart, line.periodEnd)}">${escapeXml(formatCount(daysInclusive(line.periodStart, line.periodEnd), locale))}</td>
<td class="number" data-field="quantity" data-value="${line.quantity}">${escapeXml(formatCount(line.quantity, locale))}</td>
${money(line.unitAmount, c, locale, 'unitAmount')}
${money(line.amount, c, locale, 'amount')}
</tr>`,
  );
  return `<article class="invoice" id="${escapeXml(invoice.id)}" data-invoice-id="${escapeXml(invoice.id)}"${invoice.number ? ` data-invoice-number="${escapeXml(invoice.number)}"` : ''}>
<header><h2>${escapeXml(title)}</h2><span class="kind kind-${escapeXml(invoice.kind)}">${escapeXml(KIND_LABELS[invoice.kind] ?? invoice.kind)}</span></header>
<dl class="facts">${facts.map(([label, value]) => `<div><dt>${escapeXml(label)}</dt><dd>${escapeXml(value)}</dd></div>`).join('')}</dl>
<table class="lines">
<colgroup><col class="c-description"><col class="c-period"><col class="c-days"><col class="c-qty"><col class="c-unit"><col class="c-amount"></colgroup>
<thead><tr><th>Description</th><th>Period</th><th class="number">Days</th><th class="number">Qty</th><th class="number">Unit amount</th><th class="number">Amount</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
<table class="totals">
<tr><th>Subtotal</th>${money(invoice.subtotal, c, locale, 'subtotal')}</tr>
<tr><th>Credit applied</th>${money(invoice.creditApplied, c, locale, 'creditApplied')}</tr>
<tr class="due"><th>Amount due</th>${money(invoice.amountDue, c, locale, 'amountDue')}</tr>
</table>
</article>`;
}

const PAGE_CSS = `
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0 auto; max-width: 1100px; padding: 24px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1a1a1a; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; overflow-wrap: anywhere; }
h2 { font-size: 18px; margin: 0; overflow-wrap: anywhere; }
p.meta { margin: 0 0 16px; color: #555; overflow-wrap: anywhere; }
section.timeline-section { margin: 0 0 28px; padding: 12px; border: 1px solid #ddd; border-radius: 6px; }
article.invoice { margin: 0 0 28px; padding: 20px; border: 1px solid #ccc; border-radius: 6px; }
article.invoice header { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: baseline; justify-content: space-between; margin-bottom: 10px; }
.kind { font-size: 12px; text-transform: uppercase; letter-spacing: .05em; color: #555; }
dl.facts { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: 6px 18px; margin: 0 0 14px; }
dl.facts div { min-width: 0; }
dl.facts dt { font-size: 11px; color: #666; text-transform: uppercase; letter-spacing: .04em; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; }
th, td { padding: 5px 6px; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
table.lines thead th { border-bottom: 2px solid #333; font-size: 12px; }
table.lines td { border-bottom: 1px solid #e3e3e3; }
.number, .money { text-align: right; font-variant-numeric: tabular-nums; }
col.c-description { width: 36%; } col.c-period { width: 20%; } col.c-days { width: 7%; } col.c-qty { width: 7%; } col.c-unit { width: 15%; } col.c-amount { width: 15%; }
table.totals { width: 50%; min-width: 260px; max-width: 100%; margin: 10px 0 0 auto; }
table.totals th { text-align: right; font-weight: normal; }
table.totals tr.due th, table.totals tr.due td { font-weight: bold; border-top: 2px solid #333; }
${TIMELINE_CSS}
@page { size: A4; margin: 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  section.timeline-section { break-inside: avoid; }
  article.invoice { break-before: page; border: none; padding: 0; }
  a { color: inherit; text-decoration: none; }
}
`;

/**
 * One workspace's page (issue 11 item 1): self-contained HTML (inline CSS and SVG, no script,
 * no network: its Content-Security-Policy forbids any fetch), the timeline picture above every
 * invoice as a printable document. Pure: the same input gives the same string. All text is
 * escaped; amounts and dates are formatted with `Intl` for the locale.
 */
export function renderWorkspaceDocument(input: WorkspaceDocumentInput): string {
  const locale = input.locale ?? DEFAULT_LOCALE;
  const name = input.workspace.name ?? input.workspace.id;
  const invoices = input.invoices.filter((invoice) => invoice.workspace === input.workspace.id);
  const balance = input.balance ? ` · billing credit ${formatMoney(input.balance.billingCredit, input.currency, locale)}, AI credits ${formatCount(input.balance.aiCredits, locale)}` : '';
  const lang = escapeXml(locale);
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="Prorata">
<title>${escapeXml(`${name} · ${input.title} · invoices`)}</title>
<style>${PAGE_CSS}</style>
</head>
<body data-workspace="${escapeXml(input.workspace.id)}" data-locale="${lang}" data-currency="${escapeXml(input.currency)}">
<h1>${escapeXml(name)}</h1>
<p class="meta">${escapeXml(`${input.title} · workspace ${input.workspace.id} · ${input.workspace.timezone} · ${input.currency} · ${locale} · ${invoices.length} invoice${invoices.length === 1 ? '' : 's'}${balance}`)}</p>
<section class="timeline-section" aria-label="Timeline">
${renderTimelineSvg(input.timeline, locale)}
</section>
${invoices.length ? invoices.map((invoice) => renderInvoiceArticle(invoice, name, locale)).join('\n') : '<p class="empty">No invoices.</p>'}
</body>
</html>
`;
}
