import { EntityRecord } from '@oms/store';
import { BreakingChangeScan, PropertyChange, riskyChanges } from './breaking-changes';
import { DocumentProperties, DocumentSchemaValidator } from './document-schema';
import { ObjectTypeDefinition, PropertyDefinition } from './object-type.model';

const prop = (name: string, rest: Partial<PropertyDefinition> = {}): PropertyDefinition => ({
  name,
  dataType: 'string',
  required: false,
  array: false,
  unique: false,
  ...rest,
});

const type = (properties: PropertyDefinition[], rest: Partial<ObjectTypeDefinition> = {}) => ({
  name: 'Person',
  properties,
  ...rest,
});

const PERSON = type([
  prop('name', { required: true }),
  prop('email'),
  prop('age', { dataType: 'integer' }),
  prop('status', { dataType: 'enum', enumValues: ['active', 'retired', 'unknown'] }),
  prop('employer', { dataType: 'reference', referenceType: 'Company' }),
  prop('tags', { array: true }),
]);

/** PERSON with one property replaced (or added) and others as they were. */
function changed(
  name: string,
  next: Partial<PropertyDefinition> | null,
  base = PERSON,
): ObjectTypeDefinition {
  const properties = base.properties.filter((p) => p.name !== name);
  const before = base.properties.find((p) => p.name === name);
  return {
    ...base,
    properties: next === null ? properties : [...properties, prop(name, { ...before, ...next })],
  };
}

/** The set-wide checks a change needs, as dotted paths. */
const flags = (change: PropertyChange | undefined) => ({
  unique: (change?.uniqueAdded ?? []).map((path) => path.map((p) => p.name).join('.')),
  reference: (change?.referenceChanged ?? []).map((path) => path.map((p) => p.name).join('.')),
});

describe('riskyChanges', () => {
  const described = (before: ObjectTypeDefinition, after: ObjectTypeDefinition) =>
    Object.fromEntries([...riskyChanges(before, after)].map(([name, c]) => [name, c.description]));

  it('finds nothing when nothing changed, or only what cannot invalidate a document', () => {
    expect(riskyChanges(PERSON, PERSON).size).toBe(0);
    expect(riskyChanges(PERSON, changed('nickname', {})).size).toBe(0); // an optional property added
    expect(
      riskyChanges(PERSON, changed('email', { required: false, description: 'work address' })).size,
    ).toBe(0);
    expect(riskyChanges(PERSON, changed('name', { required: false })).size).toBe(0); // relaxed
    expect(
      riskyChanges(PERSON, changed('status', { enumValues: ['active', 'retired', 'unknown', 'new'] })).size,
    ).toBe(0);
    expect(riskyChanges(changed('email', { unique: true }), PERSON).size).toBe(0); // no longer unique
  });

  it('names each value constraint tightened or added, and none loosened or removed', () => {
    const bounded = changed('age', { minimum: 0, maximum: 150 });
    const limited = changed('tags', { maxItems: 5, maxLength: 20, pattern: '^a' }, bounded);
    expect(described(PERSON, limited)).toEqual({
      age: "minimum 0 added to 'age', maximum 150 added to 'age'",
      tags: "maxLength 20 added to 'tags', maxItems 5 added to 'tags', pattern ^a added to 'tags'",
    });
    expect(
      described(limited, changed('age', { minimum: 1, maximum: 100, exclusiveMaximum: 99 }, limited)),
    ).toEqual({
      age: "minimum of 'age' tightened from 0 to 1, maximum of 'age' tightened from 150 to 100, exclusiveMaximum 99 added to 'age'",
    });
    expect(
      described(
        limited,
        changed(
          'tags',
          { maxItems: 5, maxLength: 20, pattern: '^b', uniqueItems: true, format: 'email' },
          limited,
        ),
      ),
    ).toEqual({
      tags: "pattern of 'tags' changed to ^b, format email added to 'tags', property 'tags' must not repeat items",
    });
    // Loosened, or removed: nothing a document could break.
    expect(riskyChanges(limited, changed('age', { minimum: -1, maximum: 200 }, limited)).size).toBe(0);
    expect(riskyChanges(limited, PERSON).size).toBe(0);
  });

  it('describes each risky change of a property, several at once joined', () => {
    expect(described(PERSON, changed('email', null))).toEqual({ email: "property 'email' removed" });
    expect(described(PERSON, changed('ssn', { required: true }))).toEqual({
      ssn: "required property 'ssn' added",
    });
    expect(described(PERSON, changed('email', { required: true }))).toEqual({
      email: "property 'email' became required",
    });
    expect(described(PERSON, changed('age', { dataType: 'decimal' }))).toEqual({
      age: "property 'age' changed type from integer to decimal",
    });
    expect(described(PERSON, changed('email', { array: true }))).toEqual({
      email: "property 'email' changed from single value to array",
    });
    expect(described(PERSON, changed('tags', { array: false }))).toEqual({
      tags: "property 'tags' changed from array to single value",
    });
    expect(described(PERSON, changed('status', { enumValues: ['active', 'new'] }))).toEqual({
      status: "enum values removed from 'status': retired, unknown",
    });
    expect(described(PERSON, changed('employer', { referenceType: 'Organisation' }))).toEqual({
      employer: "property 'employer' now references Organisation instead of Company",
    });
    expect(described(PERSON, changed('email', { unique: true }))).toEqual({
      email: "property 'email' became unique",
    });
    expect(
      described(PERSON, changed('email', { dataType: 'integer', required: true, unique: true })),
    ).toEqual({
      email:
        "property 'email' changed type from string to integer, property 'email' became required, " +
        "property 'email' became unique",
    });
  });

  it('reads the rules a primary key implies: a new primary key becomes required and unique', () => {
    const keyed = { ...PERSON, primaryKey: 'email' };
    expect(described(PERSON, keyed)).toEqual({
      email: "property 'email' became required, property 'email' became unique",
    });
    expect(flags(riskyChanges(PERSON, keyed).get('email'))).toEqual({ unique: ['email'], reference: [] });
    expect(riskyChanges(keyed, keyed).size).toBe(0);
    expect(riskyChanges(keyed, PERSON).size).toBe(0); // dropping the key relaxes
  });

  it('flags the changes that need the whole set (unique) or a look-up (reference target)', () => {
    expect(flags(riskyChanges(PERSON, changed('email', { unique: true })).get('email'))).toEqual({
      unique: ['email'],
      reference: [],
    });
    expect(
      flags(riskyChanges(PERSON, changed('employer', { referenceType: 'Organisation' })).get('employer')),
    ).toEqual({ unique: [], reference: ['employer'] });
    expect(flags(riskyChanges(PERSON, changed('email', { required: true })).get('email'))).toEqual({
      unique: [],
      reference: [],
    });
  });

  it('looks inside structs: members removed, added required, retyped, made unique or retargeted', () => {
    const member = (name: string, rest: Partial<PropertyDefinition> = {}) => prop(name, rest);
    const address = (members: PropertyDefinition[], base = PERSON) =>
      changed('address', { dataType: 'struct', properties: members }, base);
    const before = address([
      member('city'),
      member('zip'),
      member('owner', { dataType: 'reference', referenceType: 'Person' }),
    ]);
    const after = address(
      [
        member('city', { maxLength: 10, unique: true }),
        member('owner', { dataType: 'reference', referenceType: 'Company' }),
        member('country', { required: true }),
      ],
      before,
    );
    expect(described(before, after)).toEqual({
      address:
        "member 'address.zip' removed, property 'address.city' became unique, maxLength 10 added to 'address.city', " +
        "property 'address.owner' now references Company instead of Person, required member 'address.country' added",
    });
    expect(flags(riskyChanges(before, after).get('address'))).toEqual({
      unique: ['address.city'],
      reference: ['address.owner'],
    });
  });
});

describe('BreakingChangeScan', () => {
  const validator = new DocumentSchemaValidator();

  const doc = (id: string, body: DocumentProperties): EntityRecord<DocumentProperties> => ({
    id,
    objectType: 'Person',
    body,
    version: 1,
    createdAt: new Date(0),
    createdBy: 'alice',
    updatedAt: new Date(0),
    updatedBy: 'alice',
  });

  /** Scans the documents against `after` as the object types service does, with a type look-up. */
  async function scan(
    after: ObjectTypeDefinition,
    documents: EntityRecord<DocumentProperties>[],
    types: Record<string, string> = {},
    before = PERSON,
  ) {
    const looked: string[][] = [];
    const scanning = new BreakingChangeScan(riskyChanges(before, after), validator.draft(after));
    documents.forEach((d) => scanning.add(d));
    const result = await scanning.finish((ids) => {
      looked.push(ids);
      return Promise.resolve(new Map(ids.map((id) => [id, types[id] ?? null])));
    });
    return { result, looked };
  }

  it('finds nothing when every document still validates', async () => {
    const after = changed('email', { required: true });
    const { result } = await scan(after, [
      doc('p1', { name: 'A', email: 'a@x' }),
      doc('p2', { name: 'B', email: 'b@x' }),
    ]);
    expect(result).toEqual([]);
  });

  it('counts the documents a change invalidates, with the first ten as samples', async () => {
    const after = changed('email', { required: true });
    const documents = Array.from({ length: 12 }, (_, i) => doc(`p${i}`, { name: `N${i}` }));
    documents.push(doc('ok', { name: 'OK', email: 'ok@x' }));
    const { result } = await scan(after, documents);
    expect(result).toEqual([
      {
        property: 'email',
        change: "property 'email' became required",
        affectedDocuments: 12,
        sampleDocumentIds: documents.slice(0, 10).map((d) => d.id),
      },
    ]);
  });

  it('counts, for a removed property, the documents that still have it', async () => {
    const { result } = await scan(changed('email', null), [
      doc('with', { name: 'A', email: 'a@x' }),
      doc('without', { name: 'B' }),
    ]);
    expect(result).toEqual([
      {
        property: 'email',
        change: "property 'email' removed",
        affectedDocuments: 1,
        sampleDocumentIds: ['with'],
      },
    ]);
  });

  it('counts each property a document breaks, and an enum value taken away', async () => {
    const after = changed('status', { enumValues: ['active'] }, changed('age', { dataType: 'boolean' }));
    const { result } = await scan(after, [
      doc('both', { name: 'A', age: 3, status: 'retired' }),
      doc('age', { name: 'B', age: 4, status: 'active' }),
      doc('fine', { name: 'C', status: 'active' }),
    ]);
    expect(result).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          property: 'age',
          affectedDocuments: 2,
          sampleDocumentIds: ['both', 'age'],
        }),
        expect.objectContaining({ property: 'status', affectedDocuments: 1, sampleDocumentIds: ['both'] }),
      ]),
    );
    expect(result).toHaveLength(2);
  });

  it('counts every document of a value that a new unique rule finds more than once, and no absent value', async () => {
    const after = changed('email', { unique: true });
    const { result } = await scan(after, [
      doc('a1', { name: 'A', email: 'same@x' }),
      doc('a2', { name: 'B', email: 'same@x' }),
      doc('a3', { name: 'C', email: 'other@x' }),
      doc('a4', { name: 'D' }),
      doc('a5', { name: 'E' }),
    ]);
    expect(result).toEqual([
      {
        property: 'email',
        change: "property 'email' became unique",
        affectedDocuments: 2,
        sampleDocumentIds: ['a1', 'a2'],
      },
    ]);
  });

  it('looks up the targets of a reference whose type changed, and counts those of another type or gone', async () => {
    const after = changed('employer', { referenceType: 'Organisation' });
    const { result, looked } = await scan(
      after,
      [
        doc('right', { name: 'A', employer: 'org-1' }),
        doc('wrong', { name: 'B', employer: 'company-1' }),
        doc('gone', { name: 'C', employer: 'deleted-1' }),
        doc('none', { name: 'D' }),
      ],
      { 'org-1': 'Organisation', 'company-1': 'Company' },
    );
    expect(looked).toEqual([['org-1', 'company-1', 'deleted-1']]);
    expect(result).toEqual([
      {
        property: 'employer',
        change: "property 'employer' now references Organisation instead of Company",
        affectedDocuments: 2,
        sampleDocumentIds: ['wrong', 'gone'],
      },
    ]);
  });

  it('checks every item of an array of references', async () => {
    const before = changed('employers', { dataType: 'reference', referenceType: 'Company', array: true });
    const after = changed('employers', { referenceType: 'Organisation' }, before);
    const { result } = await scan(
      after,
      [
        doc('mixed', { name: 'A', employers: ['org-1', 'company-1'] }),
        doc('right', { name: 'B', employers: ['org-1'] }),
      ],
      { 'org-1': 'Organisation', 'company-1': 'Company' },
      before,
    );
    expect(result).toEqual([
      expect.objectContaining({ property: 'employers', sampleDocumentIds: ['mixed'] }),
    ]);
  });

  it('names a property that breaks without a risky change of its own (a document already invalid)', async () => {
    const after = changed('email', { required: true });
    const { result } = await scan(after, [doc('legacy', { name: 'A', email: 'a@x', age: 'forty' })]);
    expect(result).toEqual([
      {
        property: 'age',
        change: "property 'age' no longer validates",
        affectedDocuments: 1,
        sampleDocumentIds: ['legacy'],
      },
    ]);
  });

  // Known gap (reported, not fixed here): a property that becomes a reference is not looked up, because
  // `referenceChanged` needs the property to have been a reference before. Existing strings that name no
  // document of the type pass, although a write of the same value would now be refused.
  it.failing(
    'counts documents whose values name no document of the type when a property becomes a reference',
    async () => {
      const after = changed('email', { dataType: 'reference', referenceType: 'Mailbox' });
      const { result } = await scan(after, [doc('p1', { name: 'A', email: 'a@x' })]);
      expect(result).toEqual([expect.objectContaining({ property: 'email', affectedDocuments: 1 })]);
    },
  );
});
