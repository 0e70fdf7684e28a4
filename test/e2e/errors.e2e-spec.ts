import { TestApp, startTestApp } from '../support/app';
import { given } from '../support/given';
import { storeTargets } from '../support/store-targets';

const PROBLEM = /^application\/problem\+json/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Answer {
  status: number;
  text: string;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

/** Asserts an RFC 9457 problem document with the given status, for the given request path. */
function expectProblem(res: Answer, status: number, instance: string): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(PROBLEM);
  expect(res.body).toEqual(
    expect.objectContaining({
      type: expect.any(String),
      title: expect.any(String),
      status,
      detail: expect.any(String),
      instance,
    }),
  );
  expectNothingInternal(res.text);
}

/** No stack frames, file paths or SQL leak into a response. */
function expectNothingInternal(text: string): void {
  expect(text).not.toMatch(/\bat \S+ \(/); // "at fn (file:line:col)"
  expect(text).not.toMatch(/\bat (\/|file:|node:)/); // "at /path/file.js:1:2"
  expect(text).not.toMatch(/\.(ts|js):\d+/);
  expect(text).not.toContain('node_modules');
  expect(text).not.toContain('stack');
  expect(text).not.toMatch(/\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM|WHERE|RETURNING)\b/);
  expect(text).not.toMatch(/\b(pglite|postgres|SQLSTATE|syntax error at)\b/i);
}

describe.each(storeTargets())('error handling on $name', (target) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(target);
    await given(t).type('Person', [
      { name: 'name', dataType: 'string', required: true },
      { name: 'age', dataType: 'integer' },
    ]);
  });
  afterAll(() => t?.close());

  describe('malformed JSON', () => {
    it.each([
      ['{"name": ', 'a truncated object'],
      ["{'name': 'x'}", 'single quotes'],
      ['{"name": "x",}', 'a trailing comma'],
    ])('answers %j (%s) with a 400 problem and no internals', async (raw) => {
      const res = await t.http
        .post('/api/v1/branches')
        .set(t.as('editor'))
        .set('Content-Type', 'application/json')
        .send(raw);
      expectProblem(res, 400, '/api/v1/branches');
      expect(res.body).not.toHaveProperty('stack');
    });

    it('answers malformed JSON to the public login route with a 400 problem', async () => {
      const res = await t.http
        .post('/api/v1/auth/login')
        .set('Content-Type', 'application/json')
        .send('{"username": "admin", "password"');
      expectProblem(res, 400, '/api/v1/auth/login');
    });

    it('puts the full request URL, query included, in instance', async () => {
      const res = await t.http
        .post('/api/v1/documents/crud?branch=main')
        .set(t.as('editor'))
        .set('Content-Type', 'application/json')
        .send('not json');
      expectProblem(res, 400, '/api/v1/documents/crud?branch=main');
    });
  });

  describe('unsupported media type', () => {
    it('answers a text/plain body on POST with a 415 problem', async () => {
      const res = await t.http
        .post('/api/v1/branches')
        .set(t.as('editor'))
        .set('Content-Type', 'text/plain')
        .send('name=feature');
      expectProblem(res, 415, '/api/v1/branches');
    });

    it('answers a form body on PUT with a 415 problem', async () => {
      const res = await t.http
        .put('/api/v1/schemas/main/object-types/Person')
        .set(t.as('editor'))
        .set('Content-Type', 'application/x-www-form-urlencoded')
        .send('name=Person');
      expectProblem(res, 415, '/api/v1/schemas/main/object-types/Person');
    });

    it('answers a PATCH sent as application/json instead of a merge patch with a 415 problem', async () => {
      await given(t).document('Person', { name: 'Ada' }, 'ada');
      const res = await t.http
        .patch('/api/v1/documents/crud/ada')
        .set(t.as('editor'))
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ properties: { age: 36 } }));
      expectProblem(res, 415, '/api/v1/documents/crud/ada');
    });
  });

  describe('unknown routes and methods', () => {
    it('answers an unknown route under /api/v1 with a 404 problem', async () => {
      const res = await t.http.get('/api/v1/no-such-thing').set(t.as('admin'));
      expectProblem(res, 404, '/api/v1/no-such-thing');
    });

    it('answers an unknown route outside /api/v1 with a 404 problem', async () => {
      const res = await t.http.get('/no-such-thing');
      expectProblem(res, 404, '/no-such-thing');
    });

    it.each([
      ['delete', '/api/v1/branches'],
      ['put', '/api/v1/auth/me'],
      ['post', '/api/v1/branches/main/commits'],
    ] as const)('answers %s %s (a known path) with a 404 or 405 problem', async (method, path) => {
      const res = await t.http[method](path).set(t.as('admin'));
      expect([404, 405]).toContain(res.status);
      expectProblem(res, res.status, path);
    });
  });

  describe('validation problems', () => {
    it('lists every violation of a flat body with path and message', async () => {
      const res = await t.http
        .post('/api/v1/users')
        .set(t.as('admin'))
        .send({ username: '', password: 12, roles: 'admin', shoeSize: 44 });
      expectProblem(res, 400, '/api/v1/users');
      const errors = res.body.errors as { path: string; message: string }[];
      for (const e of errors) {
        expect(e).toEqual({ path: expect.any(String), message: expect.any(String) });
        expect(e.message.length).toBeGreaterThan(0);
      }
      expect(errors.map((e) => e.path)).toEqual(
        expect.arrayContaining(['/body/username', '/body/password', '/body/roles', '/body/shoeSize']),
      );
    });

    it('lists violations inside nested arrays with JSON-pointer paths', async () => {
      const res = await t.http
        .post('/api/v1/schemas/main/object-types')
        .set(t.as('editor'))
        .send({
          name: '1-not-a-name',
          properties: [
            { name: 'fine', dataType: 'no-such-type' },
            { name: '2bad', dataType: 'string' },
          ],
        });
      expectProblem(res, 400, '/api/v1/schemas/main/object-types');
      expect((res.body.errors as { path: string }[]).map((e) => e.path)).toEqual(
        expect.arrayContaining(['/body/name', '/body/properties/0/dataType', '/body/properties/1/name']),
      );
    });

    it('lists every document property that breaks its object type', async () => {
      const res = await t.http
        .post('/api/v1/documents/crud?branch=main')
        .set(t.as('editor'))
        .send({ objectType: 'Person', properties: { age: 'old', nickname: 'x' } });
      expectProblem(res, 400, '/api/v1/documents/crud?branch=main');
      const errors = res.body.errors as { path: string; message: string }[];
      // missing required name, wrong type of age, unknown nickname: one violation each
      expect(errors.map((e) => e.path)).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/(^|\/)name$/),
          expect.stringMatching(/(^|\/)age$/),
          expect.stringMatching(/(^|\/)nickname$/),
        ]),
      );
      expect(errors.length).toBeGreaterThanOrEqual(3);
    });
  });

  describe('X-Request-Id', () => {
    it('generates an id for a request that has none and returns it', async () => {
      const first = await t.http.get('/health/live').expect(200);
      const second = await t.http.get('/health/live').expect(200);
      expect(first.headers['x-request-id']).toMatch(UUID);
      expect(second.headers['x-request-id']).toMatch(UUID);
      expect(first.headers['x-request-id']).not.toBe(second.headers['x-request-id']);
    });

    it('returns the id the request sent', async () => {
      const res = await t.http.get('/api/v1/branches').set(t.as('viewer')).set('X-Request-Id', 'abc-123');
      expect(res.status).toBe(200);
      expect(res.headers['x-request-id']).toBe('abc-123');
    });

    it('replaces an id that is not a safe token with a generated one', async () => {
      const res = await t.http.get('/health/live').set('X-Request-Id', 'x'.repeat(500));
      expect(res.headers['x-request-id']).toMatch(UUID);
    });

    it('carries the sent id in problem bodies as requestId', async () => {
      const res = await t.http
        .get('/api/v1/no-such-thing')
        .set(t.as('viewer'))
        .set('X-Request-Id', 'abc-123');
      expect(res.status).toBe(404);
      expect(res.headers['x-request-id']).toBe('abc-123');
      expect(res.body.requestId).toBe('abc-123');
    });

    it('carries the generated id in problem bodies as requestId', async () => {
      const res = await t.http.get('/api/v1/branches');
      expect(res.status).toBe(401);
      expect(res.headers['x-request-id']).toMatch(UUID);
      expect(res.body.requestId).toBe(res.headers['x-request-id']);
    });

    it('carries the id in validation problems too', async () => {
      const res = await t.http.post('/api/v1/auth/login').set('X-Request-Id', 'login-42').send({});
      expect(res.status).toBe(400);
      expect(res.body.requestId).toBe('login-42');
    });
  });

  describe('HEAD', () => {
    it.each(['/api/v1/branches', '/api/v1/schemas/main/object-types', '/api/v1/auth/me'])(
      'answers HEAD %s like its GET, without a body',
      async (path) => {
        const get = await t.http.get(path).set(t.as('viewer')).expect(200);
        const head = await t.http.head(path).set(t.as('viewer'));
        expect(head.status).toBe(200);
        expect(head.headers['content-type']).toBe(get.headers['content-type']);
        expect(head.text ?? '').toBe('');
        expect(head.body).toEqual({});
      },
    );

    it('answers HEAD /health/live with 200 and no body', async () => {
      const res = await t.http.head('/health/live');
      expect(res.status).toBe(200);
      expect(res.text ?? '').toBe('');
    });

    it('answers HEAD without a token with 401 and no body', async () => {
      const res = await t.http.head('/api/v1/branches');
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.text ?? '').toBe('');
    });
  });
});

describe.each(storeTargets())('BODY_LIMIT on $name', (target) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(target, { BODY_LIMIT: '1kb' });
  });
  afterAll(() => t?.close());

  it('answers a body over BODY_LIMIT with a 413 problem', async () => {
    const body = JSON.stringify({ name: 'big', from: 'x'.repeat(2048) });
    expect(Buffer.byteLength(body)).toBeGreaterThan(1024);
    const res = await t.http
      .post('/api/v1/branches')
      .set(t.as('editor'))
      .set('Content-Type', 'application/json')
      .send(body);
    expectProblem(res, 413, '/api/v1/branches');
    await t.http.get('/api/v1/branches/big').set(t.as('viewer')).expect(404);
  });

  it('accepts a body under BODY_LIMIT', async () => {
    const res = await t.http
      .post('/api/v1/branches')
      .set(t.as('editor'))
      .send({ name: 'small', from: 'main' })
      .expect(201);
    expect(res.body.name).toBe('small');
  });
});
