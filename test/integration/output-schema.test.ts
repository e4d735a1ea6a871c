/**
 * The simulator's `--json` document and the engine's events, as bundled scenarios produce
 * them, against the published schemas (`schemas/simulation-output.json`,
 * `schemas/engine-events/*.json`) and the zod schemas they are generated from.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENGINE_EVENT_DETAIL_SCHEMAS, publishedDetailSchema, type EngineDetailType } from '../../shared/contracts/outputs';
import { simulationOutputSchema } from '../../simulator/output-schema';
import { startLocalDynamo, type LocalDynamo } from '../../simulator/dynamo-local';
import { loadScenarioFile, toOutputDocument } from '../../simulator/run-scenario';
import { simulate } from '../../simulator/simulate';
import { validateJsonSchema } from '../json-schema-check';

const ROOT = join(__dirname, '..', '..');
const schema = (file: string) => JSON.parse(readFileSync(join(ROOT, 'schemas', file), 'utf8')) as Record<string, unknown>;
const kebab = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-');

/** One monthly with churn, one annual with true-ups, upgrades with credits, rejections of every reason, a fixed-seat warning. */
const SCENARIOS = ['churn-every-day.json', 'annual-true-up.json', 'plan-changes.json', 'rejection-reasons.json', 'fixed-seats-and-late-event.json', 'ai-credits.json'];

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startLocalDynamo();
}, 60000);
afterAll(async () => {
  await dynamo?.stop();
});

describe('simulation output against schemas/simulation-output.json', () => {
  const seenDetailTypes = new Set<string>();

  test.each(SCENARIOS)('%s', async (file) => {
    const result = await simulate(await loadScenarioFile(join(ROOT, 'scenarios', file)), dynamo);
    // As `--json` prints it and a consumer reads it back.
    const document: unknown = JSON.parse(JSON.stringify(toOutputDocument(result)));
    expect(validateJsonSchema(schema('simulation-output.json'), document)).toEqual([]);
    // Parsing strips unknown keys: equal means the zod schema names every field the engine writes.
    expect(simulationOutputSchema.parse(document)).toEqual(document);
    expect(result.invoices.length + result.rejections.length).toBeGreaterThan(0);

    // Every event the engine published, with the eventId the EventBridge publisher adds.
    for (const event of result.events) {
      seenDetailTypes.add(event.detailType);
      const detail: unknown = JSON.parse(JSON.stringify({ ...event.detail, eventId: event.id }));
      expect(validateJsonSchema(schema(`engine-events/${kebab(event.detailType)}.json`), detail)).toEqual([]);
      expect(publishedDetailSchema(event.detailType as EngineDetailType).parse(detail)).toEqual(detail);
    }
  });

  test('the scenarios above publish every engine detail-type', () => {
    expect([...seenDetailTypes].sort()).toEqual(Object.keys(ENGINE_EVENT_DETAIL_SCHEMAS).sort());
  });
});

describe('npm run simulate -- FILE --json', () => {
  test('prints a document valid against schemas/simulation-output.json', async () => {
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'simulator', 'cli.ts'), join(ROOT, 'scenarios', 'upgrade-next-invoice.json'), '--json'],
        { cwd: ROOT, timeout: 90000 },
        (error, out) => (error ? reject(error) : resolve(out)),
      );
    });
    const document: unknown = JSON.parse(stdout);
    expect(validateJsonSchema(schema('simulation-output.json'), document)).toEqual([]);
    expect(simulationOutputSchema.parse(document)).toEqual(document);
  }, 90000);

  test('a document with a field the schema does not name is refused (the check can fail)', () => {
    const bad = { invoices: [], rejections: [], balances: { acme: { billingCredit: '0.00', aiCredits: 0, extra: 1 } }, events: [] };
    expect(validateJsonSchema(schema('simulation-output.json'), bad)).toEqual(['$.balances.acme: unknown property extra']);
  });
});
