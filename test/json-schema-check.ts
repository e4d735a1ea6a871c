/**
 * JSON Schema validation for the tests, done by ajv: `Ajv2020` for the draft 2020-12 files in
 * `schemas/` (what `z.toJSONSchema` writes by default), `ajv-draft-04` for the EventBridge
 * registry documents (`registryDocumentOf`, draft 4), `ajv-formats` for `date` and `date-time`.
 * Strict mode is on, so a keyword or format ajv does not know makes the schema fail to compile
 * instead of being skipped; only the `x-amazon-events-*` annotations of the registry documents
 * are declared. This file only turns ajv's errors into the `path: problem` lines the tests
 * compare; `test/unit/json-schema-check.test.ts` shows it refusing documents.
 */
import type { ErrorObject, Options, ValidateFunction } from 'ajv';
import type AjvCore from 'ajv/dist/core';
import Ajv2020 from 'ajv/dist/2020';
import AjvDraft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';

type Schema = Record<string, unknown>;

const DRAFT_04 = 'http://json-schema.org/draft-04/schema#';

/** Keys AWS's event schemas carry for the registry's code bindings: annotations, never a check. */
const AMAZON_ANNOTATIONS = ['x-amazon-events-source', 'x-amazon-events-detail-type'];

// addUsedSchema: false because the tests read the same file (same `$id`) into fresh objects;
// registering each by `$id` would make the second compile throw.
const OPTIONS: Options = { strict: true, allErrors: true, addUsedSchema: false };

function configure<T extends AjvCore>(ajv: T): T {
  addFormats(ajv, ['date', 'date-time']);
  for (const keyword of AMAZON_ANNOTATIONS) ajv.addKeyword({ keyword, schemaType: 'string' });
  return ajv;
}

const draft2020 = configure(new Ajv2020(OPTIONS));
const draft04 = configure(new AjvDraft04(OPTIONS));

/**
 * Compiled validators by schema object, then by schema text: each schema is compiled once, even
 * when a test reads the same file again into a fresh object (compiling is what costs, not the
 * `JSON.stringify`).
 */
const byObject = new WeakMap<Schema, ValidateFunction>();
const byText = new Map<string, ValidateFunction>();

function compile(schema: Schema): ValidateFunction {
  const known = byObject.get(schema);
  if (known) return known;
  const text = JSON.stringify(schema);
  let validate = byText.get(text);
  if (!validate) {
    validate = (schema.$schema === DRAFT_04 ? draft04 : draft2020).compile(schema);
    byText.set(text, validate);
  }
  byObject.set(schema, validate);
  return validate;
}

/** `/balances/acme/0` → `$.balances.acme[0]`; keys that are not identifiers as `["detail-type"]`. */
function pathOf(instancePath: string): string {
  if (instancePath === '') return '$';
  return `$${instancePath
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((key) => (/^\d+$/.test(key) ? `[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`))
    .join('')}`;
}

function messageOf(error: ErrorObject): string {
  const path = pathOf(error.instancePath);
  if (error.keyword === 'additionalProperties' && error.params.additionalProperty !== undefined) return `${path}: unknown property ${String(error.params.additionalProperty)}`;
  // Errors of a `propertyNames` subschema are about the key, not the value at instancePath.
  const key = error.propertyName === undefined ? path : `${path}[${JSON.stringify(error.propertyName)}]`;
  return `${key}: ${error.message ?? error.keyword}`;
}

/**
 * The errors of `value` against `schema`, as `path: problem` lines (`$.a.b[0]: must be string`,
 * `$: unknown property x`); empty when it is valid. Throws if the schema itself does not compile
 * in strict mode (an unknown keyword or format).
 */
export function validateJsonSchema(schema: Schema, value: unknown): string[] {
  const validate = compile(schema);
  return validate(value) ? [] : (validate.errors ?? []).map(messageOf);
}
