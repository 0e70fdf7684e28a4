import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { TestApp, startTestApp } from '../support/app';
import { given } from '../support/given';
import { storeTargets } from '../support/store-targets';

const PROBLEM = /^application\/problem\+json/;
const typePath = (branch: string, name = '') =>
  `/api/v1/schemas/${branch}/object-types${name ? `/${name}` : ''}`;

/** A property of every constrained kind: bounds, lengths, a pattern, formats, cardinality. */
const PRODUCT = {
  name: 'Product',
  properties: [
    { name: 'sku', dataType: 'string', required: true, pattern: '^[A-Z]{2}-[0-9]{4}$' },
    { name: 'title', dataType: 'text', minLength: 2, maxLength: 5 },
    { name: 'price', dataType: 'decimal', exclusiveMinimum: 0, maximum: 1000 },
    { name: 'stock', dataType: 'integer', minimum: 0, exclusiveMaximum: 100 },
    { name: 'contact', dataType: 'string', format: 'email' },
    { name: 'site', dataType: 'string', format: 'uri' },
    { name: 'ref', dataType: 'string', format: 'uuid' },
    { name: 'host', dataType: 'string', format: 'hostname' },
    {
      name: 'tags',
      dataType: 'string',
      array: true,
      minItems: 1,
      maxItems: 3,
      uniqueItems: true,
      maxLength: 4,
    },
  ],
};

const VALID = {
  sku: 'AB-1234',
  title: 'Lamp',
  price: 0.5,
  stock: 0,
  contact: 'a@example.com',
  site: 'https://example.com/x',
  ref: '6f1c2b5e-2d6a-4f0e-9d55-3c1d1e0b9a11',
  host: 'db.example.com',
  tags: ['a', 'b'],
};

describe.each(storeTargets())('value constraints and JSON Schema on $name', (target) => {
  let t: TestApp;
  let make: ReturnType<typeof given>;
  beforeAll(async () => {
    t = await startTestApp(target);
    make = given(t);
    await t.http.post(typePath('main')).set(t.as('editor')).send(PRODUCT).expect(201);
  });
  afterAll(() => t?.close());

  const create = (properties: Record<string, unknown>, id?: string, branch = 'main') =>
    t.http
      .post(`/api/v1/documents/crud?branch=${branch}`)
      .set(t.as('editor'))
      .send({ objectType: 'Product', properties, ...(id && { id }) });

  it('stores the constraints as sent and returns them with the type', async () => {
    const res = await t.http.get(typePath('main', 'Product')).set(t.as('viewer')).expect(200);
    expect(res.body.properties[8]).toEqual({
      ...PRODUCT.properties[8],
      required: false,
      unique: false,
    });
    expect(res.body.properties[0].pattern).toBe('^[A-Z]{2}-[0-9]{4}$');
  });

  it('accepts a document within every constraint', async () => {
    await create(VALID).expect(201);
  });

  it('lists every violated constraint of a document at once (400, JSON pointers)', async () => {
    const res = await create({
      sku: 'ab-1234',
      title: 'Lampshade',
      price: 0,
      stock: 100,
      contact: 'not-an-email',
      site: 'relative/path',
      ref: 'nope',
      host: 'bad host!',
      tags: ['a', 'a', 'toolong'],
    }).expect(400);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        { path: '/body/properties/sku', message: 'must match the pattern ^[A-Z]{2}-[0-9]{4}$' },
        { path: '/body/properties/title', message: 'must have at most 5 characters' },
        { path: '/body/properties/price', message: 'must be > 0' },
        { path: '/body/properties/stock', message: 'must be < 100' },
        { path: '/body/properties/contact', message: 'must be an email address' },
        { path: '/body/properties/site', message: 'must be an absolute URI' },
        { path: '/body/properties/ref', message: 'must be a UUID' },
        { path: '/body/properties/host', message: 'must be a hostname' },
        { path: '/body/properties/tags/2', message: 'must have at most 4 characters' },
        { path: '/body/properties/tags', message: 'must not repeat an item (items 0 and 1 are equal)' },
      ]),
    );
    expect(res.body.errors).toHaveLength(10);
  });

  it('checks cardinality on create, replace and merge patch', async () => {
    const none = await create({ ...VALID, tags: [] }).expect(400);
    expect(none.body.errors).toEqual([
      { path: '/body/properties/tags', message: 'must have at least 1 item' },
    ]);
    await create({ ...VALID, sku: 'CA-0001' }, 'card-1').expect(201);
    const put = await t.http
      .put('/api/v1/documents/crud/card-1')
      .set(t.as('editor'))
      .send({ properties: { ...VALID, tags: ['a', 'b', 'c', 'd'] } })
      .expect(400);
    expect(put.body.errors).toEqual([
      { path: '/body/properties/tags', message: 'must have at most 3 items' },
    ]);
    const patch = await t.http
      .patch('/api/v1/documents/crud/card-1')
      .set({ ...t.as('editor'), 'Content-Type': 'application/merge-patch+json' })
      .send({ properties: { tags: [], stock: -1 } })
      .expect(400);
    expect(patch.body.errors).toEqual([
      { path: '/body/properties/stock', message: 'must be >= 0' },
      { path: '/body/properties/tags', message: 'must have at least 1 item' },
    ]);
  });

  it('counts characters, not UTF-16 units: an emoji is one', async () => {
    await create({ ...VALID, sku: 'EM-0001', title: '😀😀😀😀😀' }, 'emoji').expect(201);
    const six = await create({ ...VALID, sku: 'EM-0002', title: '😀😀😀😀😀😀' }).expect(400);
    expect(six.body.errors).toEqual([
      { path: '/body/properties/title', message: 'must have at most 5 characters' },
    ]);
  });

  it('refuses a constraint that does not fit the data type, and bounds in the wrong order (400, every one)', async () => {
    const res = await t.http
      .post(typePath('main'))
      .set(t.as('editor'))
      .send({
        name: 'Misfit',
        properties: [
          { name: 'a', dataType: 'string', minimum: 1 },
          { name: 'b', dataType: 'integer', pattern: '^x$' },
          { name: 'c', dataType: 'boolean', minItems: 1 },
          { name: 'd', dataType: 'integer', minimum: 5, maximum: 4 },
          { name: 'e', dataType: 'string', format: 'phone' },
          { name: 'f', dataType: 'string', pattern: '(' },
          { name: 'g', dataType: 'string', minLength: -1 },
        ],
      })
      .expect(400);
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        {
          path: '/body/properties/0/minimum',
          message: 'is only allowed when dataType is integer or decimal',
        },
        { path: '/body/properties/1/pattern', message: 'is only allowed when dataType is string or text' },
        { path: '/body/properties/2/minItems', message: 'is only allowed on array properties (array: true)' },
        { path: '/body/properties/3/minimum', message: 'must not be greater than maximum (4)' },
        { path: '/body/properties/4/format', message: 'must be one of email, uri, uuid, hostname' },
        expect.objectContaining({ path: '/body/properties/5/pattern' }),
        { path: '/body/properties/6/minLength', message: 'must not be less than 0' },
      ]),
    );
    expect(res.body.errors).toHaveLength(7);
  });

  it.each([
    ['nested repetition (exponential)', '^(a+)+$', /exponential/],
    ['overlapping repetition (polynomial)', '^.*a.*a.*a$', /polynomial/],
    ['an unanchored trailing repetition (polynomial)', '\\s*$', /polynomial/],
  ])('refuses a pattern that can backtrack super-linearly: %s', async (_, pattern, complexity) => {
    const res = await t.http
      .post(typePath('main'))
      .set(t.as('editor'))
      .send({ name: 'Unsafe', properties: [{ name: 'v', dataType: 'string', pattern }] })
      .expect(400);
    expect(res.body.errors).toEqual([
      { path: '/body/properties/0/pattern', message: expect.stringMatching(complexity) },
    ]);
    expect(res.body.errors[0].message).toMatch(/^can backtrack super-linearly/);
    await t.http.get(typePath('main', 'Unsafe')).set(t.as('viewer')).expect(404);
  });

  describe('changing constraints over existing documents', () => {
    const base = {
      name: 'Measure',
      properties: [
        { name: 'v', dataType: 'integer', maximum: 100 },
        { name: 'code', dataType: 'string', maxLength: 10 },
      ],
    };
    beforeAll(async () => {
      await t.http.post(typePath('main')).set(t.as('editor')).send(base).expect(201);
      for (const [i, v] of [10, 50, 90].entries()) {
        await make.document('Measure', { v, code: `c${'x'.repeat(i * 3)}` }, `m-${i + 1}`);
      }
    });
    const replace = (properties: object[]) =>
      t.http.put(typePath('main', 'Measure')).set(t.as('editor')).send({ name: 'Measure', properties });

    it('refuses a tightening that existing documents break: 409 naming it, with the count and sample ids', async () => {
      const res = await replace([
        { name: 'v', dataType: 'integer', maximum: 40 },
        { name: 'code', dataType: 'string', maxLength: 10, pattern: '^c$' },
      ]).expect(409);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      const byProperty = Object.fromEntries(
        (res.body.breakingChanges as { property: string; sampleDocumentIds: string[] }[]).map((c) => [
          c.property,
          { ...c, sampleDocumentIds: [...c.sampleDocumentIds].sort() },
        ]),
      );
      expect(byProperty).toEqual({
        v: {
          property: 'v',
          change: "maximum of 'v' tightened from 100 to 40",
          affectedDocuments: 2,
          sampleDocumentIds: ['m-2', 'm-3'],
        },
        code: {
          property: 'code',
          change: "pattern ^c$ added to 'code'",
          affectedDocuments: 2,
          sampleDocumentIds: ['m-2', 'm-3'],
        },
      });
    });

    it('accepts a tightening every document meets, and any loosening', async () => {
      await replace([
        { name: 'v', dataType: 'integer', minimum: 10, maximum: 90 },
        { name: 'code', dataType: 'string', maxLength: 7 },
      ]).expect(200);
      await replace([
        { name: 'v', dataType: 'integer' },
        { name: 'code', dataType: 'string', maxLength: 1000 },
      ]).expect(200);
    });
  });

  it('refuses a merge whose result breaks a constraint (409 violation of kind constraint)', async () => {
    await t.http
      .post(typePath('main'))
      .set(t.as('editor'))
      .send({ name: 'Gauge', properties: [{ name: 'level', dataType: 'integer' }] })
      .expect(201);
    await make.branch('gauge-b');
    // The branch adds a level of 500; main then bounds level at 100 (main has no documents: allowed).
    await make.document('Gauge', { level: 500 }, 'g-1', 'gauge-b');
    await t.http
      .put(typePath('main', 'Gauge'))
      .set(t.as('editor'))
      .send({ name: 'Gauge', properties: [{ name: 'level', dataType: 'integer', maximum: 100 }] })
      .expect(200);
    const res = await t.http
      .post('/api/v1/branches/main/merges')
      .set(t.as('editor'))
      .send({ source: 'gauge-b' })
      .expect(409);
    expect(res.body.violations).toEqual([
      expect.objectContaining({
        kind: 'constraint',
        objectType: 'Gauge',
        documentId: 'g-1',
        path: '/properties/level',
      }),
    ]);
  });

  describe('JSON Schema export', () => {
    const ajv = () => addFormats(new Ajv2020({ allErrors: true, strict: true }), { mode: 'full' });

    it('exports one type as JSON Schema 2020-12 that accepts what OMS accepts', async () => {
      const res = await t.http
        .get(`${typePath('main', 'Product')}/json-schema`)
        .set(t.as('viewer'))
        .expect(200);
      expect(res.headers['content-type']).toMatch(/^application\/schema\+json/);
      const schema = JSON.parse(res.text) as Record<string, unknown>;
      expect(schema).toMatchObject({
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        $id: 'urn:oms:branch:main:json-schema:object-type:Product',
        type: 'object',
        additionalProperties: false,
        required: ['sku'],
      });
      const validate = ajv().compile(schema);
      expect(validate(VALID)).toBe(true);
      expect(validate({ ...VALID, title: null })).toBe(true); // null: absent, as OMS takes it
      expect(validate({ ...VALID, sku: null })).toBe(false); // required
      expect(validate({ ...VALID, tags: ['a', 'a'] })).toBe(false);
      expect(validate({ ...VALID, price: 0 })).toBe(false);
      expect(validate({ ...VALID, extra: 1 })).toBe(false);
    });

    it('exports the branch: $defs per type, $id naming the branch, an ETag that moves with every schema write', async () => {
      const url = '/api/v1/schemas/main/json-schema';
      const first = await t.http.get(url).set(t.as('viewer')).expect(200);
      const schema = JSON.parse(first.text) as { $id: string; $defs: Record<string, object> };
      expect(schema.$id).toBe('urn:oms:branch:main:json-schema');
      expect(Object.keys(schema.$defs)).toEqual(expect.arrayContaining(['Product', 'Measure', 'Gauge']));
      const etag = first.headers.etag!;
      expect(etag).toMatch(/^"[^"]+"$/);
      await t.http
        .get(url)
        .set({ ...t.as('viewer'), 'If-None-Match': etag })
        .expect(304);
      // Every def compiles, each under the branch document's own dialect.
      const validator = ajv();
      validator.addSchema(schema);
      expect(validator.validate(`${schema.$id}#/$defs/Product`, VALID)).toBe(true);

      await make.type('Later', [{ name: 'x', dataType: 'string' }]);
      const moved = await t.http
        .get(url)
        .set({ ...t.as('viewer'), 'If-None-Match': etag })
        .expect(200);
      expect(moved.headers.etag).not.toBe(etag);
      expect(Object.keys((JSON.parse(moved.text) as typeof schema).$defs)).toContain('Later');
    });

    it('states the checks it cannot express in $comment, and 404s an unknown type or branch', async () => {
      await make.type('Owner', [
        { name: 'code', dataType: 'string', unique: true },
        { name: 'product', dataType: 'reference', referenceType: 'Product' },
      ]);
      const res = await t.http
        .get(`${typePath('main', 'Owner')}/json-schema`)
        .set(t.as('viewer'))
        .expect(200);
      const comment = (JSON.parse(res.text) as { $comment: string }).$comment;
      expect(comment).toContain("'product' must name an existing Product document");
      expect(comment).toContain("'code' must be unique among Owner documents");
      await t.http
        .get(`${typePath('main', 'Nope')}/json-schema`)
        .set(t.as('viewer'))
        .expect(404);
      await t.http.get('/api/v1/schemas/no-such-branch/json-schema').set(t.as('viewer')).expect(404);
    });
  });
});
