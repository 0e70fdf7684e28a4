import { TestApp, startTestApp } from '../support/app';
import { given } from '../support/given';
import { storeTargets } from '../support/store-targets';

const DOCS = '/api/v1/documents/crud';
const PROBLEM = /^application\/problem\+json/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MERGE_PATCH = 'application/merge-patch+json';
const CACHE_CONTROL = 'private, no-cache, must-revalidate';

type Doc = { id: string; version: number; properties: Record<string, unknown> };
type Violation = { path: string; message: string };

describe.each(storeTargets())('documents API on $name', (target) => {
  let t: TestApp;
  let make: ReturnType<typeof given>;
  const editor = () => t.as('editor');
  const etagOf = (version: number) => `"${version}"`;

  /** Walks a list to its end, fetching pages of `limit`; `between` runs before each next page. */
  async function walk(query: string, limit: number, between?: (page: number) => Promise<unknown>) {
    const ids: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 100; page++) {
      const url: string = `${DOCS}?${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const [res] = await Promise.all([t.http.get(url).set(editor()), between?.(page)]);
      expect(res.status).toBe(200);
      const body = res.body as { items: Doc[]; nextCursor: string | null };
      expect(body.items.length).toBeLessThanOrEqual(limit);
      ids.push(...body.items.map((d) => d.id));
      cursor = body.nextCursor;
      if (cursor === null) return ids;
    }
    throw new Error('the list never ended');
  }

  beforeAll(async () => {
    t = await startTestApp(target);
    make = given(t);
    await make.type('Company', [{ name: 'name', dataType: 'string', required: true }]);
    await make.type('Team', [{ name: 'name', dataType: 'string' }]);
    await make.type('Person', [
      { name: 'name', dataType: 'string', required: true },
      { name: 'nickname', dataType: 'string' },
      { name: 'email', dataType: 'string', unique: true },
      { name: 'age', dataType: 'integer' },
      { name: 'active', dataType: 'boolean' },
      { name: 'height', dataType: 'decimal' },
      { name: 'birthDate', dataType: 'date' },
      { name: 'lastSeen', dataType: 'datetime' },
      { name: 'status', dataType: 'enum', enumValues: ['active', 'retired'] },
      { name: 'tags', dataType: 'string', array: true },
      { name: 'employer', dataType: 'reference', referenceType: 'Company' },
      { name: 'formerEmployer', dataType: 'reference', referenceType: 'Company' },
    ]);
  });
  afterAll(() => t?.close());

  describe('POST /documents/crud', () => {
    it('returns 201 with Location and a quoted-version ETag', async () => {
      const res = await t.http
        .post(`${DOCS}?branch=main`)
        .set(editor())
        .send({ objectType: 'Person', id: 'ada', properties: { name: 'Ada', age: 36 } })
        .expect(201);
      expect(res.headers.location).toBe(`${DOCS}/ada?branch=main`);
      expect(res.headers.etag).toBe(etagOf(res.body.version));
      expect(res.body).toMatchObject({
        id: 'ada',
        objectType: 'Person',
        properties: { name: 'Ada', age: 36 },
      });
    });

    it('generates a UUID id when none is given', async () => {
      const res = await t.http
        .post(DOCS)
        .set(editor())
        .send({ objectType: 'Person', properties: { name: 'Anonymous' } })
        .expect(201);
      expect(res.body.id).toMatch(UUID);
      expect(res.headers.location).toBe(`${DOCS}/${res.body.id}?branch=main`);
      await t.http.get(`${DOCS}/${res.body.id}`).set(editor()).expect(200);
    });

    it('returns a 409 problem when the id is taken', async () => {
      await make.document('Person', { name: 'First' }, 'taken-id');
      const res = await t.http
        .post(DOCS)
        .set(editor())
        .send({ objectType: 'Person', id: 'taken-id', properties: { name: 'Second' } })
        .expect(409);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body).toMatchObject({
        status: 409,
        instance: expect.any(String),
        title: expect.any(String),
      });
      const kept = await t.http.get(`${DOCS}/taken-id`).set(editor()).expect(200);
      expect(kept.body.properties).toEqual({ name: 'First' });
    });

    it('returns 400 for an id that does not match the pattern', async () => {
      const res = await t.http
        .post(DOCS)
        .set(editor())
        .send({ objectType: 'Person', id: '-bad id!', properties: { name: 'X' } })
        .expect(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body.errors.map((e: Violation) => e.path)).toContain('/body/id');
    });

    it('returns 400 when the object type does not exist on the branch', async () => {
      const res = await t.http
        .post(DOCS)
        .set(editor())
        .send({ objectType: 'Unicorn', properties: {} })
        .expect(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body.errors).toEqual([
        { path: '/body/objectType', message: expect.stringContaining('Unicorn') },
      ]);
    });
  });

  describe('GET /documents/crud/:id', () => {
    it('returns the document with its metadata', async () => {
      const created = await make.document('Person', { name: 'Grace', age: 85 }, 'grace');
      const res = await t.http.get(`${DOCS}/grace`).set(t.as('viewer')).expect(200);
      expect(Object.keys(res.body).sort()).toEqual(
        [
          'createdAt',
          'createdBy',
          'id',
          'objectType',
          'properties',
          'updatedAt',
          'updatedBy',
          'version',
        ].sort(),
      );
      expect(res.body).toEqual({
        id: 'grace',
        objectType: 'Person',
        properties: { name: 'Grace', age: 85 },
        version: created.version,
        createdAt: created.createdAt,
        createdBy: 'editor',
        updatedAt: created.updatedAt,
        updatedBy: 'editor',
      });
      expect(typeof res.body.version).toBe('number');
      expect(Number.isNaN(Date.parse(res.body.createdAt))).toBe(false);
      expect(res.headers.etag).toBe(etagOf(created.version));
    });

    it('returns a 404 problem for a missing document', async () => {
      const res = await t.http.get(`${DOCS}/nobody-here`).set(editor()).expect(404);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body).toMatchObject({ status: 404, detail: expect.stringContaining('nobody-here') });
    });

    it('returns a 404 problem for a missing branch', async () => {
      await make.document('Person', { name: 'Main only' }, 'main-only');
      const res = await t.http.get(`${DOCS}/main-only?branch=no-such-branch`).set(editor()).expect(404);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body.detail).toContain('no-such-branch');
    });
  });

  describe('validation', () => {
    it('returns 400 listing every violation with its path', async () => {
      await make.document('Company', { name: 'Acme' }, 'acme');
      const team = await make.document('Team', { name: 'Blue' }, 'team-blue');
      const res = await t.http
        .post(DOCS)
        .set(editor())
        .send({
          objectType: 'Person',
          id: 'invalid-person',
          properties: {
            // name (required) is missing
            shoeSize: 44,
            age: 36.5,
            active: 'yes',
            height: 'tall',
            birthDate: '2021-02-30',
            lastSeen: '2021-03-01T10:00:00',
            status: 'dormant',
            tags: 'not-an-array',
            nickname: ['an', 'array'],
            employer: 'no-such-company',
            formerEmployer: team.id,
          },
        })
        .expect(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      const errors = res.body.errors as Violation[];
      expect(new Set(errors.map((e) => e.path))).toEqual(
        new Set([
          '/body/properties/name',
          '/body/properties/shoeSize',
          '/body/properties/age',
          '/body/properties/active',
          '/body/properties/height',
          '/body/properties/birthDate',
          '/body/properties/lastSeen',
          '/body/properties/status',
          '/body/properties/tags',
          '/body/properties/nickname',
          '/body/properties/employer',
          '/body/properties/formerEmployer',
        ]),
      );
      expect(errors).toHaveLength(12); // each violation exactly once
      for (const error of errors) expect(error.message).toEqual(expect.any(String));
      await t.http.get(`${DOCS}/invalid-person`).set(editor()).expect(404);
    });

    it('names the offending element of an array property', async () => {
      await make.type('Roster', [
        { name: 'scores', dataType: 'integer', array: true },
        { name: 'members', dataType: 'reference', referenceType: 'Company', array: true },
      ]);
      const res = await t.http
        .post(DOCS)
        .set(editor())
        .send({ objectType: 'Roster', properties: { scores: [1, 'two', 3.5], members: ['acme', 'ghost'] } })
        .expect(400);
      expect(new Set(res.body.errors.map((e: Violation) => e.path))).toEqual(
        new Set(['/body/properties/scores/1', '/body/properties/scores/2', '/body/properties/members/1']),
      );
    });

    it('accepts a document whose values all have the right shape', async () => {
      const res = await t.http
        .post(DOCS)
        .set(editor())
        .send({
          objectType: 'Person',
          properties: {
            name: 'Valid',
            age: 36,
            active: true,
            height: 1.72,
            birthDate: '2020-02-29',
            lastSeen: '2021-03-01T10:00:00Z',
            status: 'retired',
            tags: ['a', 'b'],
            nickname: 'V',
            employer: 'acme',
          },
        });
      expect(res.status).toBe(201);
    });

    it('returns 409 when a unique value is taken, but accepts it on another branch', async () => {
      await make.branch('unique-elsewhere');
      await make.document('Person', { name: 'U1', email: 'u@example.com' });
      const res = await t.http
        .post(DOCS)
        .set(editor())
        .send({ objectType: 'Person', properties: { name: 'U2', email: 'u@example.com' } })
        .expect(409);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body.errors.map((e: Violation) => e.path)).toEqual(['/body/properties/email']);
      await t.http
        .post(`${DOCS}?branch=unique-elsewhere`)
        .set(editor())
        .send({ objectType: 'Person', properties: { name: 'U2', email: 'u@example.com' } })
        .expect(201);
    });

    it('returns 409 for a unique value held by a document the branch inherited', async () => {
      await make.document('Person', { name: 'Inherited', email: 'inherited@example.com' });
      await make.branch('unique-inherited');
      await t.http
        .post(`${DOCS}?branch=unique-inherited`)
        .set(editor())
        .send({ objectType: 'Person', properties: { name: 'Copy', email: 'inherited@example.com' } })
        .expect(409);
    });

    it('frees a unique value when its holder is deleted', async () => {
      await make.document('Person', { name: 'Holder', email: 'freed@example.com' }, 'unique-holder');
      await t.http.delete(`${DOCS}/unique-holder`).set(editor()).expect(204);
      await t.http
        .post(DOCS)
        .set(editor())
        .send({ objectType: 'Person', properties: { name: 'Next', email: 'freed@example.com' } })
        .expect(201);
    });

    it('treats null on an optional property as absent', async () => {
      const res = await t.http
        .post(DOCS)
        .set(editor())
        .send({ objectType: 'Person', id: 'nully', properties: { name: 'N', nickname: null, age: null } })
        .expect(201);
      expect(res.body.properties).toEqual({ name: 'N' });
      const read = await t.http.get(`${DOCS}/nully`).set(editor()).expect(200);
      expect(read.body.properties).toEqual({ name: 'N' });
    });
  });

  describe('PUT /documents/crud/:id', () => {
    it('replaces the properties and keeps the creation metadata', async () => {
      const created = await make.document('Person', { name: 'Before', age: 1, nickname: 'B' }, 'put-me');
      const res = await t.http
        .put(`${DOCS}/put-me`)
        .set(t.as('admin'))
        .send({ properties: { name: 'After' } })
        .expect(200);
      expect(res.body.properties).toEqual({ name: 'After' });
      expect(res.body.version).not.toBe(created.version);
      expect(res.headers.etag).toBe(etagOf(res.body.version));
      expect(res.body.createdAt).toBe(created.createdAt);
      expect(res.body.createdBy).toBe('editor');
      expect(res.body.updatedBy).toBe('admin');
      const read = await t.http.get(`${DOCS}/put-me`).set(editor()).expect(200);
      expect(read.body).toEqual(res.body);
    });

    it('returns 400 when objectType differs from the document type', async () => {
      await make.document('Person', { name: 'Typed' }, 'put-typed');
      const res = await t.http
        .put(`${DOCS}/put-typed`)
        .set(editor())
        .send({ objectType: 'Company', properties: { name: 'Typed' } })
        .expect(400);
      expect(res.body.errors.map((e: Violation) => e.path)).toEqual(['/body/objectType']);
      const read = await t.http.get(`${DOCS}/put-typed`).set(editor()).expect(200);
      expect(read.body.objectType).toBe('Person');
    });

    it('creates a missing document when objectType is given (201 + Location)', async () => {
      const res = await t.http
        .put(`${DOCS}/put-created`)
        .set(editor())
        .send({ objectType: 'Person', properties: { name: 'Fresh' } })
        .expect(201);
      expect(res.headers.location).toBe(`${DOCS}/put-created?branch=main`);
      expect(res.body).toMatchObject({
        id: 'put-created',
        objectType: 'Person',
        properties: { name: 'Fresh' },
      });
      await t.http.get(`${DOCS}/put-created`).set(editor()).expect(200);
    });

    it('returns 400 for a missing document without objectType', async () => {
      const res = await t.http
        .put(`${DOCS}/put-untyped`)
        .set(editor())
        .send({ properties: { name: 'Nope' } })
        .expect(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body.errors.map((e: Violation) => e.path)).toEqual(['/body/objectType']);
      await t.http.get(`${DOCS}/put-untyped`).set(editor()).expect(404);
    });
  });

  describe('PATCH /documents/crud/:id', () => {
    const patch = (id: string, body: unknown) =>
      t.http.patch(`${DOCS}/${id}`).set(editor()).set('Content-Type', MERGE_PATCH).send(JSON.stringify(body));

    it('sets a property and removes the ones patched to null', async () => {
      const created = await make.document('Person', { name: 'Pat', age: 36, nickname: 'P' }, 'patch-me');
      const res = await patch('patch-me', { properties: { age: 37, nickname: null } }).expect(200);
      expect(res.body.properties).toEqual({ name: 'Pat', age: 37 });
      expect(res.body.version).toBeGreaterThan(created.version);
      const read = await t.http.get(`${DOCS}/patch-me`).set(editor()).expect(200);
      expect(read.body.properties).toEqual({ name: 'Pat', age: 37 });
    });

    it('returns 400 when the patch touches anything but properties', async () => {
      await make.document('Person', { name: 'Fixed' }, 'patch-fixed');
      const res = await patch('patch-fixed', { id: 'other', version: 1, properties: { age: 2 } }).expect(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(new Set(res.body.errors.map((e: Violation) => e.path))).toEqual(
        new Set(['/body/id', '/body/version']),
      );
      const read = await t.http.get(`${DOCS}/patch-fixed`).set(editor()).expect(200);
      expect(read.body.properties).toEqual({ name: 'Fixed' });
    });

    it('returns 415 for application/json', async () => {
      await make.document('Person', { name: 'Json' }, 'patch-json');
      const res = await t.http
        .patch(`${DOCS}/patch-json`)
        .set(editor())
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ properties: { age: 3 } }))
        .expect(415);
      expect(res.headers['content-type']).toMatch(PROBLEM);
    });

    it('returns 400 when the patched document would be invalid', async () => {
      await make.document('Person', { name: 'Valid' }, 'patch-invalid');
      const res = await patch('patch-invalid', { properties: { name: null, age: 'old' } }).expect(400);
      expect(new Set(res.body.errors.map((e: Violation) => e.path))).toEqual(
        new Set(['/body/properties/name', '/body/properties/age']),
      );
      const read = await t.http.get(`${DOCS}/patch-invalid`).set(editor()).expect(200);
      expect(read.body.properties).toEqual({ name: 'Valid' });
    });
  });

  describe('DELETE /documents/crud/:id', () => {
    it('returns 204, after which the document is 404', async () => {
      await make.document('Person', { name: 'Gone' }, 'delete-me');
      await t.http.delete(`${DOCS}/delete-me`).set(editor()).expect(204);
      await t.http.get(`${DOCS}/delete-me`).set(editor()).expect(404);
    });

    it('returns 409 with the total of referrers and a sample of 20, when there are more', async () => {
      await make.document('Company', { name: 'Globex' }, 'globex');
      for (let i = 0; i < 30; i++) {
        await make.document('Person', { name: `E${i}`, employer: 'globex' }, `globex-e${i}`);
      }
      for (let i = 0; i < 5; i++) {
        await make.document('Person', { name: `F${i}`, formerEmployer: 'globex' }, `globex-f${i}`);
      }
      const res = await t.http.delete(`${DOCS}/globex`).set(editor()).expect(409);
      expect(res.body.referencedBy.total).toBe(35);
      expect(res.body.referencedBy.sample).toHaveLength(20);
      expect(res.body.detail).toContain('35 document(s)');
      expect(res.body.detail).toContain('and 15 more');
    });

    it('returns 409 naming the referrer, and succeeds once the referrer is gone', async () => {
      await make.document('Company', { name: 'Initech' }, 'initech');
      await make.document('Person', { name: 'Peter', employer: 'initech' }, 'peter');
      const res = await t.http.delete(`${DOCS}/initech`).set(editor()).expect(409);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body.detail).toContain('peter');
      expect(res.body.referencedBy).toEqual({
        total: 1,
        sample: [{ id: 'peter', objectType: 'Person', property: 'employer' }],
      });
      await t.http.get(`${DOCS}/initech`).set(editor()).expect(200);

      await t.http.delete(`${DOCS}/peter`).set(editor()).expect(204);
      await t.http.delete(`${DOCS}/initech`).set(editor()).expect(204);
      await t.http.get(`${DOCS}/initech`).set(editor()).expect(404);
    });
  });

  describe('GET /documents/crud (list)', () => {
    beforeAll(async () => {
      await make.type('Gadget', [
        { name: 'count', dataType: 'integer' },
        { name: 'enabled', dataType: 'boolean' },
        { name: 'color', dataType: 'enum', enumValues: ['red', 'green', 'blue'] },
        { name: 'labels', dataType: 'string', array: true },
      ]);
      await make.document('Gadget', { count: 1, enabled: true, color: 'red', labels: ['x', 'y'] }, 'g1');
      await make.document('Gadget', { count: 2, enabled: false, color: 'green', labels: ['y'] }, 'g2');
      await make.document('Gadget', { count: 1, enabled: false, color: 'blue', labels: ['z'] }, 'g3');
      await make.document('Gadget', { count: 3, enabled: true, color: 'red' }, 'g4');
    });
    const ids = (res: { body: { items: Doc[] } }) => res.body.items.map((d) => d.id).sort();
    const list = (query: string) => t.http.get(`${DOCS}?${query}`).set(t.as('viewer'));

    it('returns {items, nextCursor} filtered by objectType', async () => {
      const res = await list('objectType=Gadget').expect(200);
      expect(Object.keys(res.body).sort()).toEqual(['items', 'nextCursor']);
      expect(ids(res)).toEqual(['g1', 'g2', 'g3', 'g4']);
      expect(res.body.nextCursor).toBeNull();
      expect(res.body.items.every((d: { objectType: string }) => d.objectType === 'Gadget')).toBe(true);
    });

    it.each([
      ['integer', 'property.count=1', ['g1', 'g3']],
      ['boolean', 'property.enabled=true', ['g1', 'g4']],
      ['boolean false', 'property.enabled=false', ['g2', 'g3']],
      ['enum', 'property.color=red', ['g1', 'g4']],
      ['array contains', 'property.labels=y', ['g1', 'g2']],
      ['several filters', 'property.count=1&property.enabled=false', ['g3']],
    ])('filters by a typed property value (%s)', async (_kind, filter, expected) => {
      const res = await list(`objectType=Gadget&${filter}`).expect(200);
      expect(ids(res)).toEqual(expected);
    });

    it.each([
      ['an unknown property filter', 'objectType=Gadget&property.weight=3', '/query/property.weight'],
      ['a property filter without objectType', 'property.count=1', '/query/objectType'],
      ['an ill-typed filter value', 'objectType=Gadget&property.count=many', '/query/property.count'],
      ['limit 0', 'objectType=Gadget&limit=0', '/query/limit'],
      ['limit 1001', 'objectType=Gadget&limit=1001', '/query/limit'],
      ['a malformed cursor', 'objectType=Gadget&cursor=not-a-cursor', '/query/cursor'],
    ])('returns 400 for %s', async (_case, query, path) => {
      const res = await list(query).expect(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body.errors.map((e: Violation) => e.path)).toContain(path);
    });

    it('accepts limit 1 and 1000', async () => {
      const one = await list('objectType=Gadget&limit=1').expect(200);
      expect(one.body.items).toHaveLength(1);
      expect(one.body.nextCursor).toEqual(expect.any(String));
      const max = await list('objectType=Gadget&limit=1000').expect(200);
      expect(max.body.items).toHaveLength(4);
    });

    describe('cursor pagination', () => {
      const seeded: string[] = [];
      beforeAll(async () => {
        await make.type('Page', [{ name: 'n', dataType: 'integer' }]);
        for (let i = 0; i < 23; i++) {
          const id = `pg${String(i * 10 + 10).padStart(4, '0')}`;
          await make.document('Page', { n: i }, id);
          seeded.push(id);
        }
      });

      it.each(['id', 'createdAt'])('walks every item exactly once (sort=%s)', async (sort) => {
        const walked = await walk(`objectType=Page&sort=${sort}`, 5);
        expect(walked).toHaveLength(seeded.length);
        expect(new Set(walked)).toEqual(new Set(seeded));
        expect(walked).toEqual(seeded); // seeded in both id and creation order
      });

      it('walks in reverse order with sort=-id', async () => {
        const walked = await walk('objectType=Page&sort=-id', 4);
        expect(walked).toEqual([...seeded].reverse());
      });

      it.each(['id', 'createdAt'])(
        'stays stable when documents are inserted between page fetches (sort=%s)',
        async (sort) => {
          const type = `Live${sort === 'id' ? 'ById' : 'ByTime'}`;
          await make.type(type, [{ name: 'n', dataType: 'integer' }]);
          const before: string[] = [];
          for (let i = 0; i < 20; i++) {
            const id = `${sort}${String(i * 10 + 10).padStart(4, '0')}`;
            await make.document(type, { n: i }, id);
            before.push(id);
          }
          // Inserted while the walk runs: some ids sort before the pages already read, some after.
          const insert = (page: number) =>
            Promise.all(
              [
                `${sort}${String(page * 40 + 5).padStart(4, '0')}`,
                `${sort}${9000 + page}`,
                `${sort}0000${page}`,
              ].map((id, i) => make.document(type, { n: 1000 + page * 3 + i }, id)),
            );
          const walked = await walk(`objectType=${type}&sort=${sort}`, 4, insert);
          expect(new Set(walked).size).toBe(walked.length);
          for (const id of before) expect(walked).toContain(id);
          const final = await walk(`objectType=${type}&sort=${sort}`, 1000);
          expect(final.length).toBeGreaterThan(before.length);
        },
      );

      it.each(['id', 'createdAt'])(
        'walks a branch through what it inherited, its own writes and deletions (sort=%s)',
        async (sort) => {
          const branch = `pages-${sort}`;
          await make.branch(branch);
          const own = ['pg9001', 'pg9002', 'pg9003'];
          for (const id of own) await make.document('Page', { n: 1 }, id, branch);
          await t.http
            .put(`${DOCS}/pg0050?branch=${branch}`)
            .set(editor())
            .send({ properties: { n: -1 } })
            .expect(200);
          await t.http.delete(`${DOCS}/pg0060?branch=${branch}`).set(editor()).expect(204);

          const walked = await walk(`branch=${branch}&objectType=Page&sort=${sort}`, 4);
          expect(walked).toEqual([...seeded.filter((id) => id !== 'pg0060'), ...own]);
        },
      );

      it('rejects a cursor made for another sort order', async () => {
        const first = await list('objectType=Page&sort=id&limit=2').expect(200);
        const res = await list(
          `objectType=Page&sort=createdAt&limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`,
        ).expect(400);
        expect(res.body.errors.map((e: Violation) => e.path)).toContain('/query/cursor');
      });
    });
  });

  describe('branch isolation', () => {
    it('hides a document created on a branch from main', async () => {
      await make.branch('iso-create');
      await make.document('Person', { name: 'Branch only' }, 'iso-branch-doc', 'iso-create');
      await t.http.get(`${DOCS}/iso-branch-doc?branch=iso-create`).set(editor()).expect(200);
      await t.http.get(`${DOCS}/iso-branch-doc`).set(editor()).expect(404);
      const list = await t.http.get(`${DOCS}?objectType=Person&limit=1000`).set(editor()).expect(200);
      expect(list.body.items.map((d: Doc) => d.id)).not.toContain('iso-branch-doc');
    });

    it("hides main's later changes from the branch", async () => {
      await make.document('Person', { name: 'Original' }, 'iso-shared');
      await make.branch('iso-later');
      await t.http
        .put(`${DOCS}/iso-shared`)
        .set(editor())
        .send({ properties: { name: 'Changed on main' } })
        .expect(200);
      await make.document('Person', { name: 'Main later' }, 'iso-main-later');

      const onBranch = await t.http.get(`${DOCS}/iso-shared?branch=iso-later`).set(editor()).expect(200);
      expect(onBranch.body.properties).toEqual({ name: 'Original' });
      await t.http.get(`${DOCS}/iso-main-later?branch=iso-later`).set(editor()).expect(404);
      const onMain = await t.http.get(`${DOCS}/iso-shared`).set(editor()).expect(200);
      expect(onMain.body.properties).toEqual({ name: 'Changed on main' });
    });

    it('keeps a document on main when it is deleted on the branch', async () => {
      await make.document('Person', { name: 'Survivor' }, 'iso-survivor');
      await make.branch('iso-delete');
      await t.http.delete(`${DOCS}/iso-survivor?branch=iso-delete`).set(editor()).expect(204);
      await t.http.get(`${DOCS}/iso-survivor?branch=iso-delete`).set(editor()).expect(404);
      const onMain = await t.http.get(`${DOCS}/iso-survivor`).set(editor()).expect(200);
      expect(onMain.body.properties).toEqual({ name: 'Survivor' });
    });
  });

  describe('commits', () => {
    it('records a write with its X-Commit-Message and the caller as author', async () => {
      await make.branch('commit-log');
      await t.http
        .post(`${DOCS}?branch=commit-log`)
        .set(t.as('admin'))
        .set('X-Commit-Message', 'Add Linus for the kernel team')
        .send({ objectType: 'Person', id: 'linus', properties: { name: 'Linus' } })
        .expect(201);
      const res = await t.http.get('/api/v1/branches/commit-log/commits').set(editor()).expect(200);
      expect(res.body[0]).toMatchObject({ message: 'Add Linus for the kernel team', author: 'admin' });

      await t.http
        .delete(`${DOCS}/linus?branch=commit-log`)
        .set(editor())
        .set('X-Commit-Message', 'Remove Linus')
        .expect(204);
      const after = await t.http.get('/api/v1/branches/commit-log/commits').set(editor()).expect(200);
      expect(after.body[0]).toMatchObject({ message: 'Remove Linus', author: 'editor' });
      expect(after.body[1].id).toBe(res.body[0].id);
    });
  });

  describe('conditional requests', () => {
    let doc: Doc;
    beforeAll(async () => {
      doc = await make.document('Person', { name: 'Cached' }, 'conditional');
    });

    const expectNotModified = (res: { status: number; headers: Record<string, string>; text?: string }) => {
      expect(res.status).toBe(304);
      expect(res.headers.etag).toBe(etagOf(doc.version));
      expect(res.headers['cache-control']).toBe(CACHE_CONTROL);
      expect(res.headers.vary).toMatch(/Authorization/);
      expect(res.text ?? '').toBe('');
    };

    it('sends Cache-Control and Vary on a 200', async () => {
      const res = await t.http.get(`${DOCS}/conditional`).set(editor()).expect(200);
      expect(res.headers.etag).toBe(etagOf(doc.version));
      expect(res.headers['cache-control']).toBe(CACHE_CONTROL);
      expect(res.headers.vary).toMatch(/Authorization/);
    });

    it('returns 304 with ETag, Cache-Control, Vary and no body for the current ETag', async () => {
      expectNotModified(
        await t.http.get(`${DOCS}/conditional`).set(editor()).set('If-None-Match', etagOf(doc.version)),
      );
    });

    it('returns 304 also when the request says Cache-Control: no-cache', async () => {
      expectNotModified(
        await t.http
          .get(`${DOCS}/conditional`)
          .set(editor())
          .set('Cache-Control', 'no-cache')
          .set('If-None-Match', etagOf(doc.version)),
      );
    });

    it('returns 304 for a weak tag of the current version', async () => {
      expectNotModified(
        await t.http.get(`${DOCS}/conditional`).set(editor()).set('If-None-Match', `W/"${doc.version}"`),
      );
    });

    it('returns 304 for a list of tags containing the current one', async () => {
      expectNotModified(
        await t.http
          .get(`${DOCS}/conditional`)
          .set(editor())
          .set('If-None-Match', `"999999999", ${etagOf(doc.version)}, W/"1"`),
      );
    });

    it('returns 304 for If-None-Match: * on an existing document', async () => {
      expectNotModified(await t.http.get(`${DOCS}/conditional`).set(editor()).set('If-None-Match', '*'));
    });

    it('answers HEAD with 304 for the current ETag', async () => {
      const res = await t.http
        .head(`${DOCS}/conditional`)
        .set(editor())
        .set('If-None-Match', etagOf(doc.version));
      expectNotModified(res);
    });

    it('returns 200 with the body when If-None-Match does not match', async () => {
      const res = await t.http
        .get(`${DOCS}/conditional`)
        .set(editor())
        .set('If-None-Match', '"999999999"')
        .expect(200);
      expect(res.body.id).toBe('conditional');
    });

    it('returns 412 for a PUT with a stale If-Match and changes nothing', async () => {
      const stale = await make.document('Person', { name: 'Stale v1' }, 'stale');
      const current = await t.http
        .put(`${DOCS}/stale`)
        .set(editor())
        .send({ properties: { name: 'Stale v2' } })
        .expect(200);
      const res = await t.http
        .put(`${DOCS}/stale`)
        .set(editor())
        .set('If-Match', etagOf(stale.version))
        .send({ properties: { name: 'Stale v3' } })
        .expect(412);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      const read = await t.http.get(`${DOCS}/stale`).set(editor()).expect(200);
      expect(read.body.properties).toEqual({ name: 'Stale v2' });
      expect(read.body.version).toBe(current.body.version);
    });

    it('returns 412 for a weak If-Match even of the current version', async () => {
      const res = await t.http
        .put(`${DOCS}/conditional`)
        .set(editor())
        .set('If-Match', `W/"${doc.version}"`)
        .send({ properties: { name: 'Weak' } })
        .expect(412);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      const read = await t.http.get(`${DOCS}/conditional`).set(editor()).expect(200);
      expect(read.body.version).toBe(doc.version);
    });

    it('returns 412 for If-None-Match: * on a PUT of an existing document', async () => {
      await t.http
        .put(`${DOCS}/conditional`)
        .set(editor())
        .set('If-None-Match', '*')
        .send({ properties: { name: 'Overwrite' } })
        .expect(412);
      const read = await t.http.get(`${DOCS}/conditional`).set(editor()).expect(200);
      expect(read.body.properties).toEqual({ name: 'Cached' });
    });

    it('returns 412 for a DELETE with a stale If-Match and keeps the document', async () => {
      const old = await make.document('Person', { name: 'Keep v1' }, 'keep');
      await t.http
        .put(`${DOCS}/keep`)
        .set(editor())
        .send({ properties: { name: 'Keep v2' } })
        .expect(200);
      await t.http.delete(`${DOCS}/keep`).set(editor()).set('If-Match', etagOf(old.version)).expect(412);
      await t.http.get(`${DOCS}/keep`).set(editor()).expect(200);
    });

    it('returns 412 for If-Match: * on a PUT of a missing document and creates nothing', async () => {
      await t.http
        .put(`${DOCS}/star-missing`)
        .set(editor())
        .set('If-Match', '*')
        .send({ objectType: 'Person', properties: { name: 'Nobody' } })
        .expect(412);
      await t.http.get(`${DOCS}/star-missing`).set(editor()).expect(404);
    });

    it('writes with If-Match: * on an existing document', async () => {
      await make.document('Person', { name: 'Star' }, 'star');
      const res = await t.http
        .put(`${DOCS}/star`)
        .set(editor())
        .set('If-Match', '*')
        .send({ properties: { name: 'Star 2' } })
        .expect(200);
      expect(res.body.properties).toEqual({ name: 'Star 2' });
    });

    it('writes with a matching If-Match and returns the new ETag', async () => {
      const matched = await make.document('Person', { name: 'Match' }, 'match');
      const res = await t.http
        .put(`${DOCS}/match`)
        .set(editor())
        .set('If-Match', etagOf(matched.version))
        .send({ properties: { name: 'Match 2' } })
        .expect(200);
      expect(res.body.properties).toEqual({ name: 'Match 2' });
      expect(res.headers.etag).toBe(etagOf(res.body.version));
      expect(res.body.version).not.toBe(matched.version);
    });
  });

  describe('roles', () => {
    it('lets a viewer read', async () => {
      await make.document('Person', { name: 'Public' }, 'readable');
      const res = await t.http.get(`${DOCS}/readable`).set(t.as('viewer')).expect(200);
      expect(res.body.id).toBe('readable');
    });

    it('returns 403 to a viewer who writes', async () => {
      const res = await t.http
        .post(DOCS)
        .set(t.as('viewer'))
        .send({ objectType: 'Person', id: 'viewer-made', properties: { name: 'V' } })
        .expect(403);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      await t.http.get(`${DOCS}/viewer-made`).set(editor()).expect(404);
    });

    it('returns 401 without a token', async () => {
      const res = await t.http.get(`${DOCS}/readable`).expect(401);
      expect(res.headers['content-type']).toMatch(PROBLEM);
    });
  });
});
