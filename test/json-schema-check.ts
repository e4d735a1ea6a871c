/**
 * A small JSON Schema validator for the tests: exactly the keywords `z.toJSONSchema` writes in
 * `schemas/` (draft 2020-12) and in the EventBridge registry documents (draft 4), and nothing
 * else. Any other keyword throws, so a schema can never pass because a keyword was skipped.
 * A maintained validator (ajv) is not installed; this one is checked by its own tests
 * (`test/unit/json-schema-check.test.ts`) on documents it must refuse.
 */

type Schema = Record<string, unknown>;

/** Keywords that only annotate; they never fail a document. */
const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description', 'default', 'x-amazon-events-source', 'x-amazon-events-detail-type']);

const FORMATS: Record<string, RegExp> = {
  date: /^\d{4}-\d{2}-\d{2}$/,
  'date-time': /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/,
};

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function hasType(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

/** The errors of `value` against `schema`, as `path: problem` lines; empty when it is valid. */
export function validateJsonSchema(schema: Schema | boolean, value: unknown, path = '$'): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${path}: no value is allowed here`];
  const errors: string[] = [];
  const fail = (problem: string) => errors.push(`${path}: ${problem}`);
  for (const [keyword, rule] of Object.entries(schema)) {
    if (ANNOTATIONS.has(keyword)) continue;
    switch (keyword) {
      case 'type': {
        const types = Array.isArray(rule) ? (rule as string[]) : [rule as string];
        if (!types.some((type) => hasType(value, type))) fail(`expected ${types.join(' or ')}, got ${typeOf(value)}`);
        break;
      }
      case 'enum':
        if (!(rule as unknown[]).some((option) => JSON.stringify(option) === JSON.stringify(value))) fail(`expected one of ${JSON.stringify(rule)}`);
        break;
      case 'const':
        if (JSON.stringify(rule) !== JSON.stringify(value)) fail(`expected ${JSON.stringify(rule)}`);
        break;
      case 'pattern':
        if (typeof value === 'string' && !new RegExp(rule as string, 'u').test(value)) fail(`does not match ${String(rule)}`);
        break;
      case 'format': {
        const format = FORMATS[rule as string];
        if (!format) throw new Error(`${path}: unknown format ${String(rule)}`);
        if (typeof value === 'string' && !format.test(value)) fail(`is not a ${String(rule)}`);
        break;
      }
      case 'minLength':
        if (typeof value === 'string' && [...value].length < (rule as number)) fail(`shorter than ${String(rule)}`);
        break;
      case 'maxLength':
        if (typeof value === 'string' && [...value].length > (rule as number)) fail(`longer than ${String(rule)}`);
        break;
      case 'minimum':
        // Draft 4 makes exclusiveMinimum a boolean modifier of minimum.
        if (typeof value === 'number' && (schema.exclusiveMinimum === true ? value <= (rule as number) : value < (rule as number))) fail(`below the minimum ${String(rule)}`);
        break;
      case 'maximum':
        if (typeof value === 'number' && (schema.exclusiveMaximum === true ? value >= (rule as number) : value > (rule as number))) fail(`above the maximum ${String(rule)}`);
        break;
      case 'exclusiveMinimum':
        if (typeof rule === 'number' && typeof value === 'number' && value <= rule) fail(`not above ${rule}`);
        break;
      case 'exclusiveMaximum':
        if (typeof rule === 'number' && typeof value === 'number' && value >= rule) fail(`not below ${rule}`);
        break;
      case 'minItems':
        if (Array.isArray(value) && value.length < (rule as number)) fail(`fewer than ${String(rule)} items`);
        break;
      case 'maxItems':
        if (Array.isArray(value) && value.length > (rule as number)) fail(`more than ${String(rule)} items`);
        break;
      case 'items':
        if (Array.isArray(value)) for (const [index, item] of value.entries()) errors.push(...validateJsonSchema(rule as Schema, item, `${path}[${index}]`));
        break;
      case 'required':
        if (typeOf(value) === 'object') for (const key of rule as string[]) if (!(key in (value as object))) fail(`missing ${key}`);
        break;
      case 'properties':
        if (typeOf(value) === 'object') {
          for (const [key, property] of Object.entries(rule as Record<string, Schema>)) {
            if (Object.hasOwn(value as object, key)) errors.push(...validateJsonSchema(property, (value as Record<string, unknown>)[key], `${path}.${key}`));
          }
        }
        break;
      case 'additionalProperties':
        if (typeOf(value) === 'object') {
          const known = new Set(Object.keys((schema.properties as object | undefined) ?? {}));
          for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
            if (!known.has(key)) errors.push(...validateJsonSchema(rule as Schema | boolean, field, `${path}.${key}`).map((error) => (rule === false ? `${path}: unknown property ${key}` : error)));
          }
        }
        break;
      case 'propertyNames':
        if (typeOf(value) === 'object') for (const key of Object.keys(value as object)) errors.push(...validateJsonSchema(rule as Schema, key, `${path}[${JSON.stringify(key)}]`));
        break;
      case 'anyOf':
        if (!(rule as Schema[]).some((option) => validateJsonSchema(option, value, path).length === 0)) fail('matches none of anyOf');
        break;
      case 'oneOf': {
        const matches = (rule as Schema[]).filter((option) => validateJsonSchema(option, value, path).length === 0).length;
        if (matches !== 1) fail(`matches ${matches} of oneOf, not exactly one`);
        break;
      }
      default:
        throw new Error(`${path}: keyword ${keyword} is not supported by this validator`);
    }
  }
  return errors;
}
