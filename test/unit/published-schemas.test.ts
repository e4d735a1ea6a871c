import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { EVENT_DETAIL_SCHEMAS } from '../../shared/contracts/events';
import { ENGINE_DETAIL_TYPES, registryDocumentOf } from '../../shared/contracts/json-schema';
import { PUBLISHED_SCHEMAS, renderPublishedSchemas } from '../../simulator/published-schemas';
import { validateJsonSchema } from '../json-schema-check';

const ROOT = join(__dirname, '..', '..');
const SCHEMAS = join(ROOT, 'schemas');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

function committed(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(SCHEMAS, file), 'utf8')) as Record<string, unknown>;
}

describe('schemas/ is what the zod schemas generate (run `npm run schemas` after changing a contract)', () => {
  const rendered = renderPublishedSchemas();

  test.each([...rendered.keys()])('%s is committed byte for byte', (file) => {
    expect(readFileSync(join(SCHEMAS, file), 'utf8')).toBe(rendered.get(file));
  });

  test('no file in schemas/ is left over from a contract no longer published', () => {
    expect(
      filesUnder(SCHEMAS)
        .map((path) => relative(SCHEMAS, path))
        .sort(),
    ).toEqual([...rendered.keys()].sort());
  });

  test('each schema has a unique $id and a title', () => {
    const ids = PUBLISHED_SCHEMAS.map((entry) => committed(entry.file).$id);
    expect(new Set(ids).size).toBe(PUBLISHED_SCHEMAS.length);
    for (const entry of PUBLISHED_SCHEMAS) expect(committed(entry.file)).toMatchObject({ $id: expect.stringMatching(/^urn:prorata:schema:/), title: expect.any(String) });
  });
});

describe('every contract is published', () => {
  test('one schema per app event type the ingest rule accepts', () => {
    for (const type of Object.keys(EVENT_DETAIL_SCHEMAS)) expect(renderPublishedSchemas().has(`app-events/${type}.json`)).toBe(true);
  });

  test('one schema per detail-type the engine publishes (every enqueueEvent/outboxPut in the source)', () => {
    const sources = filesUnder(join(ROOT, 'shared'))
      .filter((path) => path.endsWith('.ts'))
      .map((path) => readFileSync(path, 'utf8'));
    const published = new Set(sources.flatMap((text) => [...text.matchAll(/(?:enqueueEvent|outboxPut)\([^,]+,\s*'([^']+)'/g)].map((match) => match[1])));
    expect(published.size).toBeGreaterThanOrEqual(3);
    expect([...published].sort()).toEqual([...ENGINE_DETAIL_TYPES].sort());
  });
});

describe('the committed schemas accept what the engine takes and refuse what it refuses', () => {
  const scenarioFiles = readdirSync(join(ROOT, 'scenarios')).filter((name) => name.endsWith('.json'));

  test.each(scenarioFiles)('scenarios/%s is valid against scenario.json', (name) => {
    const scenario: unknown = JSON.parse(readFileSync(join(ROOT, 'scenarios', name), 'utf8'));
    expect(validateJsonSchema(committed('scenario.json'), scenario)).toEqual([]);
  });

  test('a scenario with a misspelt top-level key is refused', () => {
    const scenario = JSON.parse(readFileSync(join(ROOT, 'scenarios', scenarioFiles[0]), 'utf8')) as Record<string, unknown>;
    expect(validateJsonSchema(committed('scenario.json'), { ...scenario, untill: scenario.until })).toEqual(['$: unknown property untill']);
  });

  test('changes request: a preview is valid, a change without its plan or with an unknown field is not', () => {
    const schema = committed('changes-request.json');
    const request = { workspace: 'acme', change: { type: 'plan.change_requested', plan: 'ubiz' }, requestedBy: 'u1', asOf: '2027-01-10T09:00:00Z' };
    expect(validateJsonSchema(schema, request)).toEqual([]);
    expect(validateJsonSchema(schema, { ...request, change: { type: 'plan.change_requested' } })).not.toEqual([]);
    expect(validateJsonSchema(schema, { ...request, dryrun: true })).toEqual(['$: unknown property dryrun']);
  });

  test('job invocation: the schedule input and an on-demand input are valid, a bad asOf is not', () => {
    const schema = committed('job-invocation.json');
    expect(validateJsonSchema(schema, { scheduledTime: '2027-01-01T00:05:00Z' })).toEqual([]);
    expect(validateJsonSchema(schema, { asOf: '2027-01-01', workspace: 'acme', dryRun: true })).toEqual([]);
    expect(validateJsonSchema(schema, { asOf: 'yesterday' })).not.toEqual([]);
  });

  test('an app event detail: a negative seat count is refused', () => {
    const schema = committed('app-events/seats.purchased.json');
    expect(validateJsonSchema(schema, { workspace: 'acme', seats: 2, requestedBy: 'u1' })).toEqual([]);
    expect(validateJsonSchema(schema, { workspace: 'acme', seats: -2, requestedBy: 'u1' })).toEqual(['$.seats: must be > 0']);
  });
});

describe('EventBridge registry documents', () => {
  const invoice = {
    id: 'inv_acme_2027-01-01_renewal',
    number: 'ACME-3ZJJ-0001',
    workspace: 'acme',
    subscription: 'sub_acme_1',
    kind: 'renewal',
    date: '2027-01-01',
    currency: 'USD',
    periodStart: '2027-01-01',
    periodEnd: '2027-01-31',
    lines: [{ kind: 'seats', description: 'uPro × 3 seats, January 2027', quantity: 3, unitAmount: '70.00', amount: '210.00', periodStart: '2027-01-01', periodEnd: '2027-01-31' }],
    subtotal: '210.00',
    creditApplied: '0.00',
    amountDue: '210.00',
  };
  const event = (detail: object) => ({
    version: '0',
    id: 'e1',
    'detail-type': 'Invoice Issued',
    source: 'prorata',
    account: '1',
    time: '2027-01-01T00:05:10Z',
    region: 'eu-west-1',
    resources: [],
    detail,
  });

  test('are JSON Schema draft 4 (what JSONSchemaDraft4 accepts): no 2020-12 keyword', () => {
    for (const detailType of ENGINE_DETAIL_TYPES) {
      const text = JSON.stringify(registryDocumentOf(detailType, 'prorata'));
      expect(JSON.parse(text).$schema).toBe('http://json-schema.org/draft-04/schema#');
      for (const keyword of ['"const"', '"propertyNames"', '"$defs"', '"exclusiveMinimum":0', '"prefixItems"']) expect(text).not.toContain(keyword);
    }
  });

  test('an Invoice Issued event as the publisher puts it validates; one without eventId or of another source does not', () => {
    const schema = registryDocumentOf('Invoice Issued', 'prorata');
    expect(validateJsonSchema(schema, event({ ...invoice, eventId: invoice.id }))).toEqual([]);
    const { lines, ...header } = invoice;
    expect(validateJsonSchema(schema, event({ ...header, lineCount: lines.length, linesOmitted: true, eventId: invoice.id }))).toEqual([]);
    expect(validateJsonSchema(schema, event(invoice))).not.toEqual([]);
    expect(validateJsonSchema(schema, { ...event({ ...invoice, eventId: invoice.id }), source: 'app' })).not.toEqual([]);
  });
});
