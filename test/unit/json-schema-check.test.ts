import { validateJsonSchema } from '../json-schema-check';

describe("the tests' JSON Schema check (ajv behind validateJsonSchema)", () => {
  const schema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    properties: {
      id: { type: 'string' },
      on: { type: 'string', format: 'date' },
      lines: { type: 'array', items: { type: 'object', properties: { quantity: { type: 'integer' } }, additionalProperties: false } },
      map: { type: 'object', propertyNames: { type: 'string', pattern: '^[A-Z]{3}$' }, additionalProperties: { type: 'string' } },
    },
    required: ['id'],
    additionalProperties: false,
  };

  test('accepts a valid document', () => {
    expect(validateJsonSchema(schema, { id: 'a', on: '2027-01-01', lines: [{ quantity: 3 }], map: { USD: '1' } })).toEqual([]);
  });

  test.each([
    [{}, "$: must have required property 'id'"],
    [{ id: 'a', untill: 1 }, '$: unknown property untill'],
    [{ id: 'a', on: '1 Jan' }, '$.on: must match format "date"'],
    [{ id: 'a', lines: [{ quantity: 3 }, { quantity: 1.5 }] }, '$.lines[1].quantity: must be integer'],
    [{ id: 'a', lines: [{ quantity: 3, extra: 1 }] }, '$.lines[0]: unknown property extra'],
    [{ id: 'a', map: { USD: 1 } }, '$.map.USD: must be string'],
    [{ id: 'a', map: { 'detail-type': '1' } }, '$.map["detail-type"]: must match pattern "^[A-Z]{3}$"'],
  ])('refuses %j with its path', (value, error) => {
    expect(validateJsonSchema(schema, value)).toContain(error);
  });

  test('reports every error, not only the first', () => {
    expect(validateJsonSchema(schema, { on: 'soon', extra: 1 })).toEqual(["$: must have required property 'id'", '$: unknown property extra', '$.on: must match format "date"']);
  });

  test('a draft-4 document is validated as draft 4: a boolean exclusiveMinimum makes minimum exclusive', () => {
    const draft4 = { $schema: 'http://json-schema.org/draft-04/schema#', 'x-amazon-events-source': 'prorata', type: 'integer', minimum: 0, exclusiveMinimum: true };
    expect(validateJsonSchema(draft4, 0)).toEqual(['$: must be > 0']);
    expect(validateJsonSchema(draft4, 1)).toEqual([]);
  });

  test('strict: an unknown keyword or format throws instead of passing', () => {
    expect(() => validateJsonSchema({ type: 'string', untill: 1 }, 'x')).toThrow(/unknown keyword: "untill"/);
    expect(() => validateJsonSchema({ type: 'string', format: 'email' }, 'x')).toThrow(/unknown format "email"/);
  });
});
