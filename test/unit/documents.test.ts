import { renderScenarioDocuments } from '../../simulator/documents';
import { formatMoney } from '../../simulator/documents/format';
import type { DocumentInvoice } from '../../simulator/documents/invoice-document';
import { buildTimeline } from '../../simulator/documents/timeline';
import { parseScenario } from '../../simulator/scenario';

const hostile = '<script>alert("x")</script> & \'co\'';

function scenario(locale?: string) {
  return parseScenario({
    name: hostile,
    currency: 'EUR',
    plans: [{ id: 'pro', name: 'Pro', interval: 'month', seatPrice: '1234.56' }],
    workspaces: [{ id: 'acme', name: hostile, timezone: 'Europe/Berlin', ...(locale ? { locale } : {}) }],
    events: [
      { at: '2027-01-01T09:00:00Z', type: 'member.joined', workspace: 'acme', member: 'u1', role: 'owner' },
      { at: '2027-01-01T10:00:00Z', type: 'subscription.started', workspace: 'acme', plan: 'pro' },
      { at: '2027-01-10T10:00:00Z', type: 'member.joined', workspace: 'acme', member: 'u2' },
    ],
    until: '2027-02-01T12:00:00Z',
  });
}

const invoices: DocumentInvoice[] = [
  {
    id: 'inv_acme_2027-01-01_first',
    number: 'ACME-1',
    workspace: 'acme',
    subscription: 's',
    kind: 'first',
    date: '2027-01-01',
    currency: 'EUR',
    periodStart: '2027-01-01',
    periodEnd: '2027-01-31',
    lines: [{ kind: 'seats', description: `${hostile} × 1 seat`, quantity: 1, unitAmount: '1234.56', amount: '1234.56', periodStart: '2027-01-01', periodEnd: '2027-01-31' }],
    subtotal: '1234.56',
    creditApplied: '0.00',
    amountDue: '1234.56',
  },
  {
    id: 'inv_acme_2027-02-01_renewal',
    workspace: 'acme',
    subscription: 's',
    kind: 'renewal',
    date: '2027-02-01',
    currency: 'EUR',
    periodStart: '2027-02-01',
    periodEnd: '2027-02-28',
    lines: [
      {
        kind: 'proration',
        description: '1 seat added on 10 Jan 2027, 22 of 31 days × €1,234.56',
        quantity: 1,
        unitAmount: '876.14',
        amount: '876.14',
        periodStart: '2027-01-10',
        periodEnd: '2027-01-31',
      },
      { kind: 'proration', description: 'Unused time on Storage after 10 Jan 2027', quantity: -1, unitAmount: '5.00', amount: '-5.00', periodStart: '2027-01-10', periodEnd: '2027-01-31' },
      { kind: 'seats', description: 'Pro × 2 seats, February 2027', quantity: 2, unitAmount: '1234.56', amount: '2469.12', periodStart: '2027-02-01', periodEnd: '2027-02-28' },
    ],
    subtotal: '3340.26',
    creditApplied: '0.00',
    amountDue: '3340.26',
  },
];

describe('invoice documents', () => {
  test('every text is escaped: a hostile workspace, scenario or line name never becomes markup', () => {
    const [page] = renderScenarioDocuments(scenario(), { invoices, balances: {} });
    expect(page.html).not.toContain('<script>');
    expect(page.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;');
    expect(page.html).toContain("default-src 'none'");
    expect(page.html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  test('the timeline has one day per date of the range, billable members and the seats paid (add-on prorations excluded)', () => {
    const timeline = buildTimeline({ workspace: 'acme', timezone: 'Europe/Berlin', currency: 'EUR', events: scenario().events, invoices, until: '2027-02-01T12:00:00Z' });
    expect(timeline.days).toHaveLength(32);
    expect(timeline.days[0]).toEqual({ date: '2027-01-01', billable: 1, paid: 1 });
    expect(timeline.days[9]).toEqual({ date: '2027-01-10', billable: 2, paid: 2 });
    expect(timeline.days[31]).toEqual({ date: '2027-02-01', billable: 2, paid: 2 });
    expect(timeline.invoices[1]).toEqual({ id: 'inv_acme_2027-02-01_renewal', kind: 'renewal', date: '2027-02-01', charges: '3345.26', credits: '-5', amountDue: '3340.26' });
    expect(timeline.periodStarts).toEqual(['2027-01-01', '2027-02-01']);
  });

  test('amounts are formatted for the workspace locale (default en-US), exactly from their decimal strings', () => {
    const [us] = renderScenarioDocuments(scenario(), { invoices, balances: {} });
    expect(us.html).toContain('>€1,234.56<');
    const [de] = renderScenarioDocuments(scenario('de-DE'), { invoices, balances: {} });
    expect(de.html).toContain('<html lang="de-DE">');
    expect(de.html).toContain(`>${formatMoney('1234.56', 'EUR', 'de-DE')}<`);
    expect(formatMoney('1234.56', 'EUR', 'de-DE')).toBe('1.234,56\u00a0€');
    expect(formatMoney('12345678901.2345', 'USD', 'en-US')).toBe('$12,345,678,901.2345');
    expect(formatMoney('-0.10', 'JPY', 'en-US')).toBe('-¥0.10');
  });

  test('an invoice number is shown when present', () => {
    const [page] = renderScenarioDocuments(scenario(), { invoices, balances: {} });
    expect(page.html).toContain('<h2>Invoice ACME-1</h2>');
    expect(page.html).toContain('data-invoice-id="inv_acme_2027-02-01_renewal">');
  });

  test('an invalid locale is refused naming the field', () => {
    expect(() => scenario('xx_invalid!')).toThrow(/workspaces\.0\.locale/);
  });
});
