import { validateJsonSchema } from '../json-schema-check';

describe("the tests' JSON Schema validator", () => {
  const schema = {
    type: 'object',
    properties: {
      id: { type: 'string', pattern: '^[a-z]+$', minLength: 2 },
      seats: { type: 'integer', exclusiveMinimum: 0, maximum: 10 },
      kind: { type: 'string', enum: ['first', 'renewal'] },
      on: { type: 'string', format: 'date' },
      tags: { type: 'array', items: { type: 'string' }, maxItems: 2 },
      note: { anyOf: [{ type: 'string' }, { type: 'null' }] },
      map: { type: 'object', propertyNames: { type: 'string', pattern: '^[A-Z]{3}$' }, additionalProperties: { type: 'string' } },
    },
    required: ['id'],
    additionalProperties: false,
  };

  test('accepts a valid document', () => {
    expect(validateJsonSchema(schema, { id: 'ab', seats: 3, kind: 'first', on: '2027-01-01', tags: ['x'], note: null, map: { USD: '1' } })).toEqual([]);
  });

  test.each([
    [{}, '$: missing id'],
    [{ id: 'AB' }, '$.id: does not match ^[a-z]+$'],
    [{ id: 'a' }, '$.id: shorter than 2'],
    [{ id: 'ab', seats: 0 }, '$.seats: not above 0'],
    [{ id: 'ab', seats: 1.5 }, '$.seats: expected integer, got number'],
    [{ id: 'ab', seats: 11 }, '$.seats: above the maximum 10'],
    [{ id: 'ab', kind: 'other' }, '$.kind: expected one of ["first","renewal"]'],
    [{ id: 'ab', on: '1 Jan' }, '$.on: is not a date'],
    [{ id: 'ab', tags: ['a', 'b', 'c'] }, '$.tags: more than 2 items'],
    [{ id: 'ab', tags: [1] }, '$.tags[0]: expected string, got integer'],
    [{ id: 'ab', note: 3 }, '$.note: matches none of anyOf'],
    [{ id: 'ab', map: { usd: '1' } }, '$.map["usd"]: does not match ^[A-Z]{3}$'],
    [{ id: 'ab', extra: 1 }, '$: unknown property extra'],
  ])('refuses %j', (value, error) => {
    expect(validateJsonSchema(schema, value)).toEqual([error]);
  });

  test('draft 4: a boolean exclusiveMinimum makes minimum exclusive', () => {
    expect(validateJsonSchema({ type: 'integer', minimum: 0, exclusiveMinimum: true }, 0)).toEqual(['$: below the minimum 0']);
    expect(validateJsonSchema({ type: 'integer', minimum: 0, exclusiveMinimum: true }, 1)).toEqual([]);
  });

  test('a keyword it does not know throws instead of passing', () => {
    expect(() => validateJsonSchema({ $ref: '#/x' }, 1)).toThrow(/\$ref is not supported/);
  });
});
