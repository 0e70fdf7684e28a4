import { TestApp, startTestApp } from '../support/app';
import { Property, given } from '../support/given';
import { defined, first } from '../support/one';
import { storeTargets } from '../support/store-targets';

const PROBLEM = /^application\/problem\+json/;
const STRONG_ETAG = /^"[^"]+"$/;

/** The ETag of an answer that must carry one. */
const etagOf = (res: { headers: Record<string, string> }) => defined(res.headers.etag, 'an ETag header');

interface Violation {
  path: string;
  message: string;
}

interface BreakingChange {
  property: string;
  change: string;
  affectedDocuments: number;
  sampleDocumentIds: string[];
}

const typePath = (branch: string, name = '') =>
  `/api/v1/schemas/${branch}/object-types${name ? `/${name}` : ''}`;

/** The violation paths of a 400 problem, sorted. */
const pathsOf = (body: { errors?: Violation[] }) => (body.errors ?? []).map((e) => e.path).sort();

/** One breaking change per property, sample ids sorted, for order-free comparison. */
const byProperty = (changes: BreakingChange[]) =>
  Object.fromEntries(
    changes.map((c) => [c.property, { ...c, sampleDocumentIds: [...c.sampleDocumentIds].sort() }]),
  );

describe.each(storeTargets())('object types on $name', (target) => {
  describe('with default settings', () => {
    let t: TestApp;
    let make: ReturnType<typeof given>;
    beforeAll(async () => {
      t = await startTestApp(target);
      make = given(t);
    });
    afterAll(() => t?.close());

    const put = (branch: string, name: string, body: object, headers: Record<string, string> = {}) =>
      t.http
        .put(typePath(branch, name))
        .set({ ...t.as('editor'), ...headers })
        .send(body);
    const getType = async (branch: string, name: string) =>
      (await t.http.get(typePath(branch, name)).set(t.as('viewer')).expect(200)).body;
    const listEtag = async (branch: string): Promise<string> => {
      const res = await t.http.get(typePath(branch)).set(t.as('viewer')).expect(200);
      expect(res.headers.etag).toMatch(STRONG_ETAG);
      return etagOf(res);
    };

    /** A type with documents whose ids are `${name}-<i>`; returns the ids. */
    const seed = async (
      name: string,
      properties: Property[],
      documents: Record<string, unknown>[],
      branch = 'main',
    ) => {
      await make.type(name, properties, branch);
      const ids: string[] = [];
      for (const [i, values] of documents.entries()) {
        ids.push((await make.document(name, values, `${name}-${i + 1}`, branch)).id);
      }
      return ids;
    };

    describe('POST /schemas/:branch/object-types', () => {
      it('creates a type: 201 with Location, ETag, version, updatedAt, updatedBy and property defaults', async () => {
        const res = await t.http
          .post(typePath('main'))
          .set(t.as('editor'))
          .send({
            name: 'Person',
            displayName: 'A person',
            properties: [
              { name: 'fullName', dataType: 'string', required: true },
              { name: 'age', dataType: 'integer' },
            ],
          })
          .expect(201);

        expect(res.headers.location).toBe('/api/v1/schemas/main/object-types/Person');
        expect(res.headers.etag).toMatch(STRONG_ETAG);
        expect(res.body).toEqual(
          expect.objectContaining({
            name: 'Person',
            displayName: 'A person',
            version: expect.any(Number),
            updatedAt: expect.any(String),
            updatedBy: 'editor',
          }),
        );
        expect(Number.isNaN(Date.parse(res.body.updatedAt))).toBe(false);
        expect(res.body.properties).toEqual([
          { name: 'fullName', dataType: 'string', required: true, array: false, unique: false },
          { name: 'age', dataType: 'integer', required: false, array: false, unique: false },
        ]);
      });

      it('accepts an empty properties list', async () => {
        const res = await t.http
          .post(typePath('main'))
          .set(t.as('editor'))
          .send({ name: 'Empty', properties: [] })
          .expect(201);
        expect(res.body.properties).toEqual([]);
      });

      it('returns a 409 problem for a second POST of the same name', async () => {
        await make.type('Twice');
        const res = await t.http
          .post(typePath('main'))
          .set(t.as('editor'))
          .send({ name: 'Twice', properties: [{ name: 'x', dataType: 'string' }] })
          .expect(409);
        expect(res.headers['content-type']).toMatch(PROBLEM);
        expect((await getType('main', 'Twice')).properties).toEqual([]);
      });

      it('returns 404 on an unknown branch', async () => {
        await t.http
          .post(typePath('no-such-branch'))
          .set(t.as('editor'))
          .send({ name: 'Lost', properties: [] })
          .expect(404);
      });
    });

    describe('GET /schemas/:branch/object-types', () => {
      it('lists the types of the branch as {branch, items} with an ETag', async () => {
        await make.type('Listed', [{ name: 'a', dataType: 'string' }]);
        const res = await t.http.get(typePath('main')).set(t.as('viewer')).expect(200);
        expect(res.headers.etag).toMatch(STRONG_ETAG);
        expect(res.body.branch).toBe('main');
        expect(res.body.items).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ name: 'Listed', version: expect.any(Number), updatedBy: 'editor' }),
          ]),
        );
      });

      it('changes the list ETag after every schema write on the branch', async () => {
        await make.branch('list-tags');
        const initial = await listEtag('list-tags');

        await make.type('Tagged', [], 'list-tags');
        const afterPost = await listEtag('list-tags');
        expect(afterPost).not.toBe(initial);

        await put('list-tags', 'Tagged', {
          name: 'Tagged',
          properties: [{ name: 'a', dataType: 'string' }],
        }).expect(200);
        const afterPut = await listEtag('list-tags');
        expect(afterPut).not.toBe(afterPost);

        await t.http.delete(typePath('list-tags', 'Tagged')).set(t.as('editor')).expect(204);
        const afterDelete = await listEtag('list-tags');
        expect(new Set([initial, afterPost, afterPut, afterDelete]).size).toBe(4);
      });

      it('keeps the list ETag across document writes', async () => {
        await make.branch('doc-writes');
        await make.type('Note', [{ name: 'text', dataType: 'string' }], 'doc-writes');
        const before = await listEtag('doc-writes');
        await make.document('Note', { text: 'hello' }, undefined, 'doc-writes');
        expect(await listEtag('doc-writes')).toBe(before);
      });

      it('does not change the list ETag of another branch', async () => {
        await make.branch('quiet');
        const before = await listEtag('quiet');
        await make.type('ElsewhereOnly', [], 'main');
        expect(await listEtag('quiet')).toBe(before);
      });

      it('answers 304 when the list is revalidated with its ETag', async () => {
        const etag = await listEtag('main');
        const res = await t.http
          .get(typePath('main'))
          .set(t.as('viewer'))
          .set('If-None-Match', etag)
          .expect(304);
        expect(res.headers.etag).toBe(etag);
        expect(res.text ?? '').toBe('');
        await make.type('AfterRevalidation');
        await t.http.get(typePath('main')).set(t.as('viewer')).set('If-None-Match', etag).expect(200);
      });

      it('returns 404 for an unknown branch', async () => {
        const res = await t.http.get(typePath('no-such-branch')).set(t.as('viewer')).expect(404);
        expect(res.headers['content-type']).toMatch(PROBLEM);
      });
    });

    describe('GET /schemas/:branch/object-types/:typeName', () => {
      it('gets a type with its ETag', async () => {
        const created = await make.type('Fetched', [{ name: 'a', dataType: 'boolean' }]);
        const res = await t.http.get(typePath('main', 'Fetched')).set(t.as('viewer')).expect(200);
        expect(res.headers.etag).toMatch(STRONG_ETAG);
        expect(res.body).toEqual(created);
      });

      it('returns a 404 problem for a missing type', async () => {
        const res = await t.http.get(typePath('main', 'Missing')).set(t.as('viewer')).expect(404);
        expect(res.headers['content-type']).toMatch(PROBLEM);
      });

      it('returns 404 for a type on an unknown branch', async () => {
        await t.http.get(typePath('no-such-branch', 'Person')).set(t.as('viewer')).expect(404);
      });
    });

    describe('validation', () => {
      const post = (body: object) => t.http.post(typePath('main')).set(t.as('editor')).send(body);

      it.each<[string, object, string]>([
        ['a type name that breaks the pattern', { name: '1Person', properties: [] }, '/body/name'],
        [
          'a property name that breaks the pattern',
          { name: 'V1', properties: [{ name: 'first-name', dataType: 'string' }] },
          '/body/properties/0/name',
        ],
        [
          'an unknown dataType',
          { name: 'V2', properties: [{ name: 'price', dataType: 'money' }] },
          '/body/properties/0/dataType',
        ],
        [
          'an enum without enumValues',
          { name: 'V3', properties: [{ name: 'status', dataType: 'enum' }] },
          '/body/properties/0/enumValues',
        ],
        [
          'enumValues on a non-enum',
          { name: 'V4', properties: [{ name: 'label', dataType: 'string', enumValues: ['a'] }] },
          '/body/properties/0/enumValues',
        ],
        [
          'a reference without referenceType',
          { name: 'V5', properties: [{ name: 'owner', dataType: 'reference' }] },
          '/body/properties/0/referenceType',
        ],
        [
          'referenceType on a non-reference',
          { name: 'V6', properties: [{ name: 'title', dataType: 'string', referenceType: 'Person' }] },
          '/body/properties/0/referenceType',
        ],
        [
          'duplicate property names',
          {
            name: 'V7',
            properties: [
              { name: 'dup', dataType: 'string' },
              { name: 'dup', dataType: 'integer' },
            ],
          },
          '/body/properties',
        ],
        [
          'unique on an array property',
          { name: 'V8', properties: [{ name: 'tags', dataType: 'string', array: true, unique: true }] },
          '/body/properties/0/unique',
        ],
        [
          'a primaryKey naming a missing property',
          { name: 'V9', primaryKey: 'code', properties: [{ name: 'name', dataType: 'string' }] },
          '/body/primaryKey',
        ],
      ])('returns a 400 problem for %s', async (_, body, path) => {
        const res = await post(body).expect(400);
        expect(res.headers['content-type']).toMatch(PROBLEM);
        expect(pathsOf(res.body)).toEqual([path]);
        expect(res.body.errors[0].message).toEqual(expect.any(String));
        // Nothing was created (a name that breaks the pattern cannot even be asked for: 400).
        const list = await t.http.get('/api/v1/schemas/main/object-types').set(t.as('viewer')).expect(200);
        const names = (list.body.items as { name: string }[]).map((i) => i.name);
        expect(names).not.toContain((body as { name: string }).name);
      });

      it('lists every violation of a body in one response', async () => {
        const res = await post({
          name: '1Bad',
          primaryKey: 'missing',
          properties: [
            { name: 'bad-name', dataType: 'string' },
            { name: 'price', dataType: 'money' },
            { name: 'status', dataType: 'enum' },
            { name: 'label', dataType: 'string', enumValues: ['a'] },
            { name: 'owner', dataType: 'reference' },
            { name: 'title', dataType: 'string', referenceType: 'Person' },
            { name: 'tags', dataType: 'string', array: true, unique: true },
            { name: 'dup', dataType: 'string' },
            { name: 'dup', dataType: 'string' },
          ],
        }).expect(400);
        expect(pathsOf(res.body)).toEqual(
          [
            '/body/name',
            '/body/primaryKey',
            '/body/properties',
            '/body/properties/0/name',
            '/body/properties/1/dataType',
            '/body/properties/2/enumValues',
            '/body/properties/3/enumValues',
            '/body/properties/4/referenceType',
            '/body/properties/5/referenceType',
            '/body/properties/6/unique',
          ].sort(),
        );
      });

      it('returns 400 at /properties/<i>/referenceType for each type missing on the branch', async () => {
        await make.type('Target');
        const res = await post({
          name: 'Dangling',
          properties: [
            { name: 'ok', dataType: 'reference', referenceType: 'Target' },
            { name: 'first', dataType: 'reference', referenceType: 'Nowhere' },
            { name: 'second', dataType: 'reference', referenceType: 'Neverland', array: true },
          ],
        }).expect(400);
        expect(res.headers['content-type']).toMatch(PROBLEM);
        expect(pathsOf(res.body)).toEqual([
          '/body/properties/1/referenceType',
          '/body/properties/2/referenceType',
        ]);
        await t.http.get(typePath('main', 'Dangling')).set(t.as('viewer')).expect(404);
      });

      it('checks referenceType against the branch of the request', async () => {
        await make.branch('ref-branch');
        await make.type('BranchTarget', [], 'ref-branch');
        const body = {
          name: 'Pointer',
          properties: [{ name: 'to', dataType: 'reference', referenceType: 'BranchTarget' }],
        };
        const res = await post(body).expect(400);
        expect(pathsOf(res.body)).toEqual(['/body/properties/0/referenceType']);
        await t.http.post(typePath('ref-branch')).set(t.as('editor')).send(body).expect(201);
      });

      it('accepts a reference to the type itself', async () => {
        await make.type('TreeNode', [{ name: 'parent', dataType: 'reference', referenceType: 'TreeNode' }]);
        expect((await getType('main', 'TreeNode')).properties[0].referenceType).toBe('TreeNode');
      });

      it('returns 400 for an unknown body field', async () => {
        const res = await post({ name: 'Extra', properties: [], colour: 'blue' }).expect(400);
        expect(pathsOf(res.body)).toEqual(['/body/colour']);
      });
    });

    describe('PUT /schemas/:branch/object-types/:typeName', () => {
      it('replaces a type: 200, a new version and a new ETag', async () => {
        const created = await make.type('Replaced', [{ name: 'a', dataType: 'string' }]);
        const before = await t.http.get(typePath('main', 'Replaced')).set(t.as('viewer')).expect(200);
        const res = await put('main', 'Replaced', {
          name: 'Replaced',
          description: 'now with b',
          properties: [{ name: 'b', dataType: 'integer' }],
        }).expect(200);

        expect(res.body.version).not.toBe(created.version);
        expect(res.headers.etag).toMatch(STRONG_ETAG);
        expect(res.headers.etag).not.toBe(before.headers.etag);
        expect(res.body.properties).toEqual([
          { name: 'b', dataType: 'integer', required: false, array: false, unique: false },
        ]);
        const stored = await getType('main', 'Replaced');
        expect(stored).toEqual(res.body);
        expect(stored.description).toBe('now with b');
      });

      it('returns 400 when the body name differs from the path', async () => {
        await make.type('PathName');
        const res = await put('main', 'PathName', { name: 'OtherName', properties: [] }).expect(400);
        expect(pathsOf(res.body)).toEqual(['/body/name']);
        await t.http.get(typePath('main', 'OtherName')).set(t.as('viewer')).expect(404);
      });

      it('creates a missing type with 201 and a Location', async () => {
        const res = await put('main', 'PutCreated', {
          name: 'PutCreated',
          properties: [{ name: 'a', dataType: 'date' }],
        }).expect(201);
        expect(res.headers.location).toBe('/api/v1/schemas/main/object-types/PutCreated');
        expect(res.headers.etag).toMatch(STRONG_ETAG);
        expect(await getType('main', 'PutCreated')).toEqual(res.body);
      });

      it('validates a PUT body like a POST body', async () => {
        await make.type('PutInvalid');
        const res = await put('main', 'PutInvalid', {
          name: 'PutInvalid',
          properties: [
            { name: 'bad name', dataType: 'string' },
            { name: 'x', dataType: 'enum' },
          ],
        }).expect(400);
        expect(pathsOf(res.body)).toEqual(['/body/properties/0/name', '/body/properties/1/enumValues']);
      });

      it('accepts non-breaking changes while documents exist', async () => {
        await seed(
          'Calm',
          [
            { name: 'title', dataType: 'string', required: true },
            { name: 'status', dataType: 'enum', enumValues: ['open', 'closed'] },
            { name: 'score', dataType: 'integer' },
          ],
          [
            { title: 'one', status: 'open', score: 3 },
            { title: 'two', status: 'closed', score: 7 },
          ],
        );
        const changed = {
          name: 'Calm',
          properties: [
            { name: 'title', dataType: 'string' },
            { name: 'status', dataType: 'enum', enumValues: ['open', 'closed', 'archived'] },
            { name: 'score', dataType: 'decimal' },
            { name: 'notes', dataType: 'text' },
          ],
        };
        const res = await put('main', 'Calm', changed).expect(200);
        expect(res.body.properties.map((p: Property) => [p.name, p.dataType, p.required])).toEqual([
          ['title', 'string', false],
          ['status', 'enum', false],
          ['score', 'decimal', false],
          ['notes', 'text', false],
        ]);
        expect(res.body.properties[1].enumValues).toEqual(['open', 'closed', 'archived']);
        await make.document('Calm', { status: 'archived', score: 2.5 });
      });

      it.each<[string, Property[], Property[]]>([
        [
          'a new optional property',
          [{ name: 'a', dataType: 'string' }],
          [
            { name: 'a', dataType: 'string' },
            { name: 'b', dataType: 'integer' },
          ],
        ],
        [
          'removing the required flag',
          [{ name: 'a', dataType: 'string', required: true }],
          [{ name: 'a', dataType: 'string' }],
        ],
        [
          'adding an enum value',
          [{ name: 'a', dataType: 'enum', enumValues: ['x'] }],
          [{ name: 'a', dataType: 'enum', enumValues: ['x', 'y'] }],
        ],
        ['integer to decimal', [{ name: 'a', dataType: 'integer' }], [{ name: 'a', dataType: 'decimal' }]],
      ])('accepts %s while documents exist', async (label, before, after) => {
        const name = `Ok_${label.replace(/[^A-Za-z]+/g, '_')}`;
        const { dataType } = first(before, 'property');
        const value = dataType === 'enum' ? 'x' : dataType === 'integer' ? 4 : 'v';
        await seed(name, before, [{ a: value }, { a: value }]);
        const res = await put('main', name, { name, properties: after }).expect(200);
        expect(res.body.properties.map((p: Property) => p.name)).toEqual(after.map((p) => p.name));
      });

      describe('breaking changes while documents exist', () => {
        const expectBreaking = async (name: string, body: object) => {
          const before = await getType('main', name);
          const res = await put('main', name, body).expect(409);
          expect(res.headers['content-type']).toMatch(PROBLEM);
          const after = await getType('main', name);
          expect(after.version).toBe(before.version);
          expect(after.properties).toEqual(before.properties);
          return res.body as { detail: string; breakingChanges: BreakingChange[] };
        };

        it('refuses a new required property, counting every document', async () => {
          const ids = await seed(
            'NeedsAge',
            [{ name: 'name', dataType: 'string' }],
            [{ name: 'a' }, { name: 'b' }],
          );
          const body = await expectBreaking('NeedsAge', {
            name: 'NeedsAge',
            properties: [
              { name: 'name', dataType: 'string' },
              { name: 'age', dataType: 'integer', required: true },
            ],
          });
          expect(byProperty(body.breakingChanges)).toEqual({
            age: {
              property: 'age',
              change: expect.stringMatching(/required.*'age'|'age'.*required/),
              affectedDocuments: 2,
              sampleDocumentIds: ids.sort(),
            },
          });
          expect(body.detail).toContain('age');
        });

        it('refuses string to integer where values are not integers', async () => {
          const ids = await seed(
            'Coded',
            [{ name: 'code', dataType: 'string' }],
            [{ code: 'abc' }, { code: '12' }, {}],
          );
          const body = await expectBreaking('Coded', {
            name: 'Coded',
            properties: [{ name: 'code', dataType: 'integer' }],
          });
          expect(byProperty(body.breakingChanges)).toEqual({
            code: {
              property: 'code',
              change: expect.stringMatching(/string.*integer/),
              affectedDocuments: 2,
              sampleDocumentIds: ids.slice(0, 2).sort(),
            },
          });
        });

        it('refuses removing a property that documents use, counting only those', async () => {
          const ids = await seed(
            'Nicknamed',
            [
              { name: 'name', dataType: 'string' },
              { name: 'nickname', dataType: 'string' },
            ],
            [{ name: 'a', nickname: 'al' }, { name: 'b' }],
          );
          const body = await expectBreaking('Nicknamed', {
            name: 'Nicknamed',
            properties: [{ name: 'name', dataType: 'string' }],
          });
          expect(byProperty(body.breakingChanges)).toEqual({
            nickname: {
              property: 'nickname',
              change: expect.stringMatching(/'nickname'.*removed|removed.*'nickname'/),
              affectedDocuments: 1,
              sampleDocumentIds: [ids[0]],
            },
          });
        });

        it('refuses removing an enum value in use, counting only its documents', async () => {
          const ids = await seed(
            'Ticket',
            [{ name: 'status', dataType: 'enum', enumValues: ['open', 'closed', 'stale'] }],
            [{ status: 'stale' }, { status: 'open' }, { status: 'stale' }],
          );
          const body = await expectBreaking('Ticket', {
            name: 'Ticket',
            properties: [{ name: 'status', dataType: 'enum', enumValues: ['open', 'closed'] }],
          });
          expect(byProperty(body.breakingChanges)).toEqual({
            status: {
              property: 'status',
              change: expect.stringMatching(/stale/),
              affectedDocuments: 2,
              sampleDocumentIds: [ids[0], ids[2]].sort(),
            },
          });
        });

        it('accepts removing an enum value nobody uses', async () => {
          await seed(
            'Unused',
            [{ name: 'status', dataType: 'enum', enumValues: ['open', 'closed', 'stale'] }],
            [{ status: 'open' }],
          );
          await put('main', 'Unused', {
            name: 'Unused',
            properties: [{ name: 'status', dataType: 'enum', enumValues: ['open', 'closed'] }],
          }).expect(200);
        });

        it('refuses unique over duplicate values, counting the duplicates', async () => {
          const ids = await seed(
            'Account',
            [{ name: 'email', dataType: 'string' }],
            [{ email: 'same@example.com' }, { email: 'other@example.com' }, { email: 'same@example.com' }],
          );
          const body = await expectBreaking('Account', {
            name: 'Account',
            properties: [{ name: 'email', dataType: 'string', unique: true }],
          });
          expect(byProperty(body.breakingChanges)).toEqual({
            email: {
              property: 'email',
              change: expect.stringMatching(/unique/),
              affectedDocuments: 2,
              sampleDocumentIds: [ids[0], ids[2]].sort(),
            },
          });
        });

        it('lists every breaking change of one PUT with its own count', async () => {
          const ids = await seed(
            'Everything',
            [
              { name: 'name', dataType: 'string' },
              { name: 'code', dataType: 'string' },
              { name: 'nickname', dataType: 'string' },
              { name: 'status', dataType: 'enum', enumValues: ['a', 'b', 'c'] },
              { name: 'email', dataType: 'string' },
            ],
            [
              { name: 'A', code: 'x1', nickname: 'n', status: 'c', email: 'same' },
              { name: 'B', code: 'x2', status: 'a', email: 'same' },
              { name: 'C', code: 'x3', status: 'b', email: 'other' },
            ],
          );
          const body = await expectBreaking('Everything', {
            name: 'Everything',
            properties: [
              { name: 'name', dataType: 'string' },
              { name: 'code', dataType: 'integer' },
              { name: 'status', dataType: 'enum', enumValues: ['a', 'b'] },
              { name: 'email', dataType: 'string', unique: true },
              { name: 'age', dataType: 'integer', required: true },
            ],
          });
          const all = [...ids].sort();
          expect(byProperty(body.breakingChanges)).toEqual({
            age: {
              property: 'age',
              change: expect.stringMatching(/required/),
              affectedDocuments: 3,
              sampleDocumentIds: all,
            },
            code: {
              property: 'code',
              change: expect.stringMatching(/string.*integer/),
              affectedDocuments: 3,
              sampleDocumentIds: all,
            },
            nickname: {
              property: 'nickname',
              change: expect.stringMatching(/removed/),
              affectedDocuments: 1,
              sampleDocumentIds: [ids[0]],
            },
            status: {
              property: 'status',
              change: expect.stringMatching(/\bc\b/),
              affectedDocuments: 1,
              sampleDocumentIds: [ids[0]],
            },
            email: {
              property: 'email',
              change: expect.stringMatching(/unique/),
              affectedDocuments: 2,
              sampleDocumentIds: [ids[0], ids[1]].sort(),
            },
          });
          expect(body.breakingChanges).toHaveLength(5);
          for (const property of ['age', 'code', 'nickname', 'status', 'email']) {
            expect(body.detail).toContain(property);
          }
        });

        it('accepts on a branch whose documents are fine while main keeps refusing', async () => {
          const properties = [
            { name: 'name', dataType: 'string' },
            { name: 'age', dataType: 'integer' },
          ];
          await make.type('Member', properties);
          await make.branch('members-ok');
          await make.document('Member', { name: 'no age' }, 'member-main-1');
          await make.document('Member', { name: 'aged', age: 30 }, 'member-branch-1', 'members-ok');
          const mainBefore = await getType('main', 'Member');
          const stricter = {
            name: 'Member',
            properties: [
              { name: 'name', dataType: 'string' },
              { name: 'age', dataType: 'integer', required: true },
            ],
          };

          const onBranch = await put('members-ok', 'Member', stricter).expect(200);
          expect(onBranch.body.properties[1].required).toBe(true);

          const mainAfter = await getType('main', 'Member');
          expect(mainAfter).toEqual(mainBefore);
          const onMain = await put('main', 'Member', stricter).expect(409);
          expect(onMain.body.breakingChanges).toEqual([
            expect.objectContaining({
              property: 'age',
              affectedDocuments: 1,
              sampleDocumentIds: ['member-main-1'],
            }),
          ]);
        });
      });
    });

    describe('DELETE /schemas/:branch/object-types/:typeName', () => {
      it('deletes a type: 204, then 404', async () => {
        await make.type('Gone');
        await t.http.delete(typePath('main', 'Gone')).set(t.as('editor')).expect(204);
        await t.http.get(typePath('main', 'Gone')).set(t.as('viewer')).expect(404);
        const list = await t.http.get(typePath('main')).set(t.as('viewer')).expect(200);
        expect(list.body.items.map((i: { name: string }) => i.name)).not.toContain('Gone');
      });

      it('returns 404 for a missing type', async () => {
        await t.http.delete(typePath('main', 'NeverThere')).set(t.as('editor')).expect(404);
      });

      it('refuses with 409 while documents of the type exist, and deletes once they are gone', async () => {
        const [id] = await seed('Used', [{ name: 'a', dataType: 'string' }], [{ a: 'x' }]);
        const res = await t.http.delete(typePath('main', 'Used')).set(t.as('editor')).expect(409);
        expect(res.headers['content-type']).toMatch(PROBLEM);
        expect(res.body.documents).toEqual({ total: 1, sample: [id] });
        await getType('main', 'Used');

        await t.http.delete(`/api/v1/documents/crud/${id}`).set(t.as('editor')).expect(204);
        await t.http.delete(typePath('main', 'Used')).set(t.as('editor')).expect(204);
        await t.http.get(typePath('main', 'Used')).set(t.as('viewer')).expect(404);
      });

      it('refuses with 409 naming the referencing type, and deletes once it is gone', async () => {
        await make.type('Referenced');
        await make.type('Referrer', [{ name: 'to', dataType: 'reference', referenceType: 'Referenced' }]);
        const res = await t.http.delete(typePath('main', 'Referenced')).set(t.as('editor')).expect(409);
        expect(res.headers['content-type']).toMatch(PROBLEM);
        expect(res.body.detail).toContain('Referrer');
        expect(res.body.referencingTypes).toEqual({ total: 1, sample: ['Referrer'] });
        await getType('main', 'Referenced');

        await t.http.delete(typePath('main', 'Referrer')).set(t.as('editor')).expect(204);
        await t.http.delete(typePath('main', 'Referenced')).set(t.as('editor')).expect(204);
      });

      it('only counts documents and references on its own branch', async () => {
        await make.type('BusyOnMain');
        await make.branch('busy-fork');
        await make.document('BusyOnMain', {}, 'busy-main-doc');
        await t.http.delete(typePath('busy-fork', 'BusyOnMain')).set(t.as('editor')).expect(204);
        await t.http.delete(typePath('main', 'BusyOnMain')).set(t.as('editor')).expect(409);
      });
    });

    describe('branch isolation', () => {
      it('keeps a type created on a branch invisible on main', async () => {
        await make.branch('sandbox');
        await make.type('SandboxOnly', [], 'sandbox');
        await getType('sandbox', 'SandboxOnly');
        await t.http.get(typePath('main', 'SandboxOnly')).set(t.as('viewer')).expect(404);
        const list = await t.http.get(typePath('main')).set(t.as('viewer')).expect(200);
        expect(list.body.items.map((i: { name: string }) => i.name)).not.toContain('SandboxOnly');
      });

      it("leaves main's version untouched when a branch changes the type", async () => {
        await make.type('Shared', [{ name: 'a', dataType: 'string' }]);
        await make.branch('changer');
        const mainBefore = await getType('main', 'Shared');
        expect(await getType('changer', 'Shared')).toEqual(mainBefore);

        const res = await put('changer', 'Shared', {
          name: 'Shared',
          properties: [
            { name: 'a', dataType: 'string' },
            { name: 'b', dataType: 'string' },
          ],
        }).expect(200);
        expect(res.body.version).not.toBe(mainBefore.version);
        expect(await getType('main', 'Shared')).toEqual(mainBefore);
      });
    });

    describe('conditional requests', () => {
      it('answers 304 with the ETag when If-None-Match is current, 200 when stale', async () => {
        await make.type('Cached');
        const etag = etagOf(await t.http.get(typePath('main', 'Cached')).set(t.as('viewer')).expect(200));
        const res = await t.http
          .get(typePath('main', 'Cached'))
          .set(t.as('viewer'))
          .set('If-None-Match', etag)
          .expect(304);
        expect(res.headers.etag).toBe(etag);
        expect(res.text ?? '').toBe('');

        await put('main', 'Cached', {
          name: 'Cached',
          properties: [{ name: 'x', dataType: 'string' }],
        }).expect(200);
        await t.http
          .get(typePath('main', 'Cached'))
          .set(t.as('viewer'))
          .set('If-None-Match', etag)
          .expect(200);
      });

      it('returns 412 for a stale If-Match on PUT and DELETE, and writes with a current one', async () => {
        await make.type('Guarded');
        const stale = etagOf(await t.http.get(typePath('main', 'Guarded')).set(t.as('viewer')).expect(200));
        const updated = await put('main', 'Guarded', {
          name: 'Guarded',
          properties: [{ name: 'a', dataType: 'string' }],
        }).expect(200);
        const current = etagOf(updated);
        expect(current).not.toBe(stale);

        const res = await put(
          'main',
          'Guarded',
          { name: 'Guarded', properties: [] },
          { 'If-Match': stale },
        ).expect(412);
        expect(res.headers['content-type']).toMatch(PROBLEM);
        await t.http
          .delete(typePath('main', 'Guarded'))
          .set(t.as('editor'))
          .set('If-Match', stale)
          .expect(412);
        expect((await getType('main', 'Guarded')).properties).toHaveLength(1);

        await put('main', 'Guarded', { name: 'Guarded', properties: [] }, { 'If-Match': current }).expect(
          200,
        );
      });

      it('answers 304 with Cache-Control and Vary, also when the request says Cache-Control: no-cache', async () => {
        await make.type('Revalidated');
        const first = await t.http.get(typePath('main', 'Revalidated')).set(t.as('viewer')).expect(200);
        expect(first.headers['cache-control']).toBe('private, no-cache, must-revalidate');
        expect(first.headers.vary).toMatch(/Authorization/);
        const etag = etagOf(first);

        const res = await t.http
          .get(typePath('main', 'Revalidated'))
          .set(t.as('viewer'))
          .set('Cache-Control', 'no-cache')
          .set('If-None-Match', etag)
          .expect(304);
        expect(res.headers.etag).toBe(etag);
        expect(res.headers['cache-control']).toBe('private, no-cache, must-revalidate');
        expect(res.headers.vary).toMatch(/Authorization/);
      });

      it('compares If-None-Match weakly, across a list of tags and with *', async () => {
        await make.type('WeakCompared');
        const etag = (await t.http.get(typePath('main', 'WeakCompared')).set(t.as('viewer')).expect(200))
          .headers.etag;
        for (const condition of [`W/${etag}`, `"other", ${etag}`, '*']) {
          await t.http
            .get(typePath('main', 'WeakCompared'))
            .set(t.as('viewer'))
            .set('If-None-Match', condition)
            .expect(304);
        }
        await t.http
          .get(typePath('main', 'WeakCompared'))
          .set(t.as('viewer'))
          .set('If-None-Match', '"other"')
          .expect(200);
      });

      it('answers HEAD with If-None-Match with 304', async () => {
        await make.type('Headed');
        const etag = etagOf(await t.http.get(typePath('main', 'Headed')).set(t.as('viewer')).expect(200));
        await t.http
          .head(typePath('main', 'Headed'))
          .set(t.as('viewer'))
          .set('If-None-Match', etag)
          .expect(304);
      });

      it('compares If-Match strongly: a weak tag never matches, * and a list do', async () => {
        await make.type('StrongCompared');
        const etag = (await t.http.get(typePath('main', 'StrongCompared')).set(t.as('viewer')).expect(200))
          .headers.etag;
        const body = { name: 'StrongCompared', properties: [] };
        await put('main', 'StrongCompared', body, { 'If-Match': `W/${etag}` }).expect(412);
        const listed = await put('main', 'StrongCompared', body, { 'If-Match': `"other", ${etag}` }).expect(
          200,
        );
        await put('main', 'StrongCompared', body, { 'If-Match': '*' }).expect(200);
        // The same definition again changes nothing: the version (and so the tag) stays.
        expect(listed.headers.etag).toBe(etag);
        const changed = { name: 'StrongCompared', properties: [{ name: 'n', dataType: 'integer' }] };
        const put2 = await put('main', 'StrongCompared', changed, { 'If-Match': `"other", ${etag}` }).expect(
          200,
        );
        expect(put2.headers.etag).not.toBe(etag);
      });

      it('returns 412 for If-None-Match: * on PUT of an existing type, and creates a missing one', async () => {
        await make.type('CreateOnly');
        const body = { name: 'CreateOnly', properties: [{ name: 'a', dataType: 'string' }] };
        await put('main', 'CreateOnly', body, { 'If-None-Match': '*' }).expect(412);
        expect((await getType('main', 'CreateOnly')).properties).toEqual([]);
        await put('main', 'FreshlyMade', { ...body, name: 'FreshlyMade' }, { 'If-None-Match': '*' }).expect(
          201,
        );
      });

      it('returns 412 for If-Match on PUT of a missing type', async () => {
        await put('main', 'NotYetThere', { name: 'NotYetThere', properties: [] }, { 'If-Match': '*' }).expect(
          412,
        );
        await t.http.get(typePath('main', 'NotYetThere')).set(t.as('viewer')).expect(404);
      });
    });

    describe('roles', () => {
      it('lets a viewer read', async () => {
        await make.type('Readable');
        await t.http.get(typePath('main')).set(t.as('viewer')).expect(200);
        await t.http.get(typePath('main', 'Readable')).set(t.as('viewer')).expect(200);
      });

      it('refuses POST, PUT and DELETE to a viewer with 403', async () => {
        await make.type('Protected');
        const body = { name: 'Protected', properties: [{ name: 'a', dataType: 'string' }] };
        const res = await t.http
          .post(typePath('main'))
          .set(t.as('viewer'))
          .send({ ...body, name: 'ByViewer' });
        expect(res.status).toBe(403);
        expect(res.headers['content-type']).toMatch(PROBLEM);
        await t.http.put(typePath('main', 'Protected')).set(t.as('viewer')).send(body).expect(403);
        await t.http.delete(typePath('main', 'Protected')).set(t.as('viewer')).expect(403);
        await t.http.get(typePath('main', 'ByViewer')).set(t.as('viewer')).expect(404);
        expect((await getType('main', 'Protected')).properties).toEqual([]);
      });

      it('returns 401 without a token', async () => {
        await t.http.get(typePath('main')).expect(401);
        await t.http.post(typePath('main')).send({ name: 'Anon', properties: [] }).expect(401);
      });
    });
  });

  describe('with REQUIRE_IF_MATCH=true', () => {
    let t: TestApp;
    let make: ReturnType<typeof given>;
    beforeAll(async () => {
      t = await startTestApp(target, { REQUIRE_IF_MATCH: 'true' });
      make = given(t);
    });
    afterAll(() => t?.close());

    it('returns 428 for PUT and DELETE without If-Match, and writes with it', async () => {
      const created = await make.type('Strict');
      const body = { name: 'Strict', properties: [{ name: 'a', dataType: 'string' }] };

      const put = await t.http.put(typePath('main', 'Strict')).set(t.as('editor')).send(body).expect(428);
      expect(put.headers['content-type']).toMatch(PROBLEM);
      await t.http.delete(typePath('main', 'Strict')).set(t.as('editor')).expect(428);
      const unchanged = await t.http.get(typePath('main', 'Strict')).set(t.as('viewer')).expect(200);
      expect(unchanged.body.version).toBe(created.version);

      const replaced = await t.http
        .put(typePath('main', 'Strict'))
        .set(t.as('editor'))
        .set('If-Match', etagOf(unchanged))
        .send(body)
        .expect(200);
      await t.http
        .delete(typePath('main', 'Strict'))
        .set(t.as('editor'))
        .set('If-Match', etagOf(replaced))
        .expect(204);
      await t.http.get(typePath('main', 'Strict')).set(t.as('viewer')).expect(404);
    });
  });

  describe('with ENABLE_ETAG_CACHING=false', () => {
    let t: TestApp;
    let make: ReturnType<typeof given>;
    beforeAll(async () => {
      t = await startTestApp(target, { ENABLE_ETAG_CACHING: 'false' });
      make = given(t);
    });
    afterAll(() => t?.close());

    it('sends no ETag and answers If-None-Match with the full response', async () => {
      const post = await t.http
        .post(typePath('main'))
        .set(t.as('editor'))
        .send({ name: 'Plain', properties: [] })
        .expect(201);
      expect(post.headers.etag).toBeUndefined();
      // The tag the server derives from the version when caching is on: it must not revalidate now.
      const wouldBeTag = `"${post.body.version}"`;

      const one = await t.http
        .get(typePath('main', 'Plain'))
        .set(t.as('viewer'))
        .set('If-None-Match', `${wouldBeTag}, W/${wouldBeTag}`)
        .expect(200);
      expect(one.headers.etag).toBeUndefined();
      expect(one.body.name).toBe('Plain');

      const list = await t.http.get(typePath('main')).set(t.as('viewer')).expect(200);
      expect(list.headers.etag).toBeUndefined();
      expect(list.body.items.map((i: { name: string }) => i.name)).toContain('Plain');
    });

    it('still enforces If-Match: a stale tag gets 412, a matching one writes', async () => {
      await make.type('StillGuarded');
      const stale = '"not-the-current-version"';
      await t.http
        .put(typePath('main', 'StillGuarded'))
        .set(t.as('editor'))
        .set('If-Match', stale)
        .send({ name: 'StillGuarded', properties: [] })
        .expect(412);
      await t.http
        .delete(typePath('main', 'StillGuarded'))
        .set(t.as('editor'))
        .set('If-Match', stale)
        .expect(412);
      expect(
        (await t.http.get(typePath('main', 'StillGuarded')).set(t.as('viewer')).expect(200)).body.properties,
      ).toEqual([]);

      const updated = await t.http
        .put(typePath('main', 'StillGuarded'))
        .set(t.as('editor'))
        .set('If-Match', '*')
        .send({ name: 'StillGuarded', properties: [{ name: 'a', dataType: 'string' }] })
        .expect(200);
      expect(updated.headers.etag).toBeUndefined();
      expect(updated.body.properties).toHaveLength(1);
    });
  });
});
