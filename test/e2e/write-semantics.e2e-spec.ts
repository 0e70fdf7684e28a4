import { TestApp, startTestApp } from '../support/app';
import { given } from '../support/given';
import { first } from '../support/one';
import { storeTargets } from '../support/store-targets';

describe.each(storeTargets())('what a write records on $name', (target) => {
  let t: TestApp;
  const commits = async (branch = 'main') =>
    (await t.http.get(`/api/v1/branches/${branch}/commits?limit=1000`).set(t.as('viewer')).expect(200))
      .body as { id: string; message: string }[];
  const doc = (id: string) => `/api/v1/documents/crud/${id}`;

  beforeAll(async () => {
    t = await startTestApp(target);
    await given(t).type('Note', [
      { name: 'title', dataType: 'string' },
      { name: 'meta', dataType: 'json' },
    ]);
  });
  afterAll(() => t?.close());

  describe('writes that change nothing', () => {
    it('answers an empty merge patch with 200 and the current version, and makes no commit', async () => {
      const created = await given(t).document('Note', { title: 'a' }, 'noop-patch');
      const before = await commits();
      for (const patch of [{}, { properties: {} }, { properties: { title: 'a' } }]) {
        const res = await t.http
          .patch(doc('noop-patch'))
          .set(t.as('editor'))
          .set('Content-Type', 'application/merge-patch+json')
          .send(JSON.stringify(patch))
          .expect(200);
        expect(res.body.version).toBe(created.version);
        expect(res.headers.etag).toBe(`"${created.version}"`);
      }
      expect(await commits()).toEqual(before);
    });

    it('answers a PUT of the same properties with 200 and the current version, and makes no commit', async () => {
      const created = await given(t).document('Note', { title: 'b', meta: { k: [1, 2] } }, 'noop-put');
      const before = await commits();
      const res = await t.http
        .put(doc('noop-put'))
        .set(t.as('editor'))
        .send({ properties: { meta: { k: [1, 2] }, title: 'b' } })
        .expect(200);
      expect(res.body.version).toBe(created.version);
      expect(await commits()).toEqual(before);
      // A real change still makes one.
      await t.http
        .put(doc('noop-put'))
        .set(t.as('editor'))
        .send({ properties: { title: 'c' } })
        .expect(200);
      expect((await commits()).length).toBe(before.length + 1);
    });

    it('answers a PUT of the same object type definition with 200, the same version, and no commit', async () => {
      const type = { name: 'Same', properties: [{ name: 'x', dataType: 'integer' }] };
      const created = (
        await t.http.post('/api/v1/schemas/main/object-types').set(t.as('editor')).send(type).expect(201)
      ).body;
      const before = await commits();
      const res = await t.http
        .put('/api/v1/schemas/main/object-types/Same')
        .set(t.as('editor'))
        .send(type)
        .expect(200);
      expect(res.body.version).toBe(created.version);
      expect(await commits()).toEqual(before);
    });
  });

  describe('PUT that creates', () => {
    it('answers 201 and records the commit as a creation, for a document and an object type', async () => {
      await t.http
        .put(doc('put-made'))
        .set(t.as('editor'))
        .send({ objectType: 'Note', properties: { title: 'new' } })
        .expect(201);
      expect(first(await commits(), 'commit').message).toBe('Create document put-made');
      await t.http
        .put(doc('put-made'))
        .set(t.as('editor'))
        .send({ properties: { title: 'newer' } })
        .expect(200);
      expect(first(await commits(), 'commit').message).toBe('Replace document put-made');
      await t.http
        .put('/api/v1/schemas/main/object-types/PutMade')
        .set(t.as('editor'))
        .send({ name: 'PutMade', properties: [] })
        .expect(201);
      expect(first(await commits(), 'commit').message).toBe('Create object type PutMade');
    });

    it('keeps the message the client sent', async () => {
      await t.http
        .put(doc('put-said'))
        .set(t.as('editor'))
        .set('X-Commit-Message', 'Import from the old system')
        .send({ objectType: 'Note', properties: {} })
        .expect(201);
      expect(first(await commits(), 'commit').message).toBe('Import from the old system');
    });
  });

  describe('branch names', () => {
    it('are unique ignoring case: MAIN beside main is a 409 naming the branch that has the name', async () => {
      const res = await t.http
        .post('/api/v1/branches')
        .set(t.as('editor'))
        .send({ name: 'MAIN' })
        .expect(409);
      expect(res.body.detail).toContain("'main'");
      await given(t).branch('Feature-X');
      await t.http.post('/api/v1/branches').set(t.as('editor')).send({ name: 'feature-x' }).expect(409);
      // Names keep their case: lookups are exact.
      await t.http.get('/api/v1/branches/Feature-X').set(t.as('viewer')).expect(200);
      await t.http.get('/api/v1/branches/feature-x').set(t.as('viewer')).expect(404);
    });

    it('let only one of two racing creators with names that differ in case win', async () => {
      const answers = await Promise.all(
        ['Race-1', 'race-1', 'RACE-1'].map((name) =>
          t.http.post('/api/v1/branches').set(t.as('editor')).send({ name }),
        ),
      );
      expect(answers.map((a) => a.status).sort()).toEqual([201, 409, 409]);
    });

    it('can take a name again, in any case, once the branch that had it is deleted', async () => {
      await given(t).branch('gone-soon');
      await t.http.delete('/api/v1/branches/gone-soon').set(t.as('editor')).expect(204);
      await t.http.post('/api/v1/branches').set(t.as('editor')).send({ name: 'GONE-soon' }).expect(201);
    });
  });
});
