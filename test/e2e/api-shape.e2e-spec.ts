import { TestApp, startTestApp } from '../support/app';
import { given } from '../support/given';
import { storeTargets } from '../support/store-targets';

const PROBLEM = /^application\/problem\+json/;

describe.each(storeTargets())('the shape of the API on $name', (target) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(target);
    await given(t).type('Note', [{ name: 'title', dataType: 'string' }]);
    await given(t).document('Note', { title: 'x' }, 'ada');
  });
  afterAll(() => t?.close());

  describe('methods a resource does not support', () => {
    it.each([
      ['DELETE', '/api/v1/branches', 'GET, HEAD, POST'],
      ['PUT', '/api/v1/branches/main', 'DELETE, GET, HEAD'],
      ['PATCH', '/api/v1/branches/main', 'DELETE, GET, HEAD'],
      ['PATCH', '/api/v1/schemas/main/object-types/Note', 'DELETE, GET, HEAD, PUT'],
      ['POST', '/api/v1/documents/crud/ada', 'DELETE, GET, HEAD, PATCH, PUT'],
      ['DELETE', '/api/v1/auth/me', 'GET, HEAD'],
    ])('answer %s %s with 405 and Allow: %s', async (method, path, allow) => {
      const res = await t.http[method.toLowerCase() as 'delete'](path)
        .set(t.as('admin'))
        .set('Content-Type', 'application/json')
        .send('{}')
        .expect(405);
      expect(res.headers.allow).toBe(allow);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body).toMatchObject({ status: 405, type: 'urn:oms:problem:method-not-allowed' });
    });

    it('still answers a path no method serves with 404', async () => {
      await t.http.get('/api/v1/nowhere').set(t.as('admin')).expect(404);
    });
  });

  describe('query parameters a route does not take', () => {
    it.each([
      ['/api/v1/documents/crud/ada?version=3', 'query:version'],
      ['/api/v1/documents/crud/ada?branch=main&expand=all', 'query:expand'],
      ['/api/v1/branches?limit=5', 'query:limit'],
      ['/api/v1/schemas/main/object-types?branch=main', 'query:branch'],
      ['/api/v1/branches/main/commits?limt=5', 'query:limt'],
      ['/api/v1/documents/crud?objectType=Note&limt=5', 'query:limt'],
    ])('answer %s with 400 naming %s', async (path, where) => {
      const res = await t.http.get(path).set(t.as('viewer')).expect(400);
      expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(where);
    });

    it('leave the parameters a route takes alone', async () => {
      await t.http.get('/api/v1/documents/crud/ada?branch=main').set(t.as('viewer')).expect(200);
      await t.http.get('/api/v1/branches/main/commits?limit=5').set(t.as('viewer')).expect(200);
    });
  });

  describe('bodies that are JSON but not an object', () => {
    it.each(['"hello"', 'null', '42'])('answer %s with 400 "must be a JSON object"', async (body) => {
      const res = await t.http
        .post('/api/v1/branches')
        .set(t.as('editor'))
        .set('Content-Type', 'application/json')
        .send(body)
        .expect(400);
      expect(res.body.errors).toEqual([{ path: '', message: 'must be a JSON object' }]);
    });

    it('still call a body that does not parse "not valid JSON"', async () => {
      const res = await t.http
        .post('/api/v1/branches')
        .set(t.as('editor'))
        .set('Content-Type', 'application/json')
        .send('{"name": ')
        .expect(400);
      expect(res.body.errors).toEqual([{ path: '', message: 'is not valid JSON' }]);
    });
  });
});
