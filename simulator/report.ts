import type { SimulationResult } from './simulate';

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

/** Renders a simulation as readable tables: one per invoice, then rejections and balances. */
export function renderReport(name: string, result: SimulationResult): string {
  const out: string[] = [`Scenario: ${name}`, ''];
  for (const invoice of result.invoices) {
    out.push(`Invoice ${invoice.number}  ${invoice.id}  ${invoice.kind}  ${invoice.workspace}  dated ${invoice.date}  period ${invoice.periodStart} – ${invoice.periodEnd}`);
    const width = Math.max(40, ...invoice.lines.map((line) => line.description.length));
    out.push(`  ${pad('Description', width)}  ${pad('Qty', 5, true)}  ${pad('Unit', 12, true)}  ${pad('Amount', 12, true)}`);
    out.push(`  ${'-'.repeat(width + 35)}`);
    for (const line of invoice.lines) {
      out.push(`  ${pad(line.description, width)}  ${pad(String(line.quantity), 5, true)}  ${pad(line.unitAmount, 12, true)}  ${pad(line.amount, 12, true)}`);
    }
    out.push(`  ${'-'.repeat(width + 35)}`);
    for (const [label, value] of [
      ['Subtotal', invoice.subtotal],
      ['Credit applied', invoice.creditApplied],
      [`Amount due (${invoice.currency})`, invoice.amountDue],
    ]) {
      out.push(`  ${pad(label, width + 23, true)}  ${pad(value, 12, true)}`);
    }
    out.push('');
  }
  if (result.invoices.length === 0) out.push('No invoices.', '');
  if (result.rejections.length) {
    out.push('Rejections:');
    for (const rejection of result.rejections) out.push(`  ${rejection.at}  ${rejection.workspace}  ${rejection.type}: ${rejection.reason} (${rejection.message})`);
    out.push('');
  }
  const notices = result.events.filter((event) => event.detailType === 'Seat Limit Exceeded');
  if (notices.length) {
    out.push('Warnings:');
    for (const notice of notices)
      out.push(
        `  ${String(notice.detail.at)}  ${String(notice.detail.workspace)}  Seat Limit Exceeded: ${String(notice.detail.billableMembers)} billable members, ${String(notice.detail.seats)} seats bought`,
      );
    out.push('');
  }
  out.push('Balances:');
  for (const [workspace, balance] of Object.entries(result.balances)) out.push(`  ${workspace}: billing credit ${balance.billingCredit}, AI credits ${balance.aiCredits}`);
  return out.join('\n');
}
