import type { DocumentInvoice } from './invoice-document';

/** The accounting export's columns, in order (README, "Documents and exports"). */
export const CSV_COLUMNS = [
  'invoice_number',
  'invoice_id',
  'workspace',
  'date',
  'invoice_kind',
  'line_kind',
  'description',
  'quantity',
  'unit_amount',
  'amount',
  'period_start',
  'period_end',
  'currency',
] as const;

/**
 * A spreadsheet reads a cell starting with `=`, `+`, `-`, `@`, tab or CR as a formula (CSV
 * injection): a plan named `=HYPERLINK(…)` would run in the accountant's spreadsheet. Text
 * columns that start with one get a leading `'`; amounts and quantities never do (a negative
 * amount stays an exact decimal string).
 */
function neutralizeFormula(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/** One RFC 4180 field: quoted (with doubled quotes) when it holds a comma, quote, CR or LF. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * The accounting export (issue 11 item 3): RFC 4180 CSV (CRLF line ends, a header row), one
 * row per invoice line, amounts as the exact decimal strings of the result document (never
 * through a float), so the rows of an invoice sum to its subtotal.
 */
export function renderInvoicesCsv(invoices: readonly DocumentInvoice[]): string {
  const rows: string[][] = [[...CSV_COLUMNS]];
  for (const invoice of invoices) {
    for (const line of invoice.lines) {
      rows.push([
        invoice.number ?? '',
        invoice.id,
        neutralizeFormula(invoice.workspace),
        invoice.date,
        invoice.kind,
        line.kind,
        neutralizeFormula(line.description),
        String(line.quantity),
        line.unitAmount,
        line.amount,
        line.periodStart,
        line.periodEnd,
        invoice.currency,
      ]);
    }
  }
  return rows.map((row) => `${row.map(csvField).join(',')}\r\n`).join('');
}

/**
 * Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF) into rows: what a reader of
 * the export does, used by the tests to read it back.
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      row.push(field);
      field = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') i += 1;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += char;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}
