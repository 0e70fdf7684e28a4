import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { TestApp, startTestApp } from '../support/app';
import { given } from '../support/given';
import { storeTargets } from '../support/store-targets';

const typePath = (name = '') => `/api/v1/schemas/main/object-types${name ? `/${name}` : ''}`;

const ADDRESS = {
  name: 'address',
  dataType: 'struct',
  properties: [
    { name: 'street', dataType: 'string' },
    { name: 'city', dataType: 'string', required: true },
    { name: 'zip', dataType: 'string', pattern: '^[0-9]{5}$' },
    { name: 'code', dataType: 'string', unique: true },
    { name: 'owner', dataType: 'reference', referenceType: 'Company' },
    {
      name: 'geo',
      dataType: 'struct',
      properties: [{ name: 'lat', dataType: 'decimal', minimum: -90, maximum: 90 }],
    },
  ],
};
const PERSON = {
  name: 'Person',
  properties: [
    { name: 'name', dataType: 'string' },
    ADDRESS,
    {
      name: 'contacts',
      dataType: 'struct',
      array: true,
      maxItems: 3,
      properties: [
        { name: 'kind', dataType: 'enum', enumValues: ['email', 'phone'], required: true },
        { name: 'value', dataType: 'string', required: true },
      ],
    },
  ],
};

/** A struct nested `depth` deep. */
const nested = (depth: number): object =>
  depth === 0
    ? { name: 'leaf', dataType: 'string' }
    : { name: `s${depth}`, dataType: 'struct', properties: [nested(depth - 1)] };

describe.each(storeTargets())('structs on $name', (target) => {
  let t: TestApp;
  let make: ReturnType<typeof given>;
  beforeAll(async () => {
    t = await startTestApp(target);
    make = given(t);
    await make.type('Company', [{ name: 'name', dataType: 'string' }]);
    await make.document('Company', { name: 'Acme' }, 'acme');
    await t.http.post(typePath()).set(t.as('editor')).send(PERSON).expect(201);
  });
  afterAll(() => t?.close());

  const create = (properties: Record<string, unknown>, id?: string) =>
    t.http
      .post('/api/v1/documents/crud')
      .set(t.as('editor'))
      .send({ objectType: 'Person', properties, ...(id && { id }) });
  const list = (query: string) =>
    t.http.get(`/api/v1/documents/crud?objectType=Person&${query}`).set(t.as('viewer'));

  it('returns the nested definition as sent, with defaults filled in', async () => {
    const res = await t.http.get(typePath('Person')).set(t.as('viewer')).expect(200);
    const address = res.body.properties[1];
    expect(address).toMatchObject({ name: 'address', dataType: 'struct', required: false, array: false });
    expect(address.properties[5]).toEqual({
      name: 'geo',
      dataType: 'struct',
      required: false,
      array: false,
      unique: false,
      properties: [
        {
          name: 'lat',
          dataType: 'decimal',
          required: false,
          array: false,
          unique: false,
          minimum: -90,
          maximum: 90,
        },
      ],
    });
  });

  it('stores a valid document, its null members dropped as absent', async () => {
    const res = await create(
      {
        name: 'Ada',
        address: {
          city: 'Paris',
          zip: '75001',
          code: 'A-1',
          owner: 'acme',
          street: null,
          geo: { lat: 48.8 },
        },
        contacts: [{ kind: 'email', value: 'ada@example.org' }],
      },
      'ada',
    ).expect(201);
    expect(res.body.properties.address).toEqual({
      city: 'Paris',
      zip: '75001',
      code: 'A-1',
      owner: 'acme',
      geo: { lat: 48.8 },
    });
  });

  it('lists every violation inside structs with JSON Pointer paths', async () => {
    const res = await create({
      address: { zip: 'abc', owner: 'nobody', extra: 1, geo: { lat: 91 } },
      contacts: [
        { kind: 'fax', value: 'x' },
        { value: 'y' },
        { kind: 'email', value: 'z' },
        { kind: 'email', value: 'w' },
      ],
    }).expect(400);
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        { path: '/body/properties/address/city', message: 'is required' },
        { path: '/body/properties/address/extra', message: 'is not a member of the struct' },
        { path: '/body/properties/address/zip', message: 'must match the pattern ^[0-9]{5}$' },
        { path: '/body/properties/address/geo/lat', message: 'must be <= 90' },
        { path: '/body/properties/contacts/0/kind', message: 'must be one of: email, phone' },
        { path: '/body/properties/contacts/1/kind', message: 'is required' },
        { path: '/body/properties/contacts', message: 'must have at most 3 items' },
        {
          path: '/body/properties/address/owner',
          message: "references Company 'nobody', which does not exist on branch 'main'",
        },
      ]),
    );
    expect(res.body.errors).toHaveLength(8);
    const dangling = await create({ address: { city: 'Rome', owner: 'nobody' } }).expect(400);
    expect(dangling.body.errors).toEqual([
      {
        path: '/body/properties/address/owner',
        message: "references Company 'nobody', which does not exist on branch 'main'",
      },
    ]);
  });

  it('enforces unique members of a struct (409)', async () => {
    const res = await create({ address: { city: 'Lyon', code: 'A-1' } }).expect(409);
    expect(res.body.errors).toEqual([
      {
        path: '/body/properties/address/code',
        message: `must be unique: "A-1" is already used by document 'ada'`,
      },
    ]);
  });

  it('filters by a member path, through arrays of structs too', async () => {
    await create(
      { address: { city: 'Lyon', code: 'B-1' }, contacts: [{ kind: 'phone', value: '1' }] },
      'bob',
    ).expect(201);
    const ids = async (query: string) =>
      ((await list(query).expect(200)).body.items as { id: string }[]).map((i) => i.id);
    expect(await ids('property.address.city=Paris')).toEqual(['ada']);
    expect(await ids('property[address.city]=Lyon')).toEqual(['bob']);
    expect(await ids('property.contacts.kind=phone')).toEqual(['bob']);
    expect(await ids('property.address.geo.lat=48.8')).toEqual(['ada']);
    const bad = await list('property.address.town=Paris&property.address=x').expect(400);
    expect(bad.body.errors).toEqual([
      { path: '/query/property.address.town', message: 'is not a member of address' },
      {
        path: '/query/property.address',
        message: 'names a struct: filter by one of its members (struct.member)',
      },
    ]);
  });

  it('keeps a document that a struct member references from being deleted (restrict)', async () => {
    const res = await t.http.delete('/api/v1/documents/crud/acme').set(t.as('editor')).expect(409);
    expect(res.body.referencedBy).toEqual({
      total: 1,
      sample: [{ id: 'ada', objectType: 'Person', property: 'address.owner' }],
    });
  });

  it('refuses structs nested deeper than 5, and inverse names, delete rules or array-wide unique inside them', async () => {
    await t.http
      .post(typePath())
      .set(t.as('editor'))
      .send({ name: 'Deep5', properties: [nested(5)] })
      .expect(201);
    const res = await t.http
      .post(typePath())
      .set(t.as('editor'))
      .send({
        name: 'Deep6',
        properties: [
          nested(6),
          {
            name: 'rows',
            dataType: 'struct',
            array: true,
            properties: [
              { name: 'id', dataType: 'string', unique: true },
              {
                name: 'ref',
                dataType: 'reference',
                referenceType: 'Company',
                inverseName: 'rows',
                onDelete: 'cascade',
              },
            ],
          },
          { name: 'flat', dataType: 'string', properties: [] },
          { name: 'empty', dataType: 'struct' },
        ],
      })
      .expect(400);
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        {
          path: '/body/properties/0/properties/0/properties/0/properties/0/properties/0/properties/0',
          message: 'nests structs deeper than 5',
        },
        {
          path: '/body/properties/1/properties/0/unique',
          message: 'is not supported inside an array of structs',
        },
        { path: '/body/properties/1/properties/1/inverseName', message: 'is not allowed inside a struct' },
        { path: '/body/properties/1/properties/1/onDelete', message: 'is not allowed inside a struct' },
        { path: '/body/properties/2/properties', message: 'is only allowed when dataType is struct' },
        { path: '/body/properties/3/properties', message: 'is required' },
      ]),
    );
    expect(res.body.errors).toHaveLength(6);
  });

  it('refuses a struct change that existing documents break, naming the member (409)', async () => {
    const changed = {
      ...PERSON,
      properties: PERSON.properties.map((p) =>
        p.name === 'address'
          ? {
              ...ADDRESS,
              properties: [...ADDRESS.properties, { name: 'country', dataType: 'string', required: true }],
            }
          : p,
      ),
    };
    const res = await t.http.put(typePath('Person')).set(t.as('editor')).send(changed).expect(409);
    expect(res.body.breakingChanges).toEqual([
      {
        property: 'address',
        change: "required member 'address.country' added",
        affectedDocuments: 2,
        sampleDocumentIds: expect.arrayContaining(['ada', 'bob']),
      },
    ]);
  });

  it('exports structs as $defs the type refers to, and the export accepts the stored documents', async () => {
    const res = await t.http
      .get(`${typePath('Person')}/json-schema`)
      .set(t.as('viewer'))
      .expect(200);
    const schema = JSON.parse(res.text) as { $defs: Record<string, unknown> };
    expect(Object.keys(schema.$defs).sort()).toEqual([
      'Person.address',
      'Person.address.geo',
      'Person.contacts',
    ]);
    const validate = addFormats(new Ajv2020({ allErrors: true, strict: true, ownProperties: true }), {
      mode: 'full',
    }).compile(schema);
    const ada = await t.http.get('/api/v1/documents/crud/ada').set(t.as('viewer')).expect(200);
    expect(validate(ada.body.properties)).toBe(true);
    expect(validate({ address: { city: 'X', geo: { lat: 91 } } })).toBe(false);
  });
});
