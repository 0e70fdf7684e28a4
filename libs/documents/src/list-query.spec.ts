import { ValidationFailed, Violation } from '@oms/common';
import { DocumentSchemaValidator, ObjectTypeDefinition, PropertyDefinition } from '@oms/schemas';
import { prop } from '../../../test/support/schema-fixtures';
import { PropertyFilter, nextCursor, parseListQuery, toContainment } from './list-query';

/** The violations a call refuses with (it must refuse with ValidationFailed). */
function refused(call: () => unknown): Violation[] {
  try {
    call();
  } catch (error) {
    if (error instanceof ValidationFailed) return error.errors;
    throw error;
  }
  throw new Error('expected a ValidationFailed, got an answer');
}

const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('parseListQuery', () => {
  it('has defaults: branch main, 50 items, by id, from the start, no filters', () => {
    expect(parseListQuery({})).toEqual({
      branch: 'main',
      objectType: undefined,
      limit: 50,
      sort: 'id',
      after: undefined,
      filters: [],
    });
  });

  it('takes the fixed parameters as the query string gives them (strings)', () => {
    expect(
      parseListQuery({ branch: 'feature-1', objectType: 'Person', limit: '1000', sort: '-createdAt' }),
    ).toMatchObject({ branch: 'feature-1', objectType: 'Person', limit: 1000, sort: '-createdAt' });
    expect(parseListQuery({ limit: '1' }).limit).toBe(1);
  });

  it('reads at (a commit id or a tag) beside the other parameters', () => {
    const commit = 'a'.repeat(40);
    expect(parseListQuery({ at: commit, objectType: 'Person', limit: '2' })).toMatchObject({
      at: commit,
      objectType: 'Person',
      limit: 2,
    });
    expect(parseListQuery({ at: 'v1.0-rc_1' }).at).toBe('v1.0-rc_1');
    expect(parseListQuery({ at: `t${'x'.repeat(199)}` }).at).toHaveLength(200);
  });

  it.each([[''], ['-v1'], ['v 1'], ['v1/2'], [`t${'x'.repeat(200)}`]])('refuses at=%j', (at) => {
    expect(refused(() => parseListQuery({ at }))).toEqual([
      { path: '/query/at', message: expect.stringMatching(/^must match /) },
    ]);
  });

  it('reads property.<name> and property[<name>] filters, keeping the parameter as sent', () => {
    const parsed = parseListQuery({
      objectType: 'Person',
      'property.name': 'Ada Lovelace',
      'property[age]': '36',
      'property.a.b': 'dotted',
      'property.tags': '',
    });
    expect(parsed.filters).toEqual([
      { name: 'name', key: 'property.name', value: 'Ada Lovelace' },
      { name: 'age', key: 'property[age]', value: '36' },
      { name: 'a.b', key: 'property.a.b', value: 'dotted' },
      { name: 'tags', key: 'property.tags', value: '' },
    ]);
  });

  it('refuses a filter without objectType', () => {
    expect(refused(() => parseListQuery({ 'property.name': 'Ada' }))).toEqual([
      { path: '/query/objectType', message: 'is required with property filters' },
    ]);
  });

  it('refuses a repeated filter, and one property filtered twice under both spellings', () => {
    expect(refused(() => parseListQuery({ objectType: 'Person', 'property.name': ['Ada', 'Bob'] }))).toEqual([
      { path: '/query/property.name', message: 'must be given once' },
    ]);
    expect(
      refused(() =>
        parseListQuery({ objectType: 'Person', 'property.name': 'Ada', 'property[name]': 'Bob' }),
      ),
    ).toEqual([{ path: '/query/property[name]', message: 'filters a property already filtered' }]);
  });

  it('refuses a repeated fixed parameter', () => {
    for (const key of ['branch', 'at', 'objectType', 'limit', 'sort', 'cursor']) {
      const violations = refused(() => parseListQuery({ [key]: ['1', '2'] }));
      expect(violations.map((v) => v.path)).toEqual([`/query/${key}`]);
    }
  });

  it('refuses what only looks like a filter, and any other unknown parameter', () => {
    for (const key of [
      'property.',
      'property[]',
      'property[a]b',
      'properties.name',
      'Property.name',
      'foo',
    ]) {
      const violations = refused(() => parseListQuery({ objectType: 'Person', [key]: 'x' }));
      expect(violations).toEqual([{ path: `/query/${key}`, message: expect.any(String) }]);
    }
  });

  it.each([['0'], ['1001'], ['-1'], ['1.5'], ['ten'], ['']])('refuses limit=%j', (limit) => {
    expect(refused(() => parseListQuery({ limit })).map((v) => v.path)).toEqual(['/query/limit']);
  });

  it('refuses a sort order it does not know, naming the ones it does', () => {
    expect(refused(() => parseListQuery({ sort: 'name' }))).toEqual([
      { path: '/query/sort', message: 'must be one of id, -id, createdAt, -createdAt' },
    ]);
  });

  it('reports every bad parameter at once', () => {
    const violations = refused(() =>
      parseListQuery({
        branch: '-bad',
        limit: '0',
        sort: 'x',
        'property.a': ['1', '2'],
        'property.b': '1',
        extra: '1',
      }),
    );
    expect(violations.map((v) => v.path).sort()).toEqual(
      [
        '/query/branch',
        '/query/extra',
        '/query/limit',
        '/query/objectType',
        '/query/property.a',
        '/query/sort',
      ].sort(),
    );
  });

  describe('cursor', () => {
    it('continues after the position nextCursor wrote, for its sort order', () => {
      const createdAt = '2024-05-06T07:08:09.010Z';
      expect(parseListQuery({ cursor: nextCursor('id', { id: 'p-9', createdAt }) }).after).toEqual({
        id: 'p-9',
        createdAt: undefined,
      });
      expect(
        parseListQuery({ sort: '-createdAt', cursor: nextCursor('-createdAt', { id: 'p-9', createdAt }) })
          .after,
      ).toEqual({ id: 'p-9', createdAt: new Date(createdAt) });
    });

    it('refuses a cursor made for another sort order', () => {
      const cursor = nextCursor('id', { id: 'p-9', createdAt: '2024-05-06T07:08:09.010Z' });
      expect(refused(() => parseListQuery({ sort: '-id', cursor }))).toEqual([
        { path: '/query/cursor', message: 'was made for sort=id, not sort=-id' },
      ]);
    });

    it.each([
      ['not base64url JSON', '!!!'],
      ['JSON that is no cursor', cursorOf([1, 2])],
      ['an id no document can have', cursorOf({ sort: 'id', id: '../etc' })],
      ['an unknown sort order', cursorOf({ sort: 'name', id: 'p-1' })],
      [
        'a time not as nextCursor writes it',
        cursorOf({ sort: 'createdAt', id: 'p-1', createdAt: '2024-05-06' }),
      ],
    ])('refuses a cursor with %s', (_, cursor) => {
      const sort = cursor.startsWith('!') ? undefined : 'createdAt';
      expect(refused(() => parseListQuery({ cursor, ...(sort ? { sort } : {}) }))).toEqual([
        { path: '/query/cursor', message: expect.any(String) },
      ]);
    });

    it('refuses a createdAt cursor without its time, and an id cursor with one', () => {
      for (const [sort, cursor] of [
        ['createdAt', cursorOf({ sort: 'createdAt', id: 'p-1' })],
        ['id', cursorOf({ sort: 'id', id: 'p-1', createdAt: '2024-05-06T07:08:09.010Z' })],
      ]) {
        expect(refused(() => parseListQuery({ sort, cursor })).map((v) => v.path)).toEqual(['/query/cursor']);
      }
    });
  });
});

describe('toContainment', () => {
  const validator = new DocumentSchemaValidator();
  const valueProblem = (property: PropertyDefinition, value: unknown) =>
    validator.valueProblem(property, value);
  const PERSON: ObjectTypeDefinition = {
    name: 'Person',
    properties: [
      prop('name', 'string'),
      prop('age', 'integer'),
      prop('height', 'decimal'),
      prop('active', 'boolean'),
      prop('born', 'date'),
      prop('status', 'enum', { enumValues: ['active', 'retired'] }),
      prop('employer', 'reference', { referenceType: 'Company' }),
      prop('tags', 'string', { array: true }),
      prop('extra', 'json'),
    ],
  };
  const filter = (name: string, value: string, key = `property.${name}`): PropertyFilter => ({
    name,
    key,
    value,
  });
  const contain = (...filters: PropertyFilter[]) => toContainment(PERSON, filters, 4, valueProblem);

  it('types each value by its property: JSON containment of the document body', () => {
    expect(
      contain(
        filter('name', 'Ada'),
        filter('age', '-36'),
        filter('height', '1.65'),
        filter('active', 'false'),
        filter('born', '1815-12-10'),
        filter('status', 'retired'),
        filter('employer', 'c-1', 'property[employer]'),
        filter('extra', '{"a":[1,"b",null]}'),
      ),
    ).toStrictEqual({
      name: 'Ada',
      age: -36,
      height: 1.65,
      active: false,
      born: '1815-12-10',
      status: 'retired',
      employer: 'c-1',
      extra: { a: [1, 'b', null] },
    });
    expect(contain(filter('height', '1e3'))).toStrictEqual({ height: 1000 });
    expect(contain(filter('age', String(Number.MAX_SAFE_INTEGER)))).toStrictEqual({
      age: Number.MAX_SAFE_INTEGER,
    });
  });

  it('matches an array property holding the value', () => {
    expect(contain(filter('tags', 'red'))).toStrictEqual({ tags: ['red'] });
  });

  it.each([
    ['age', '1.5', 'must be a valid integer'],
    ['age', '9007199254740993', 'must be a valid integer'],
    ['age', ' 36', 'must be a valid integer'],
    ['age', '', 'must be a valid integer'],
    ['height', '.5', 'must be a valid decimal'],
    ['height', '0.1000000000000000055511151231257827', 'must be a valid decimal'],
    ['height', 'NaN', 'must be a valid decimal'],
    ['active', '1', 'must be a valid boolean'],
    ['active', 'TRUE', 'must be a valid boolean'],
    ['extra', '{bad json', 'must be a valid json'],
    ['status', 'dead', 'must be one of: active, retired'],
    ['born', '1815-02-30', 'must be a date (YYYY-MM-DD)'],
    ['employer', '', expect.any(String)],
  ])('refuses %s=%j', (name, value, message) => {
    expect(refused(() => contain(filter(name, value)))).toEqual([
      { path: `/query/property.${name}`, message },
    ]);
  });

  it('refuses a property the type does not have, inherited names included', () => {
    for (const name of ['nickname', 'constructor', '__proto__', 'toString']) {
      expect(refused(() => contain(filter(name, 'x')))).toEqual([
        { path: `/query/property.${name}`, message: 'is not a property of Person' },
      ]);
    }
  });

  it('refuses a json value a body could not hold: too deep, or a number a double cannot keep', () => {
    expect(refused(() => contain(filter('extra', '[[[[[1]]]]]'))).map((v) => v.path)[0]).toMatch(
      /^\/query\/property\.extra/,
    );
    expect(refused(() => contain(filter('extra', '{"n":12345678901234567890}')))).toEqual([
      { path: '/query/property.extra/n', message: expect.stringContaining('cannot be stored exactly') },
    ]);
  });

  it('reports every bad filter at once, each under the parameter as sent', () => {
    expect(
      refused(() =>
        contain(filter('age', 'x', 'property[age]'), filter('nickname', 'x'), filter('name', 'fine')),
      ),
    ).toEqual([
      { path: '/query/property[age]', message: 'must be a valid integer' },
      { path: '/query/property.nickname', message: 'is not a property of Person' },
    ]);
  });
});
