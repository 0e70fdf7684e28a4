import { StateConflict } from '@oms/common';
import { prop } from '../../../test/support/schema-fixtures';
import { DocumentSchemaValidator, referenceValues, toJsonSchema, withoutNulls } from './document-schema';
import { DataType, ObjectTypeDefinition } from './object-type.model';

const PERSON: ObjectTypeDefinition = {
  name: 'Person',
  primaryKey: 'code',
  properties: [
    prop('code', 'string'), // the primary key: required although not declared so
    prop('name', 'string', { required: true }),
    prop('bio', 'text'),
    prop('age', 'integer'),
    prop('height', 'decimal'),
    prop('active', 'boolean'),
    prop('born', 'date'),
    prop('seen', 'datetime'),
    prop('status', 'enum', { enumValues: ['active', 'retired'] }),
    prop('employer', 'reference', { referenceType: 'Company' }),
    prop('friends', 'reference', { referenceType: 'Person', array: true }),
    prop('tags', 'string', { array: true }),
    prop('extra', 'json'),
  ],
};

const VALID = {
  code: 'p-1',
  name: 'Ada',
  bio: 'A long text',
  age: 36,
  height: 1.65,
  active: true,
  born: '1815-12-10',
  seen: '2024-01-01T12:00:00+01:00',
  status: 'retired',
  employer: 'c-1',
  friends: ['p-2', 'p-3'],
  tags: [],
  extra: { anything: [1, 'two', null] },
};

describe('toJsonSchema', () => {
  it('closes the object, requires what is required (the primary key too), and types arrays by item', () => {
    const schema = toJsonSchema(PERSON) as {
      additionalProperties: boolean;
      required: string[];
      properties: Record<string, unknown>;
    };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(['code', 'name']);
    expect(schema.properties.tags).toEqual({ type: 'array', items: { type: 'string' } });
    expect(schema.properties.status).toEqual({ type: 'string', enum: ['active', 'retired'] });
    expect(schema.properties.extra).toEqual({});
  });
});

describe('DocumentSchemaValidator', () => {
  const validator = new DocumentSchemaValidator();
  const validate = (properties: Record<string, unknown>, type = PERSON, version = 1) =>
    validator.validate(type, version, properties);

  it('accepts a document with a valid value of every data type', () => {
    expect(validate(VALID)).toEqual([]);
    expect(validate({ code: 'p-2', name: 'Bob' })).toEqual([]);
  });

  it('reports every violation at once, each at its property', () => {
    const violations = validate({
      name: 7,
      age: 1.5,
      height: '1.65',
      active: 'yes',
      tags: 'one',
      friends: ['p-2', 3],
      nickname: 'x',
    });
    expect(violations).toEqual(
      expect.arrayContaining([
        { path: '/properties/code', message: 'is required' },
        { path: '/properties/name', message: 'must be a string' },
        { path: '/properties/age', message: 'must be an integer' },
        { path: '/properties/height', message: 'must be a number' },
        { path: '/properties/active', message: 'must be a boolean' },
        { path: '/properties/tags', message: 'must be an array' },
        { path: '/properties/friends/1', message: 'must be a string' },
        { path: '/properties/nickname', message: 'is not a property of Person' },
      ]),
    );
    expect(violations).toHaveLength(8);
  });

  it('says which values an enum allows, and what a date and a date-time look like', () => {
    expect(validate({ ...VALID, status: 'dead' })).toEqual([
      { path: '/properties/status', message: 'must be one of: active, retired' },
    ]);
    for (const born of ['1815-13-10', '1815-02-30', '10/12/1815', '1815-12-10T00:00:00Z']) {
      expect(validate({ ...VALID, born })).toEqual([
        { path: '/properties/born', message: 'must be a date (YYYY-MM-DD)' },
      ]);
    }
    for (const seen of ['2024-01-01T12:00:00', '2024-01-01', '2024-01-01T25:00:00Z']) {
      expect(validate({ ...VALID, seen })).toEqual([
        { path: '/properties/seen', message: 'must be a date-time with a time zone (RFC 3339)' },
      ]);
    }
    expect(validate({ ...VALID, seen: '2024-01-01T12:00:00.123Z' })).toEqual([]);
  });

  it('holds integers to what a double holds exactly, and references to a non-empty id', () => {
    expect(validate({ ...VALID, age: Number.MAX_SAFE_INTEGER })).toEqual([]);
    expect(validate({ ...VALID, age: -Number.MAX_SAFE_INTEGER })).toEqual([]);
    expect(validate({ ...VALID, age: 2 ** 53 })).toEqual([
      expect.objectContaining({ path: '/properties/age' }),
    ]);
    expect(validate({ ...VALID, employer: '' })).toEqual([
      expect.objectContaining({ path: '/properties/employer' }),
    ]);
  });

  it("looks up a document's own members only: a property named like Object.prototype's is not found there", () => {
    const odd: ObjectTypeDefinition = {
      name: 'Odd',
      properties: [
        prop('constructor', 'string', { required: true }),
        prop('valueOf', 'integer', { required: true }),
      ],
    };
    expect(validate({}, odd)).toEqual([
      { path: '/properties/constructor', message: 'is required' },
      { path: '/properties/valueOf', message: 'is required' },
    ]);
    expect(validate({ constructor: 'c', valueOf: 1 }, odd)).toEqual([]);
    expect(validate({ toString: 'x', constructor: 'c', valueOf: 1 }, odd)).toEqual([
      { path: '/properties/toString', message: 'is not a property of Odd' },
    ]);
  });

  it('compiles a definition once per version, and a new version anew', () => {
    const v1: ObjectTypeDefinition = { name: 'Note', properties: [prop('text', 'string')] };
    const v2: ObjectTypeDefinition = { name: 'Note', properties: [prop('text', 'integer')] };
    expect(validator.validate(v1, 10, { text: 'hello' })).toEqual([]);
    expect(validator.validate(v2, 11, { text: 'hello' })).toEqual([
      { path: '/properties/text', message: 'must be an integer' },
    ]);
    // name@version names one stored definition (versions are commit numbers): compiled once, then reused.
    expect(validator.validate(v2, 10, { text: 'again' })).toEqual([]);
    expect(validator.validate(v1, 11, { text: 'again' })).toEqual([
      { path: '/properties/text', message: 'must be an integer' },
    ]);
  });

  it('drafts a validator for a definition not stored yet, and refuses one today’s rules cannot compile', () => {
    const draft = validator.draft({ name: 'Draft', properties: [prop('n', 'integer', { required: true })] });
    expect(draft({ n: 1 })).toEqual([]);
    expect(draft({})).toEqual([{ path: '/properties/n', message: 'is required' }]);
    const legacy = { name: 'Legacy', properties: [prop('x', 'money' as DataType)] };
    expect(() => validator.draft(legacy)).toThrow(StateConflict);
    expect(() => validator.validate(legacy, 1, {})).toThrow(StateConflict);
  });

  it('tells why one value is not a valid value of a property, by the same rules as documents', () => {
    expect(validator.valueProblem(prop('age', 'integer'), 36)).toBeUndefined();
    expect(validator.valueProblem(prop('age', 'integer'), 1.5)).toBe('must be an integer');
    expect(validator.valueProblem(prop('age', 'integer'), 2 ** 53)).toBeDefined();
    expect(validator.valueProblem(PERSON.properties[8]!, 'dead')).toBe('must be one of: active, retired');
    expect(validator.valueProblem(PERSON.properties[8]!, 'active')).toBeUndefined();
    expect(validator.valueProblem(prop('born', 'date'), '1815-02-30')).toBe('must be a date (YYYY-MM-DD)');
    expect(validator.valueProblem(prop('tags', 'string', { array: true }), 'one tag')).toBeUndefined();
    expect(validator.valueProblem(prop('extra', 'json'), { any: 'thing' })).toBeUndefined();
  });
});

describe('referenceValues', () => {
  it('lists each non-empty string of a reference property, items of arrays by index', () => {
    expect(referenceValues(PERSON, VALID)).toEqual([
      { path: '/properties/employer', id: 'c-1', referenceType: 'Company' },
      { path: '/properties/friends/0', id: 'p-2', referenceType: 'Person' },
      { path: '/properties/friends/1', id: 'p-3', referenceType: 'Person' },
    ]);
  });

  it('skips what is not a valid reference (left to validation) and what is not one at all', () => {
    expect(referenceValues(PERSON, { employer: '', friends: 'p-2', code: 'c-1' })).toEqual([]);
    expect(referenceValues(PERSON, { employer: 42, friends: [null, '', 'p-9'] })).toEqual([
      { path: '/properties/friends/2', id: 'p-9', referenceType: 'Person' },
    ]);
    const inherited = Object.create({ employer: 'c-1' }) as Record<string, unknown>;
    expect(referenceValues(PERSON, inherited)).toEqual([]);
  });
});

describe('withoutNulls', () => {
  it('drops null members (null is absent), and only at the top', () => {
    expect(withoutNulls({ a: null, b: 0, c: '', d: false, e: { f: null }, g: [null] }, [])).toEqual({
      b: 0,
      c: '',
      d: false,
      e: { f: null },
      g: [null],
    });
  });
});
