import { ValidationError } from '../../shared/domain/errors';
import { csvField, parseCsv, renderInvoicesCsv } from '../../simulator/documents/csv';
import type { DocumentInvoice } from '../../simulator/documents/invoice-document';
import { parseScenario } from '../../simulator/scenario';
import { closestName } from '../../simulator/strict';

function scenario(events: Array<Record<string, unknown>>): Record<string, unknown> {
  return {
    currency: 'USD',
    plans: [
      { id: 'upro-monthly', name: 'uPro', interval: 'month', seatPrice: '70.00' },
      { id: 'upro-annual', name: 'uPro annual', interval: 'year', seatPrice: '700.00' },
    ],
    addons: [{ id: 'storage-1tb', name: 'Storage 1 TB', price: '20.00' }],
    creditPacks: [{ id: 'ai-1000', name: '1,000 AI credits', price: '10.00', credits: 1000 }],
    workspaces: [{ id: 'acme' }],
    events: [{ at: '2026-12-23T09:00:00Z', type: 'member.joined', workspace: 'acme', member: 'u1', role: 'owner' }, ...events],
    until: '2027-01-01T12:00:00Z',
  };
}

function strictError(events: Array<Record<string, unknown>>): ValidationError {
  try {
    parseScenario(scenario(events));
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('parseScenario accepted the scenario');
}

const at = '2026-12-23T10:00:00Z';

describe('strict scenarios: unknown names are refused naming the event and the closest known name', () => {
  test('an event type typo suggests the known type', () => {
    const error = strictError([{ at, type: 'member.joind', workspace: 'acme', member: 'u2' }]);
    expect(error.field).toBe('events.1.type');
    expect(error.message).toBe('events.1.type: unknown event type "member.joind" in event 1 (did you mean "member.joined"?); pass --lenient to replay it anyway as an unsupported rejection');
  });

  test('a plan id typo, an add-on and a pack id typo, a workspace typo', () => {
    expect(strictError([{ at, type: 'subscription.started', workspace: 'acme', plan: 'upro-monthy' }]).message).toMatch(
      /^events\.1\.plan: unknown plan "upro-monthy" in event 1 \(did you mean "upro-monthly"\?\)/,
    );
    expect(strictError([{ at, type: 'subscription.started', workspace: 'acme', plan: 'upro-monthly', addon: 'storage-1t' }]).field).toBe('events.1.addon');
    expect(strictError([{ at, type: 'ai_credit_pack.purchased', workspace: 'acme', pack: 'ai-100', requestedBy: 'u1' }]).message).toMatch(
      /unknown credit pack "ai-100" in event 1 \(did you mean "ai-1000"\?\)/,
    );
    expect(strictError([{ at, type: 'member.joined', workspace: 'acne', member: 'u2' }]).message).toMatch(/^events\.1\.workspace: unknown workspace "acne" .*did you mean "acme"/);
  });

  test('a name far from every known one lists the known names instead of guessing', () => {
    expect(strictError([{ at, type: 'plan.change_requested', workspace: 'acme', plan: 'enterprise', requestedBy: 'u1' }]).message).toMatch(
      /unknown plan "enterprise" in event 1 \(known: upro-monthly, upro-annual\)/,
    );
  });

  test('`addon: null` (remove the add-on) is not a reference', () => {
    expect(() => parseScenario(scenario([{ at, type: 'storage_addon.changed', workspace: 'acme', addon: null, requestedBy: 'u1' }]))).not.toThrow();
  });

  test('lenient accepts them all, for a replay that reports them as rejections', () => {
    const events = [
      { at, type: 'member.joind', workspace: 'acme', member: 'u2' },
      { at, type: 'subscription.started', workspace: 'acme', plan: 'upro-monthy' },
    ];
    expect(parseScenario(scenario(events), { lenient: true }).events).toHaveLength(3);
  });

  test('closestName', () => {
    expect(closestName('jsno', ['json', 'csv', 'html', 'lenient'])).toBe('json');
    expect(closestName('member.joind', ['member.joined', 'member.removed'])).toBe('member.joined');
    expect(closestName('zzz', ['json'])).toBeUndefined();
  });
});

describe('the accounting export is RFC 4180', () => {
  const invoice: DocumentInvoice = {
    id: 'inv_acme_2027-01-01_renewal',
    number: 'ACME-000001',
    workspace: 'acme',
    subscription: 's',
    kind: 'renewal',
    date: '2027-01-01',
    currency: 'USD',
    periodStart: '2027-01-01',
    periodEnd: '2027-01-31',
    subtotal: '9.99',
    creditApplied: '0.00',
    amountDue: '9.99',
    lines: [
      { kind: 'seats', description: 'Plan "Pro", 3 seats,\r\nfirst line', quantity: 3, unitAmount: '3.33', amount: '9.99', periodStart: '2027-01-01', periodEnd: '2027-01-31' },
      { kind: 'proration', description: '=HYPERLINK("x")', quantity: 1, unitAmount: '-0.10', amount: '-0.10', periodStart: '2027-01-05', periodEnd: '2027-01-31' },
    ],
  };

  test('quotes commas, quotes and line breaks, ends rows with CRLF and reads back exactly', () => {
    const csv = renderInvoicesCsv([invoice]);
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(csv.split('\r\n')[1]).toBe('ACME-000001,inv_acme_2027-01-01_renewal,acme,2027-01-01,renewal,seats,"Plan ""Pro"", 3 seats,');
    const rows = parseCsv(csv);
    expect(rows).toHaveLength(3);
    expect(rows[1][6]).toBe('Plan "Pro", 3 seats,\r\nfirst line');
    // A formula in a text column is neutralized; a negative amount stays an exact decimal.
    expect(rows[2][6]).toBe('\'=HYPERLINK("x")');
    expect(rows[2][9]).toBe('-0.10');
    expect(csvField('plain')).toBe('plain');
  });

  test('an invoice without a number leaves the column empty', () => {
    const rest: DocumentInvoice = { ...invoice };
    delete rest.number;
    expect(parseCsv(renderInvoicesCsv([rest]))[1][0]).toBe('');
  });
});
