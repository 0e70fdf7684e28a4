import helmet from 'helmet';
import { IncomingMessage, ServerResponse, request as httpRequest } from 'node:http';
import { type AddressInfo, Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { TestApp, startTestApp } from '../support/app';
import { given } from '../support/given';
import { scrape, seriesValue } from '../support/metrics';
import { storeTargets } from '../support/store-targets';

const PROBLEM = /^application\/problem\+json/;
const BREAKERS = ['schemas', 'documents', 'branches', 'store', 'redis'];

/** A raw request, for what supertest would normalise or refuse to send. */
function raw(t: TestApp, path: string, headers: Record<string, string> = {}, body?: Buffer | string) {
  return new Promise<{ status: number; headers: Record<string, unknown>; text: string }>(
    (resolve, reject) => {
      const { port } = t.server.address() as AddressInfo;
      const req = httpRequest(
        { host: '127.0.0.1', port, path, method: body ? 'POST' : 'GET', headers },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
        },
      );
      req.on('error', reject);
      // As a Buffer: with a string, Node writes head and body as one UTF-8 string, re-encoding header
      // bytes above 0x7f.
      req.end(typeof body === 'string' ? Buffer.from(body) : body);
    },
  );
}

describe.each(storeTargets())('the HTTP edge on $name', (target) => {
  let t: TestApp;
  beforeAll(async () => {
    // Production's breakers: three failures would open them.
    t = await startTestApp(target, { OMS_ENV: 'production', LOG_LEVEL: 'error' });
    await new Promise<void>((resolve) => t.server.listen(0, '127.0.0.1', resolve));
    await given(t).type('Note', [{ name: 'data', dataType: 'json' }]);
  });
  afterAll(() => t?.close());

  const breakerStates = async () => {
    const text = await scrape(t.metrics);
    return BREAKERS.map((breaker) => seriesValue(text, 'circuit_breaker_state', { breaker }));
  };

  describe('request targets', () => {
    it.each([
      ['a NUL in a path parameter', '/api/v1/branches/x%00', '/path'],
      ['a NUL in a query value', '/api/v1/documents/crud?branch=main%00', '/query/branch'],
      ['a NUL in a query name', '/api/v1/documents/crud?a%00=1', '/query/a\\u0000'],
      ['invalid percent-encoded UTF-8 in the path', '/api/v1/branches/%ED%A0%80', '/path'],
      ['an overlong UTF-8 NUL in the path', '/api/v1/branches/%C0%80', '/path'],
    ])('answers %s with 400 naming it, and no breaker counts it', async (_, path, where) => {
      for (let i = 0; i < 5; i++) {
        const res = await t.http.get(path).set(t.as('viewer'));
        expect(res.status).toBe(400);
        expect(res.headers['content-type']).toMatch(PROBLEM);
        expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual([where]);
      }
      expect(await breakerStates()).toEqual([0, 0, 0, 0, 0]);
      await t.http.get('/api/v1/branches').set(t.as('viewer')).expect(200);
    });

    it.each([
      ['/api/v1/branches/has%20space', '/path/branch'],
      ['/api/v1/schemas/main/object-types/1bad', '/path/typeName'],
      ['/api/v1/documents/crud/-bad-start', '/path/id'],
      ['/api/v1/documents/crud/x?branch=a&branch=b', '/query/branch'],
      ['/api/v1/documents/crud?branch=no%20spaces', '/query/branch'],
    ])('refuses %s before the store: 400 at %s', async (path, where) => {
      const res = await t.http.get(path).set(t.as('viewer')).expect(400);
      expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual([where]);
    });

    it.each([
      ['a NUL id', { sort: 'id', id: 'a\u0000' }],
      ['a year beyond the store', { sort: 'createdAt', id: 'a', createdAt: '+099999-01-01T00:00:00.000Z' }],
      ['a time that is not ours', { sort: 'createdAt', id: 'a', createdAt: '2024-01-01' }],
      ['an unknown sort', { sort: 'name', id: 'a' }],
    ])('refuses a cursor with %s as a 400 and leaves the breakers closed', async (_, cursor) => {
      const encoded = Buffer.from(JSON.stringify(cursor)).toString('base64url');
      for (let i = 0; i < 4; i++) {
        const sort = cursor.sort === 'name' ? 'id' : cursor.sort;
        const res = await t.http
          .get(`/api/v1/documents/crud?cursor=${encoded}&sort=${sort}`)
          .set(t.as('viewer'))
          .expect(400);
        expect(res.body.errors[0].path).toBe('/query/cursor');
      }
      expect(await breakerStates()).toEqual([0, 0, 0, 0, 0]);
    });

    it('checks identifiers before a revalidation could take them to the store', async () => {
      const res = await t.http
        .get('/api/v1/documents/crud/x?branch=a&branch=b')
        .set(t.as('viewer'))
        .set('If-None-Match', '"1"')
        .expect(400);
      expect(res.body.errors).toEqual([{ path: '/query/branch', message: 'must be given once' }]);
      const long = await t.http
        .get(`/api/v1/schemas/${'b'.repeat(5000)}/object-types`)
        .set(t.as('viewer'))
        .set('If-None-Match', '"1"')
        .expect(400);
      expect(long.body.errors.map((e: { path: string }) => e.path)).toEqual(['/path/branch']);
    });

    it('refuses a branch to start from that cannot be a branch name, before the store', async () => {
      const res = await t.http
        .post('/api/v1/branches')
        .set(t.as('editor'))
        .send({ name: 'from-long', from: 'x'.repeat(100_000) })
        .expect(400);
      expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(['/body/from']);
      expect(res.text.length).toBeLessThan(1000);
    });

    it('refuses object-type properties that are not objects (a nested array stored a broken type)', async () => {
      const res = await t.http
        .post('/api/v1/schemas/main/object-types')
        .set(t.as('editor'))
        .send({ name: 'Nested', properties: [[{ name: 'x', dataType: 'string' }]] })
        .expect(400);
      expect(res.body.errors).toContainEqual({
        path: '/body/properties',
        message: 'each property must be an object',
      });
    });

    it.each([[{ before: 0 }], [{ before: -5 }], [{ before: 2 ** 60 }], [{ before: 'x\u0000' }]])(
      'refuses a commits cursor %j as a 400',
      async (cursor) => {
        const encoded = Buffer.from(JSON.stringify(cursor)).toString('base64url');
        await t.http.get(`/api/v1/branches/main/commits?cursor=${encoded}`).set(t.as('viewer')).expect(400);
      },
    );

    it('refuses a json filter nested deeper than JSON_MAX_DEPTH, and counts nothing', async () => {
      // 1,500 levels: deep enough to hurt, short enough for the 16 kB header limit (else 431).
      const deep = '['.repeat(1500) + ']'.repeat(1500);
      for (let i = 0; i < 4; i++) {
        const res = await t.http
          .get(`/api/v1/documents/crud?objectType=Note&property.data=${encodeURIComponent(deep)}`)
          .set(t.as('viewer'))
          .expect(400);
        expect(res.body.errors[0].message).toBe('is nested deeper than 64 levels');
      }
      expect(await breakerStates()).toEqual([0, 0, 0, 0, 0]);
    });
  });

  describe('bodies', () => {
    it('refuses a body nested 10,000 deep with 400 before authentication and before any recursion', async () => {
      const deep = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
      const res = await raw(t, '/api/v1/auth/login', { 'content-type': 'application/json' }, deep);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(JSON.parse(res.text).errors[0].message).toBe('is nested deeper than 64 levels');
    });

    it('refuses a number JSON cannot carry exactly (1e400) with 400 naming it', async () => {
      const res = await raw(
        t,
        '/api/v1/documents/crud',
        { 'content-type': 'application/json', ...t.as('editor') },
        '{"objectType":"Note","properties":{"data":{"big":1e400}}}',
      );
      expect(res.status).toBe(400);
      expect(JSON.parse(res.text).errors).toEqual([
        { path: '/body/properties/data/big', message: 'is too large to be represented' },
      ]);
    });

    it.each(['gzip', 'deflate', 'br'])(
      'answers Content-Encoding: %s over a plain body with a 400 problem, without a token',
      async (encoding) => {
        const res = await raw(
          t,
          '/api/v1/auth/login',
          { 'content-type': 'application/json', 'content-encoding': encoding },
          '{"username":"a","password":"b"}',
        );
        expect(res.status).toBe(400);
        expect(res.headers['content-type']).toMatch(PROBLEM);
        expect(JSON.parse(res.text).errors[0].path).toBe('/header/Content-Encoding');
      },
    );

    it('still takes a real gzip body', async () => {
      const body = gzipSync(JSON.stringify({ username: 'admin', password: 'wrong-password' }));
      const res = await raw(
        t,
        '/api/v1/auth/login',
        { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body,
      );
      expect(res.status).toBe(401);
    });

    it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])(
      'refuses a field named %s in a DTO body as unknown, instead of dropping it',
      async (key) => {
        const res = await raw(
          t,
          '/api/v1/branches',
          { 'content-type': 'application/json', ...t.as('editor') },
          `{"name":"b-${key.replace(/_/g, '')}","${key}":{"x":1}}`,
        );
        expect(res.status).toBe(400);
        expect(JSON.parse(res.text).errors).toEqual([
          { path: `/body/${key}`, message: 'is not an allowed field' },
        ]);
      },
    );
  });

  describe('commit messages', () => {
    const MESSAGE = 'Zoë fixed the naïve label ✓ 😀';
    const write = (id: string, header: string) =>
      raw(
        t,
        '/api/v1/documents/crud',
        { 'content-type': 'application/json', ...t.as('editor'), 'x-commit-message': header },
        JSON.stringify({ objectType: 'Note', id, properties: {} }),
      );
    const newest = async () =>
      (await t.http.get('/api/v1/branches/main/commits?limit=1').set(t.as('viewer')).expect(200)).body[0]
        .message as string;

    it('stores a raw UTF-8 X-Commit-Message as the text it is', async () => {
      // Node's client sends each character of a latin1 string as one byte: these are MESSAGE's UTF-8 bytes.
      const res = await write('utf8-raw', Buffer.from(MESSAGE, 'utf8').toString('latin1'));
      expect(res.status).toBe(201);
      expect(await newest()).toBe(MESSAGE);
    });

    it("takes RFC 8187's UTF-8'' percent-encoded form from ASCII-only clients", async () => {
      const res = await write('utf8-ext', `UTF-8''${encodeURIComponent(MESSAGE)}`);
      expect(res.status).toBe(201);
      expect(await newest()).toBe(MESSAGE);
    });

    it.each([
      ['bytes that are not UTF-8', '\xff\xfe broken'],
      ['a percent-encoded NUL', "UTF-8''a%00b"],
      ['bad percent-encoding', "UTF-8''%E2%9C"],
    ])('refuses %s with 400 naming the header, and writes nothing', async (_, header) => {
      const res = await write('utf8-bad', header);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.text).errors[0].path).toBe('/header/X-Commit-Message');
      await t.http.get('/api/v1/documents/crud/utf8-bad').set(t.as('viewer')).expect(404);
    });
  });

  describe('headers', () => {
    it('sends nosniff and no-referrer on every answer, and no X-Powered-By', async () => {
      for (const res of [
        await t.http.get('/api/v1/branches').set(t.as('viewer')),
        await t.http.get('/api/v1/nothing-here').set(t.as('viewer')),
        await t.http.get('/health/live'),
      ]) {
        expect(res.headers['x-content-type-options']).toBe('nosniff');
        expect(res.headers['referrer-policy']).toBe('no-referrer');
        expect(res.headers['x-powered-by']).toBeUndefined();
      }
    });

    it("sends every header helmet sets, with helmet's values, on every answer", async () => {
      const request = new IncomingMessage(new Socket());
      const reference = new ServerResponse(request);
      helmet({ contentSecurityPolicy: false })(request, reference, () => undefined);
      const expected = Object.entries(reference.getHeaders());
      expect(expected.length).toBeGreaterThan(8);
      for (const res of [
        await t.http.get('/api/v1/branches').set(t.as('viewer')),
        await t.http.get('/api/v1/branches'), // 401
        await t.http.get('/health/live'),
      ]) {
        for (const [name, value] of expected) expect([name, res.headers[name]]).toEqual([name, value]);
      }
    });

    it('challenges with WWW-Authenticate: Bearer on 401, naming an invalid token as such', async () => {
      const none = await t.http.get('/api/v1/branches').expect(401);
      expect(none.headers['www-authenticate']).toBe('Bearer realm="oms"');
      const bad = await t.http.get('/api/v1/branches').set('Authorization', 'Bearer nope').expect(401);
      expect(bad.headers['www-authenticate']).toBe('Bearer realm="oms", error="invalid_token"');
    });

    it('answers headers larger than Node accepts with 431 as application/problem+json', async () => {
      const res = await raw(t, '/api/v1/branches', { 'x-big': 'a'.repeat(20_000) });
      expect(res.status).toBe(431);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(JSON.parse(res.text)).toMatchObject({ status: 431, title: 'Request Header Fields Too Large' });
    });
  });
});
