import { z } from 'zod';
import { ENGINE_EVENT_DETAIL_SCHEMAS, publishedDetailSchema, type EngineDetailType } from './outputs';

/** A JSON Schema document as `z.toJSONSchema` writes it. */
export type JsonSchema = Record<string, unknown>;

/** One published contract: where it is written in `schemas/`, its title, and the zod schema it comes from. */
export interface PublishedSchema {
  /** Path under `schemas/`, e.g. `engine-events/invoice-issued.json`. */
  file: string;
  title: string;
  description: string;
  schema: z.ZodType;
  /**
   * `input` for what a caller sends (defaults may be left out, unknown keys are not refused
   * where the engine ignores them), `output` for what the engine returns or publishes.
   */
  io: 'input' | 'output';
}

/** The `$id` of a published schema: a URN rather than a URL, as nothing serves these files. */
export function schemaIdOf(file: string): string {
  return `urn:prorata:schema:${file.replace(/\.json$/, '')}`;
}

/**
 * The JSON Schema (draft 2020-12, zod's default) of a published contract, with `$id`, title and
 * description first. Deterministic: the same zod schema always gives the same document, which
 * is what lets a test compare the committed files with a fresh generation.
 */
export function toPublishedJsonSchema(entry: PublishedSchema): JsonSchema {
  const { $schema, ...body } = z.toJSONSchema(entry.schema, { io: entry.io, unrepresentable: 'throw' }) as JsonSchema;
  return { $schema, $id: schemaIdOf(entry.file), title: entry.title, description: entry.description, ...body };
}

/** The file text of a published schema: two-space JSON and a final newline, as committed. */
export function renderJsonSchema(entry: PublishedSchema): string {
  return `${JSON.stringify(toPublishedJsonSchema(entry), null, 2)}\n`;
}

/** The schema name of an engine event in the EventBridge registry, e.g. `prorata@InvoiceIssued` (AWS's `source@DetailType` convention). */
export function registrySchemaNameOf(detailType: EngineDetailType): string {
  return `prorata@${detailType.replace(/\s+/g, '')}`;
}

/**
 * The EventBridge schema registry document of an engine event: the whole event (envelope and
 * detail) as JSON Schema draft 4, the only JSON Schema draft the registry accepts
 * (`JSONSchemaDraft4`); zod writes draft 4 itself (`target: 'draft-4'`). The
 * `x-amazon-events-*` keys are what the registry's code bindings read the source and
 * detail-type from.
 */
export function registryDocumentOf(detailType: EngineDetailType, source: string): JsonSchema {
  const { $schema, ...detail } = z.toJSONSchema(publishedDetailSchema(detailType), { io: 'output', target: 'draft-4', unrepresentable: 'throw' }) as JsonSchema;
  return {
    $schema,
    title: detailType,
    description: `The ${detailType} event the Prorata engine publishes on its bus (source ${source}).`,
    'x-amazon-events-source': source,
    'x-amazon-events-detail-type': detailType,
    type: 'object',
    properties: {
      version: { type: 'string' },
      id: { type: 'string' },
      'detail-type': { type: 'string', enum: [detailType] },
      source: { type: 'string', enum: [source] },
      account: { type: 'string' },
      time: { type: 'string', format: 'date-time' },
      region: { type: 'string' },
      resources: { type: 'array', items: { type: 'string' } },
      detail,
    },
    required: ['detail-type', 'source', 'detail'],
  };
}

/** Every detail-type the engine publishes. */
export const ENGINE_DETAIL_TYPES = Object.keys(ENGINE_EVENT_DETAIL_SCHEMAS) as EngineDetailType[];
