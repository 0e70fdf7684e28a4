import { TestApp, startTestApp } from '../support/app';
import { given } from '../support/given';
import { storeTargets } from '../support/store-targets';

const typePath = (name = '') => `/api/v1/schemas/main/object-types${name ? `/${name}` : ''}`;

const NAMED = {
  name: 'Named',
  kind: 'interface',
  properties: [
    { name: 'label', dataType: 'string', required: true, maxLength: 50 },
    { name: 'tags', dataType: 'string', array: true, maxItems: 5 },
  ],
};
const conforming = (name: string, extra: object[] = []) => ({
  name,
  implements: ['Named'],
  properties: [
    { name: 'label', dataType: 'string', required: true, maxLength: 40 },
    { name: 'tags', dataType: 'string', array: true, maxItems: 3 },
    ...extra,
  ],
});

describe.each(storeTargets())('interfaces on $name', (target) => {
  let t: TestApp;
  let make: ReturnType<typeof given>;
  beforeAll(async () => {
    t = await startTestApp(target);
    make = given(t);
    await t.http.post(typePath()).set(t.as('editor')).send(NAMED).expect(201);
    await t.http
      .post(typePath())
      .set(t.as('editor'))
      .send(conforming('Book', [{ name: 'isbn', dataType: 'string' }]))
      .expect(201);
    await t.http.post(typePath()).set(t.as('editor')).send(conforming('Film')).expect(201);
    await t.http
      .post(typePath())
      .set(t.as('editor'))
      .send({
        name: 'Review',
        properties: [
          {
            name: 'subject',
            dataType: 'reference',
            referenceType: 'Named',
            required: true,
            inverseName: 'reviews',
          },
        ],
      })
      .expect(201);
    await make.document('Book', { label: 'Dune', isbn: '1' }, 'dune');
    await make.document('Film', { label: 'Alien' }, 'alien');
  });
  afterAll(() => t?.close());

  it('returns kind and implements with the type', async () => {
    expect((await t.http.get(typePath('Named')).set(t.as('viewer')).expect(200)).body).toMatchObject({
      kind: 'interface',
    });
    expect((await t.http.get(typePath('Book')).set(t.as('viewer')).expect(200)).body).toMatchObject({
      implements: ['Named'],
    });
  });

  it('holds no documents of its own (400)', async () => {
    const res = await t.http
      .post('/api/v1/documents/crud')
      .set(t.as('editor'))
      .send({ objectType: 'Named', properties: { label: 'x' } })
      .expect(400);
    expect(res.body.errors).toEqual([
      { path: '/body/objectType', message: "'Named' is an interface: it holds no documents" },
    ]);
  });

  it('refuses an implementer that does not declare each interface property compatibly, naming each mismatch', async () => {
    const res = await t.http
      .post(typePath())
      .set(t.as('editor'))
      .send({
        name: 'Song',
        implements: ['Named', 'Book', 'Nope'],
        properties: [
          { name: 'label', dataType: 'text' },
          { name: 'tags', dataType: 'string', array: true, maxItems: 9 },
        ],
      })
      .expect(400);
    expect(res.body.errors).toEqual([
      {
        path: '/body/implements/0',
        message: "does not conform to Named: 'label' must be string, not text; 'tags' needs maxItems ≤ 5",
      },
      { path: '/body/implements/1', message: "'Book' is not an interface" },
      { path: '/body/implements/2', message: "object type 'Nope' does not exist on the branch" },
    ]);
    const iface = await t.http
      .post(typePath())
      .set(t.as('editor'))
      .send({
        name: 'Bad',
        kind: 'interface',
        primaryKey: 'a',
        implements: ['Named'],
        properties: [{ name: 'a', dataType: 'string' }],
      })
      .expect(400);
    expect(iface.body.errors).toEqual([
      { path: '/body/primaryKey', message: 'is not allowed on an interface (it holds no documents)' },
      { path: '/body/implements', message: 'is not allowed on an interface' },
    ]);
  });

  it('lists the documents of every implementing type under the interface', async () => {
    const res = await t.http.get('/api/v1/documents/crud?objectType=Named').set(t.as('viewer')).expect(200);
    expect(res.body.items.map((d: { id: string; objectType: string }) => [d.id, d.objectType])).toEqual([
      ['alien', 'Film'],
      ['dune', 'Book'],
    ]);
    const filtered = await t.http
      .get('/api/v1/documents/crud?objectType=Named&property.label=Dune')
      .set(t.as('viewer'))
      .expect(200);
    expect(filtered.body.items.map((d: { id: string }) => d.id)).toEqual(['dune']);
  });

  it('takes a document of any implementing type in a reference to the interface (polymorphic links)', async () => {
    await make.document('Review', { subject: 'dune' }, 'r-1');
    await make.document('Review', { subject: 'alien' }, 'r-2');
    await make.type('Plain', []);
    await make.document('Plain', {}, 'plain');
    const wrong = await t.http
      .post('/api/v1/documents/crud')
      .set(t.as('editor'))
      .send({ objectType: 'Review', properties: { subject: 'plain' } })
      .expect(400);
    expect(wrong.body.errors).toEqual([
      {
        path: '/body/properties/subject',
        message: "references Named 'plain', which does not exist on branch 'main'",
      },
    ]);
    const reviews = await t.http
      .get('/api/v1/documents/crud/alien/links/reviews')
      .set(t.as('viewer'))
      .expect(200);
    expect(reviews.body.items.map((d: { id: string }) => d.id)).toEqual(['r-2']);
    const forward = await t.http
      .get('/api/v1/documents/crud/r-1/links/subject')
      .set(t.as('viewer'))
      .expect(200);
    expect(forward.body.items.map((d: { id: string }) => d.id)).toEqual(['dune']);
    // A document referenced through the interface is protected like any referenced one (restrict).
    const refused = await t.http.delete('/api/v1/documents/crud/dune').set(t.as('editor')).expect(409);
    expect(refused.body.referencedBy).toEqual({
      total: 1,
      sample: [{ id: 'r-1', objectType: 'Review', property: 'subject' }],
    });
  });

  it('refuses an interface change its implementers would not conform to; one they do is accepted', async () => {
    const tightened = {
      ...NAMED,
      properties: [{ ...NAMED.properties[0], maxLength: 10 }, NAMED.properties[1]],
    };
    const res = await t.http.put(typePath('Named')).set(t.as('editor')).send(tightened).expect(409);
    expect(res.body.implementers).toEqual([
      { name: 'Book', problems: ["'label' needs maxLength ≤ 10"] },
      { name: 'Film', problems: ["'label' needs maxLength ≤ 10"] },
    ]);
    const loosened = {
      ...NAMED,
      properties: [{ ...NAMED.properties[0], maxLength: 100 }, NAMED.properties[1]],
    };
    await t.http.put(typePath('Named')).set(t.as('editor')).send(loosened).expect(200);
    // Implemented: the interface cannot go, nor become an object type.
    await t.http.delete(typePath('Named')).set(t.as('editor')).expect(409);
    const asObject = await t.http
      .put(typePath('Named'))
      .set(t.as('editor'))
      .send({ ...loosened, kind: 'object' })
      .expect(409);
    expect(asObject.body.title).toBe('Interface change breaks implementers');
  });

  it('exports an interface as an open schema', async () => {
    const res = await t.http
      .get(`${typePath('Named')}/json-schema`)
      .set(t.as('viewer'))
      .expect(200);
    expect(JSON.parse(res.text)).toMatchObject({ additionalProperties: true, required: ['label'] });
  });
});
