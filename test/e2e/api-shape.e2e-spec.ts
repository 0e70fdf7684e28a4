import { TestApp, startTestApp } from '../support/app';
import { given } from '../support/given';
import { scrape, seriesValue } from '../support/metrics';
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
      ['/api/v1/documents/crud/ada?version=3', '/query/version'],
      ['/api/v1/documents/crud/ada?branch=main&expand=all', '/query/expand'],
      ['/api/v1/branches?limit=5', '/query/limit'],
      ['/api/v1/schemas/main/object-types?branch=main', '/query/branch'],
      ['/api/v1/branches/main/commits?limt=5', '/query/limt'],
      ['/api/v1/documents/crud?objectType=Note&limt=5', '/query/limt'],
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
      expect(res.body.errors).toEqual([{ path: '/body', message: 'must be a JSON object' }]);
    });

    it('still call a body that does not parse "not valid JSON"', async () => {
      const res = await t.http
        .post('/api/v1/branches')
        .set(t.as('editor'))
        .set('Content-Type', 'application/json')
        .send('{"name": ')
        .expect(400);
      expect(res.body.errors).toEqual([{ path: '/body', message: 'is not valid JSON' }]);
    });
  });

  describe('one error style', () => {
    const errorsOf = (res: { body: { errors?: unknown } }) => res.body.errors;

    it.each([
      ['a document without objectType', '/api/v1/documents/crud?branch=main', { id: 'x', properties: {} }],
      ['a type without name', '/api/v1/schemas/main/object-types', { properties: [] }],
      ['a branch without name', '/api/v1/branches', { from: 'main' }],
    ])('calls the missing member of %s "is required", and nothing else', async (_, path, body) => {
      const res = await t.http.post(path).set(t.as('editor')).send(body).expect(400);
      const missing = path.includes('documents') ? '/body/objectType' : '/body/name';
      expect(errorsOf(res)).toEqual([{ path: missing, message: 'is required' }]);
    });

    it('reports a type without properties once, as required', async () => {
      const res = await t.http
        .post('/api/v1/schemas/main/object-types')
        .set(t.as('editor'))
        .send({ name: 'Bare' })
        .expect(400);
      expect(errorsOf(res)).toEqual([{ path: '/body/properties', message: 'is required' }]);
    });

    it.each([
      ['/api/v1/documents/crud?objectType=Note&limit=abc'],
      ['/api/v1/branches/main/commits?limit=abc'],
    ])('gives one error for one bad value, at /query/limit, on %s', async (path) => {
      const res = await t.http.get(path).set(t.as('viewer')).expect(400);
      expect(errorsOf(res)).toEqual([{ path: '/query/limit', message: expect.any(String) }]);
    });

    it('points into the request the same way for body, query, path and header', async () => {
      const res = await t.http
        .put('/api/v1/documents/crud/-bad?branch=no%20spaces')
        .set(t.as('editor'))
        .set('If-Match', 'not-a-tag')
        .send({ properties: { title: 1 } });
      expect(res.status).toBe(400);
      const paths = (errorsOf(res) as { path: string }[]).map((e) => e.path);
      expect(paths.length).toBeGreaterThan(0);
      for (const path of paths) expect(path).toMatch(/^\/(body|query|path|header)(\/|$)/);
      const bodyRes = await t.http
        .put('/api/v1/documents/crud/ada?branch=main')
        .set(t.as('editor'))
        .send({ properties: { title: 1 } })
        .expect(400);
      expect(errorsOf(bodyRes)).toEqual([{ path: '/body/properties/title', message: expect.any(String) }]);
      const header = await t.http
        .put('/api/v1/documents/crud/ada?branch=main')
        .set(t.as('editor'))
        .set('If-Match', 'not-a-tag')
        .send({ properties: { title: 'y' } })
        .expect(400);
      expect(errorsOf(header)).toEqual([{ path: '/header/If-Match', message: expect.any(String) }]);
    });
  });

  describe('metrics of requests refused before routing', () => {
    const count = async (labels: Record<string, string>) =>
      seriesValue(await scrape(t.metrics), 'http_request_duration_seconds_count', labels) ?? 0;

    it.each([
      [
        'a body that does not parse',
        'POST',
        '/api/v1/documents/crud',
        '/api/v1/documents/crud',
        'application/json',
        '{"x": ',
        '400',
      ],
      [
        'a body that is not JSON',
        'PUT',
        '/api/v1/documents/crud/ada',
        '/api/v1/documents/crud/:id',
        'text/plain',
        'hi',
        '415',
      ],
      [
        'a method the route does not serve',
        'POST',
        '/api/v1/documents/crud/ada',
        '/api/v1/documents/crud/:id',
        'application/json',
        '{}',
        '405',
      ],
    ])('labels %s with the route template', async (_, method, path, route, type, body, status) => {
      const labels = { method, route, status_code: status };
      const before = await count(labels);
      await t.http[method.toLowerCase() as 'post'](path)
        .set(t.as('editor'))
        .set('Content-Type', type)
        .send(body)
        .expect(Number(status));
      expect(await count(labels)).toBe(before + 1);
    });

    it('still labels a path no route serves as unmatched', async () => {
      const labels = { method: 'GET', route: 'unmatched', status_code: '404' };
      const before = await count(labels);
      await t.http.get('/api/v1/nowhere/at/all').set(t.as('viewer')).expect(404);
      expect(await count(labels)).toBe(before + 1);
    });
  });
});
