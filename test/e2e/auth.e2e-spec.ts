import { INestApplication } from '@nestjs/common';
import { loadConfig } from '@oms/config';
import { StoreLocation, UserRecord, openStore } from '@oms/store';
import * as bcrypt from 'bcryptjs';
import * as jwt from 'jsonwebtoken';
import type { Server } from 'node:http';
import request from 'supertest';
import { createApps } from '../../apps/oms/src/create-app';
import { ADMIN, TEST_JWT_SECRET, TestApp, startTestApp } from '../support/app';
import { given } from '../support/given';
import { defined } from '../support/one';
import { storeTargets } from '../support/store-targets';

type Role = 'viewer' | 'editor' | 'admin';
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

const PROBLEM = /^application\/problem\+json/;
const BCRYPT_HASH = /^\$2[ab]\$\d{2}\$[./A-Za-z0-9]{53}$/;

const decodeSegment = (segment: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));

/** '2xx', 403, or the whole answer when it is neither, so a failure shows what came back. */
const outcome = (res: { status: number; text: string }) =>
  res.status >= 200 && res.status < 300 ? '2xx' : res.status === 403 ? 403 : `${res.status} ${res.text}`;

const violationPaths = (body: { errors?: { path: string }[] }) => (body.errors ?? []).map((e) => e.path);

/** The token version (`tv`) a token the service issued carries: a hand-signed token needs the current one. */
const tokenVersionOf = (token: string) =>
  decodeSegment(defined(token.split('.')[1], `the payload segment of the token ${token}`)).tv as number;

/** Sends one request with optional headers and JSON (or merge-patch) body. */
function send(t: TestApp, method: Method, path: string, headers: Record<string, string>, body?: unknown) {
  const req = t.http[method](path).set(headers);
  if (body === undefined) return req;
  return req
    .set('Content-Type', method === 'patch' ? 'application/merge-patch+json' : 'application/json')
    .send(JSON.stringify(body));
}

describe.each(storeTargets())('auth, users and roles on $name', (target) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(target);
  });
  afterAll(() => t?.close());

  const login = (username: string, password: string) =>
    t.http.post('/api/v1/auth/login').send({ username, password });

  describe('POST /api/v1/auth/login', () => {
    it('returns 200 with a bearer token and its lifetime for good credentials', async () => {
      const res = await login(ADMIN.username, ADMIN.password).expect(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual({
        accessToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: expect.any(Number),
      });
      expect(res.body.expiresIn).toBeGreaterThan(0);
    });

    it('issues an HS256 JWT naming the user, the roles and an expiry, signed with JWT_SECRET', async () => {
      const before = Math.floor(Date.now() / 1000);
      const { accessToken, expiresIn } = (await login('editor', 'editor-password').expect(200)).body;
      const parts = (accessToken as string).split('.');
      expect(parts).toHaveLength(3);
      const [header, body] = parts;
      expect(decodeSegment(defined(header, 'a JWT header'))).toMatchObject({ alg: 'HS256', typ: 'JWT' });
      const payload = decodeSegment(defined(body, 'a JWT payload'));
      expect(payload).toMatchObject({
        sub: 'editor',
        roles: ['editor'],
        tv: expect.any(Number),
        exp: expect.any(Number),
      });
      expect(payload.exp as number).toBeGreaterThanOrEqual(before + (expiresIn as number));
      expect(payload.exp as number).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + (expiresIn as number));
      expect(() => jwt.verify(accessToken, TEST_JWT_SECRET, { algorithms: ['HS256'] })).not.toThrow();
    });

    it('returns a 401 problem for a wrong password', async () => {
      const res = await login(ADMIN.username, 'not-the-password').expect(401);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body).toMatchObject({ status: 401, instance: '/api/v1/auth/login' });
      expect(res.body).not.toHaveProperty('accessToken');
    });

    it('answers an unknown user exactly as a wrong password, so usernames cannot be probed', async () => {
      const wrongPassword = await login(ADMIN.username, 'not-the-password').expect(401);
      const unknownUser = await login('nobody-by-that-name', 'not-the-password').expect(401);
      expect(unknownUser.headers['content-type']).toMatch(PROBLEM);
      expect(unknownUser.body.type).toBe(wrongPassword.body.type);
      expect(unknownUser.body.title).toBe(wrongPassword.body.title);
      expect(unknownUser.body.detail).toBe(wrongPassword.body.detail);
    });

    it('returns 400 listing both username and password when they are missing', async () => {
      const res = await t.http.post('/api/v1/auth/login').send({}).expect(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(violationPaths(res.body)).toEqual(expect.arrayContaining(['/body/username', '/body/password']));
    });
  });

  describe('GET /api/v1/auth/me', () => {
    it.each([
      ['admin', ADMIN.username],
      ['editor', 'editor'],
      ['viewer', 'viewer'],
    ] as const)('returns the username and roles of the %s token', async (role, username) => {
      const res = await t.http.get('/api/v1/auth/me').set(t.as(role)).expect(200);
      expect(res.body).toEqual({ username, roles: [role] });
    });
  });

  describe('bootstrap admin (OMS_ADMIN_USERNAME / OMS_ADMIN_PASSWORD)', () => {
    it('exists with the admin role and logs in with the password from the environment', async () => {
      const { accessToken } = (await login(ADMIN.username, ADMIN.password).expect(200)).body;
      const me = await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${accessToken}`);
      expect(me.body).toEqual({ username: ADMIN.username, roles: ['admin'] });
      const users = await t.http.get('/api/v1/users').set(t.as('admin')).expect(200);
      expect(users.body).toContainEqual(
        expect.objectContaining({ username: ADMIN.username, roles: ['admin'] }),
      );
    });
  });

  describe('authentication of every /api/v1 route but login', () => {
    const routes: [Method, string, unknown?][] = [
      ['get', '/api/v1/branches'],
      ['post', '/api/v1/branches', { name: 'unauthenticated' }],
      ['get', '/api/v1/branches/main'],
      ['get', '/api/v1/branches/main/commits'],
      ['get', '/api/v1/schemas/main/object-types'],
      ['post', '/api/v1/schemas/main/object-types', { name: 'Unauthenticated', properties: [] }],
      ['get', '/api/v1/documents/crud'],
      ['post', '/api/v1/documents/crud', { objectType: 'Nothing', properties: {} }],
      ['get', '/api/v1/users'],
      ['post', '/api/v1/users', { username: 'intruder', password: 'intruder-password', roles: ['admin'] }],
      ['delete', '/api/v1/users/viewer'],
      ['get', '/api/v1/auth/me'],
    ];

    const now = () => Math.floor(Date.now() / 1000);
    // The admin's current token version, so each token below differs from a valid one in one way only.
    const admin = () => ({ sub: 'admin', roles: ['admin'], tv: tokenVersionOf(t.tokens.admin) });
    const credentials: [string, () => Record<string, string>][] = [
      ['no Authorization header', () => ({})],
      ['a garbage bearer token', () => ({ Authorization: 'Bearer not-a-jwt' })],
      [
        'a non-bearer scheme',
        () => ({ Authorization: `Basic ${Buffer.from('admin:x').toString('base64')}` }),
      ],
      [
        'a token signed with another secret',
        () => ({
          Authorization: `Bearer ${jwt.sign(admin(), 'another-secret-of-at-least-32-characters', { algorithm: 'HS256', expiresIn: 3600 })}`,
        }),
      ],
      [
        'an expired token',
        () => ({
          Authorization: `Bearer ${jwt.sign({ ...admin(), iat: now() - 7200, exp: now() - 60 }, TEST_JWT_SECRET, { algorithm: 'HS256' })}`,
        }),
      ],
      [
        'an unsigned token (alg none)',
        () => ({
          Authorization: `Bearer ${jwt.sign({ ...admin(), exp: now() + 3600 }, '', { algorithm: 'none' })}`,
        }),
      ],
    ];

    const cases = routes.flatMap(([method, path, body]) =>
      credentials.map(([what, headers]) => ({ method, path, body, what, headers })),
    );

    it.each(cases)(
      'rejects $method $path with $what as 401 problem',
      async ({ method, path, body, headers }) => {
        const res = await send(t, method, path, headers(), body);
        expect(res.status).toBe(401);
        expect(res.headers['content-type']).toMatch(PROBLEM);
        expect(res.body).toMatchObject({ status: 401, instance: path });
      },
    );

    it('lets POST /api/v1/auth/login through without a token', async () => {
      await login(ADMIN.username, ADMIN.password).expect(200);
    });

    it('accepts a well-formed token signed with JWT_SECRET that the service did not issue', async () => {
      // Control case for the table above: the only difference in the expired case is the expiry.
      const tv = tokenVersionOf(t.tokens.viewer);
      const token = jwt.sign({ sub: 'viewer', roles: ['viewer'], tv }, TEST_JWT_SECRET, {
        algorithm: 'HS256',
        expiresIn: 600,
      });
      const res = await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${token}`).expect(200);
      expect(res.body).toEqual({ username: 'viewer', roles: ['viewer'] });
    });
  });

  describe('roles (least privilege)', () => {
    type Expected = '2xx' | 403;
    interface Operation {
      method: Method;
      route: string;
      expect: Record<Role, Expected>;
      /** Makes what the request needs (as admin) and returns its path and body; key is unique per case. */
      prepare: (key: string) => Promise<{ path: string; body?: unknown }>;
    }

    const READ: Record<Role, Expected> = { viewer: '2xx', editor: '2xx', admin: '2xx' };
    const WRITE: Record<Role, Expected> = { viewer: 403, editor: '2xx', admin: '2xx' };
    const ADMIN_ONLY: Record<Role, Expected> = { viewer: 403, editor: 403, admin: '2xx' };
    const at = (path: string, body?: unknown) => () => Promise.resolve({ path, body });

    beforeAll(async () => {
      await given(t).type('Thing', [{ name: 'label', dataType: 'string' }]);
    });

    const operations: Operation[] = [
      { method: 'get', route: '/branches', expect: READ, prepare: at('/api/v1/branches') },
      { method: 'get', route: '/branches/{branch}', expect: READ, prepare: at('/api/v1/branches/main') },
      {
        method: 'get',
        route: '/branches/{branch}/commits',
        expect: READ,
        prepare: at('/api/v1/branches/main/commits'),
      },
      {
        method: 'post',
        route: '/branches',
        expect: WRITE,
        prepare: (key) => Promise.resolve({ path: '/api/v1/branches', body: { name: key, from: 'main' } }),
      },
      {
        method: 'delete',
        route: '/branches/{branch}',
        expect: WRITE,
        prepare: async (key) => {
          await given(t).branch(key);
          return { path: `/api/v1/branches/${key}` };
        },
      },
      {
        method: 'get',
        route: '/schemas/{branch}/object-types',
        expect: READ,
        prepare: at('/api/v1/schemas/main/object-types'),
      },
      {
        method: 'get',
        route: '/schemas/{branch}/object-types/{typeName}',
        expect: READ,
        prepare: at('/api/v1/schemas/main/object-types/Thing'),
      },
      {
        method: 'post',
        route: '/schemas/{branch}/object-types',
        expect: WRITE,
        prepare: (key) =>
          Promise.resolve({ path: '/api/v1/schemas/main/object-types', body: { name: key, properties: [] } }),
      },
      {
        method: 'put',
        route: '/schemas/{branch}/object-types/{typeName}',
        expect: WRITE,
        prepare: async (key) => {
          await given(t).type(key);
          return {
            path: `/api/v1/schemas/main/object-types/${key}`,
            body: { name: key, properties: [{ name: 'note', dataType: 'string' }] },
          };
        },
      },
      {
        method: 'delete',
        route: '/schemas/{branch}/object-types/{typeName}',
        expect: WRITE,
        prepare: async (key) => {
          await given(t).type(key);
          return { path: `/api/v1/schemas/main/object-types/${key}` };
        },
      },
      {
        method: 'get',
        route: '/documents/crud',
        expect: READ,
        prepare: at('/api/v1/documents/crud?branch=main'),
      },
      {
        method: 'get',
        route: '/documents/crud/{id}',
        expect: READ,
        prepare: async (key) => {
          await given(t).document('Thing', { label: key }, key);
          return { path: `/api/v1/documents/crud/${key}` };
        },
      },
      {
        method: 'post',
        route: '/documents/crud',
        expect: WRITE,
        prepare: (key) =>
          Promise.resolve({
            path: '/api/v1/documents/crud?branch=main',
            body: { objectType: 'Thing', id: key, properties: { label: key } },
          }),
      },
      {
        method: 'put',
        route: '/documents/crud/{id}',
        expect: WRITE,
        prepare: async (key) => {
          await given(t).document('Thing', { label: key }, key);
          return { path: `/api/v1/documents/crud/${key}`, body: { properties: { label: 'replaced' } } };
        },
      },
      {
        method: 'patch',
        route: '/documents/crud/{id}',
        expect: WRITE,
        prepare: async (key) => {
          await given(t).document('Thing', { label: key }, key);
          return { path: `/api/v1/documents/crud/${key}`, body: { properties: { label: 'patched' } } };
        },
      },
      {
        method: 'delete',
        route: '/documents/crud/{id}',
        expect: WRITE,
        prepare: async (key) => {
          await given(t).document('Thing', { label: key }, key);
          return { path: `/api/v1/documents/crud/${key}` };
        },
      },
      { method: 'get', route: '/auth/me', expect: READ, prepare: at('/api/v1/auth/me') },
      { method: 'get', route: '/users', expect: ADMIN_ONLY, prepare: at('/api/v1/users') },
      {
        method: 'post',
        route: '/users',
        expect: ADMIN_ONLY,
        prepare: (key) =>
          Promise.resolve({
            path: '/api/v1/users',
            body: { username: key, password: `${key}-password`, roles: ['viewer'] },
          }),
      },
      {
        method: 'delete',
        route: '/users/{username}',
        expect: ADMIN_ONLY,
        prepare: async (key) => {
          await t.http
            .post('/api/v1/users')
            .set(t.as('admin'))
            .send({ username: key, password: `${key}-password`, roles: ['viewer'] })
            .expect(201);
          return { path: `/api/v1/users/${key}` };
        },
      },
    ];

    const roles: Role[] = ['viewer', 'editor', 'admin'];
    const table = operations.flatMap((operation, index) =>
      roles.map((role) => ({
        ...operation,
        role,
        expected: operation.expect[role],
        key: `Rk${index}${role}`,
      })),
    );

    it.each(table)(
      '$method $route as $role → $expected',
      async ({ method, role, expected, key, prepare }) => {
        const { path, body } = await prepare(key);
        const res = await send(t, method, path, t.as(role), body);
        expect(outcome(res)).toBe(expected);
        if (expected === 403) expect(res.headers['content-type']).toMatch(PROBLEM);
      },
    );

    it('leaves the resource untouched when a viewer is refused a write', async () => {
      await given(t).document('Thing', { label: 'original' }, 'untouched');
      await send(t, 'put', '/api/v1/documents/crud/untouched', t.as('viewer'), {
        properties: { label: 'changed' },
      }).expect(403);
      const res = await t.http.get('/api/v1/documents/crud/untouched').set(t.as('viewer')).expect(200);
      expect(res.body.properties).toEqual({ label: 'original' });
    });
  });

  describe('/api/v1/users (admin only)', () => {
    it('creates a user with 201 and never returns the password or its hash', async () => {
      const password = 'ada-secret-password';
      const res = await t.http
        .post('/api/v1/users')
        .set(t.as('admin'))
        .send({ username: 'ada', password, roles: ['editor'] })
        .expect(201);
      expect(res.body).toMatchObject({ username: 'ada', roles: ['editor'] });
      expect(Object.keys(res.body).filter((k) => /pass|hash/i.test(k))).toEqual([]);
      expect(res.text).not.toContain(password);
      expect(res.text).not.toMatch(/\$2[aby]\$/);
    });

    it('lets the new user log in with the roles it was given', async () => {
      const { accessToken } = (await login('ada', 'ada-secret-password').expect(200)).body;
      const me = await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${accessToken}`);
      expect(me.body).toEqual({ username: 'ada', roles: ['editor'] });
    });

    it('returns 409 for a username that is taken', async () => {
      const res = await t.http
        .post('/api/v1/users')
        .set(t.as('admin'))
        .send({ username: 'ada', password: 'another-password', roles: ['viewer'] })
        .expect(409);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      await login('ada', 'ada-secret-password').expect(200);
    });

    it('returns 400 listing a bad username, a short password and an unknown role together', async () => {
      const res = await t.http
        .post('/api/v1/users')
        .set(t.as('admin'))
        .send({ username: '-not valid!', password: 'short', roles: ['superuser'] })
        .expect(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(violationPaths(res.body)).toEqual(expect.arrayContaining(['/body/username', '/body/password']));
      expect(violationPaths(res.body).some((p) => p.startsWith('/body/roles'))).toBe(true);
    });

    it('returns 400 for an empty roles list', async () => {
      const res = await t.http
        .post('/api/v1/users')
        .set(t.as('admin'))
        .send({ username: 'no-roles', password: 'long-enough-password', roles: [] })
        .expect(400);
      expect(violationPaths(res.body)).toContain('/body/roles');
      await login('no-roles', 'long-enough-password').expect(401);
    });

    it('returns 400 listing every missing field of an empty body', async () => {
      const res = await t.http.post('/api/v1/users').set(t.as('admin')).send({}).expect(400);
      expect(violationPaths(res.body)).toEqual(
        expect.arrayContaining(['/body/username', '/body/password', '/body/roles']),
      );
    });

    it('lists users with their roles and without password hashes', async () => {
      const res = await t.http.get('/api/v1/users').set(t.as('admin')).expect(200);
      expect(res.body).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ username: ADMIN.username, roles: ['admin'] }),
          expect.objectContaining({ username: 'editor', roles: ['editor'] }),
          expect.objectContaining({ username: 'viewer', roles: ['viewer'] }),
          expect.objectContaining({ username: 'ada', roles: ['editor'] }),
        ]),
      );
      for (const user of res.body as Record<string, unknown>[]) {
        expect(Object.keys(user).filter((k) => /pass|hash/i.test(k))).toEqual([]);
      }
      expect(res.text).not.toMatch(/\$2[aby]\$/);
    });

    it('deletes a user with 204, after which their login fails with 401', async () => {
      await t.http
        .post('/api/v1/users')
        .set(t.as('admin'))
        .send({ username: 'leaving', password: 'leaving-password', roles: ['viewer'] })
        .expect(201);
      await login('leaving', 'leaving-password').expect(200);
      const res = await t.http.delete('/api/v1/users/leaving').set(t.as('admin')).expect(204);
      expect(res.text ?? '').toBe('');
      await login('leaving', 'leaving-password').expect(401);
      const list = await t.http.get('/api/v1/users').set(t.as('admin')).expect(200);
      expect(list.body.map((u: { username: string }) => u.username)).not.toContain('leaving');
    });

    it('returns 404 when deleting a user that does not exist', async () => {
      const res = await t.http.delete('/api/v1/users/nobody-here').set(t.as('admin')).expect(404);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body).toMatchObject({ status: 404, instance: '/api/v1/users/nobody-here' });
    });

    it('returns 409 when deleting the last admin, who can still log in afterwards', async () => {
      const res = await t.http.delete(`/api/v1/users/${ADMIN.username}`).set(t.as('admin')).expect(409);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      await login(ADMIN.username, ADMIN.password).expect(200);
    });

    it('deletes an admin while another admin remains', async () => {
      await t.http
        .post('/api/v1/users')
        .set(t.as('admin'))
        .send({ username: 'second-admin', password: 'second-admin-password', roles: ['admin'] })
        .expect(201);
      await t.http.delete('/api/v1/users/second-admin').set(t.as('admin')).expect(204);
      await login('second-admin', 'second-admin-password').expect(401);
    });
  });
});

/** Boots the app on an existing store location with the given bootstrap admin (as test/support/app.ts does). */
async function bootOn(location: StoreLocation, adminPassword: string): Promise<INestApplication> {
  const { api: app, metrics } = await createApps(
    loadConfig({
      OMS_ENV: 'test',
      JWT_SECRET: TEST_JWT_SECRET,
      OMS_ADMIN_USERNAME: 'root',
      OMS_ADMIN_PASSWORD: adminPassword,
      DATA_DIR: location.dataDir,
      ...(location.databaseUrl ? { DATABASE_URL: location.databaseUrl } : {}),
    }),
  );
  await metrics.close(); // only the API is exercised here
  await app.init();
  return app;
}

describe.each(storeTargets())('bootstrap admin and password storage across restarts on $name', (target) => {
  const FIRST_PASSWORD = 'first-root-password';
  const SECOND_PASSWORD = 'second-root-password';
  const USER_PASSWORD = 'stored-user-password';
  let location: StoreLocation;
  let cleanup: () => Promise<void>;
  let app: INestApplication | undefined;
  let stored: { root: UserRecord | null; user: UserRecord | null };

  const http = () => request(app!.getHttpServer() as Server);
  const login = (username: string, password: string) =>
    http().post('/api/v1/auth/login').send({ username, password });

  beforeAll(async () => {
    ({ location, cleanup } = await target.provision());
    // First start: creates root from the environment; a user is added through the API.
    app = await bootOn(location, FIRST_PASSWORD);
    const token = (await login('root', FIRST_PASSWORD).expect(200)).body.accessToken as string;
    await http()
      .post('/api/v1/users')
      .set('Authorization', `Bearer ${token}`)
      .send({ username: 'stored', password: USER_PASSWORD, roles: ['viewer'] })
      .expect(201);
    await app.close();
    app = undefined;
    // Read the users table directly while no service holds the store (PGlite is single-process).
    const store = await openStore(location);
    try {
      stored = { root: await store.users.find('root'), user: await store.users.find('stored') };
    } finally {
      await store.client.close();
    }
    // Second start on the same store, with a different OMS_ADMIN_PASSWORD.
    app = await bootOn(location, SECOND_PASSWORD);
  });
  afterAll(async () => {
    await app?.close();
    await cleanup?.();
  });

  it('keeps the first password of an existing admin when restarted with another OMS_ADMIN_PASSWORD', async () => {
    await login('root', FIRST_PASSWORD).expect(200);
    const res = await login('root', SECOND_PASSWORD).expect(401);
    expect(res.headers['content-type']).toMatch(PROBLEM);
  });

  it('keeps users created through the API across a restart', async () => {
    await login('stored', USER_PASSWORD).expect(200);
  });

  it('stores passwords as bcrypt hashes, never in clear', () => {
    for (const [record, password] of [
      [stored.user, USER_PASSWORD],
      [stored.root, FIRST_PASSWORD],
    ] as const) {
      expect(record).not.toBeNull();
      expect(record!.passwordHash).toMatch(BCRYPT_HASH);
      expect(record!.passwordHash).not.toContain(password);
      expect(bcrypt.compareSync(password, record!.passwordHash)).toBe(true);
    }
    expect(stored.root!.roles).toEqual(['admin']);
  });
});
