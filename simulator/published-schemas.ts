import { changeInvocationSchema, EVENT_DETAIL_SCHEMAS, jobInvocationSchema, type EventType } from '../shared/contracts/events';
import { ENGINE_DETAIL_TYPES, renderJsonSchema, type PublishedSchema } from '../shared/contracts/json-schema';
import { changeResultSchema, jobResultSchema, publishedDetailSchema } from '../shared/contracts/outputs';
import { simulationOutputSchema } from './output-schema';
import { scenarioSchema } from './scenario';

/** `Invoice Issued` → `invoice-issued`. */
function kebab(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
}

/**
 * Every contract Prorata publishes in `schemas/` (README, "Contracts"): what the app sends and
 * the engine publishes on the bus, what the on-demand functions take and return, and the
 * simulator's input and output. `npm run schemas` writes them; a test fails when they drift.
 */
export const PUBLISHED_SCHEMAS: readonly PublishedSchema[] = [
  {
    file: 'scenario.json',
    title: 'Prorata scenario',
    description: "The simulator's input document (scenario-format.md, Input): catalog, workspaces, events and the instant to replay until.",
    schema: scenarioSchema,
    io: 'input',
  },
  {
    file: 'simulation-output.json',
    title: 'Prorata simulation output',
    description: "What `npm run simulate -- FILE --json` prints (scenario-format.md, Output): invoices, rejections, balances and the engine's other events.",
    schema: simulationOutputSchema,
    io: 'output',
  },
  ...(Object.keys(EVENT_DETAIL_SCHEMAS) as EventType[]).map(
    (type): PublishedSchema => ({
      file: `app-events/${type}.json`,
      title: `${type} detail`,
      description: `The detail of an app event with detail-type "${type}" on the prorata bus (any source but "prorata"), as the ingest rule accepts it. "at" defaults to the envelope time.`,
      schema: EVENT_DETAIL_SCHEMAS[type],
      io: 'input',
    }),
  ),
  ...ENGINE_DETAIL_TYPES.map(
    (detailType): PublishedSchema => ({
      file: `engine-events/${kebab(detailType)}.json`,
      title: `${detailType} detail`,
      description: `The detail of the "${detailType}" event the engine publishes on the prorata bus (source "prorata"). "eventId" is the same on every retry of one event: deduplicate on it.`,
      schema: publishedDetailSchema(detailType),
      io: 'output',
    }),
  ),
  {
    file: 'job-invocation.json',
    title: 'Prorata job invocation',
    description: "The payload of the invoicing and accrual functions: the schedule's {scheduledTime}, or on demand {asOf, workspace?, dryRun?}.",
    schema: jobInvocationSchema,
    io: 'input',
  },
  {
    file: 'job-result.json',
    title: 'Prorata job result',
    description: "What the invoicing and accrual functions return: the run's report (one workspace, or a dry run) or the dispatch report of a fanned-out run.",
    schema: jobResultSchema,
    io: 'output',
  },
  {
    file: 'changes-request.json',
    title: 'Prorata changes request',
    description: 'The payload of the changes function (R19): a plan, seats, storage add-on or AI credit pack change, previewed (the default) or applied.',
    schema: changeInvocationSchema,
    io: 'input',
  },
  {
    file: 'changes-response.json',
    title: 'Prorata changes response',
    description: "What the changes function returns: the change's invoice, accruals, period-end effect and balance (applied or preview), or its rejection.",
    schema: changeResultSchema,
    io: 'output',
  },
];

/** Each published schema's file text, by path under `schemas/`. */
export function renderPublishedSchemas(): Map<string, string> {
  return new Map(PUBLISHED_SCHEMAS.map((entry) => [entry.file, renderJsonSchema(entry)]));
}
