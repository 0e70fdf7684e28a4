import { PasswordHasher } from '@oms/auth';
import { StoreLocation } from '@oms/store';
import * as jwt from 'jsonwebtoken';
import { spawnSync } from 'node:child_process';
import type { Response } from 'supertest';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { createApps } from '../../apps/oms/src/create-app';
import { loadConfig } from '@oms/config';
import { ADMIN, TEST_JWT_SECRET, TestApp, bootTestApp, startTestApp } from '../support/app';
import { defined, first, one } from '../support/one';
import { StoreTarget, storeTargets } from '../support/store-targets';
import { eventually } from '../support/eventually';

const PROBLEM = /^application\/problem\+json/;
const ROOT = join(__dirname, '..', '..');

const payloadOf = (token: string): Record<string, unknown> => {
  const payload = defined(token.split('.')[1], `the payload segment of the token ${token}`);
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
};
const violations = (body: { errors?: { path: string; message: string }[] }) => body.errors ?? [];
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return defined(sorted[Math.floor(sorted.length / 2)], 'at least one value to take the median of');
};

/** Request helpers bound to one instance. */
const bearerOf = (token: string) => ({ Authorization: `Bearer ${token}` });

function api(t: TestApp) {
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  return {
    login: (username: string, password: string) =>
      t.http.post('/api/v1/auth/login').send({ username, password }),
    async token(username: string, password = `${username}-password`): Promise<string> {
      const res = await t.http.post('/api/v1/auth/login').send({ username, password });
      if (res.status !== 200) throw new Error(`login ${username}: ${res.status} ${res.text}`);
      return res.body.accessToken as string;
    },
    me: (token: string) => t.http.get('/api/v1/auth/me').set(bearer(token)),
    async createUser(username: string, roles: string[], password = `${username}-password`) {
      const res = await t.http.post('/api/v1/users').set(t.as('admin')).send({ username, password, roles });
      if (res.status !== 201) throw new Error(`create ${username}: ${res.status} ${res.text}`);
    },
    patch: (username: string, body: unknown, token = t.tokens.admin) =>
      t.http
        .patch(`/api/v1/users/${username}`)
        .set(bearer(token))
        .set('Content-Type', 'application/merge-patch+json')
        .send(JSON.stringify(body)),
    remove: (username: string, token = t.tokens.admin) =>
      t.http.delete(`/api/v1/users/${username}`).set(bearer(token)),
  };
}

/** Polls `probe` until it returns true, at most `withinMs`; returns how long it took (or throws). */

/** Two instances on one PGlite data directory are not safe: these run where a shared PostgreSQL is. */
const sharedStores = storeTargets().filter((target) => target.name === 'postgres');

describe.each(storeTargets())('revocable tokens on $name', (target) => {
  let t: TestApp;
  let a: ReturnType<typeof api>;
  beforeAll(async () => {
    // A user's entry could outlive every test here: what revokes a token below is the write, never the TTL.
    t = await startTestApp(target, { USER_CACHE_TTL_SECONDS: '60' });
    a = api(t);
  });
  afterAll(() => t?.close());

  it("refuses a deleted user's token at once", async () => {
    await a.createUser('leaver', ['editor']);
    const token = await a.token('leaver');
    await a.me(token).expect(200); // now in this instance's memory
    await a.remove('leaver').expect(204);
    const res = await a.me(token).expect(401);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.body).toMatchObject({ status: 401, detail: 'The token has been revoked.' });
  });

  it('refuses the old token of a user deleted and created again under the same name and password', async () => {
    await a.createUser('reborn', ['viewer']);
    const old = await a.token('reborn');
    await a.me(old).expect(200);
    await a.remove('reborn').expect(204);
    await a.createUser('reborn', ['viewer']);
    await a.me(old).expect(401);
    await a.me(await a.token('reborn')).expect(200);
  });

  it("refuses a demoted user's token at once; a new login carries the new roles, which are enforced", async () => {
    await a.createUser('demoted', ['editor']);
    const old = await a.token('demoted');
    expect((await a.me(old).expect(200)).body.roles).toEqual(['editor']);
    const res = await a.patch('demoted', { roles: ['viewer'] }).expect(200);
    expect(res.body).toMatchObject({ username: 'demoted', roles: ['viewer'] });
    expect((await a.me(old).expect(401)).body.detail).toBe('The token has been revoked.');

    const fresh = await a.token('demoted');
    expect(payloadOf(fresh).roles).toEqual(['viewer']);
    expect((await a.me(fresh).expect(200)).body).toEqual({ username: 'demoted', roles: ['viewer'] });
    await t.http
      .post('/api/v1/branches')
      .set({ Authorization: `Bearer ${fresh}` })
      .send({ name: 'demoted-branch' })
      .expect(403);
  });

  it('revokes every token of a user whose password changes, and only the new password logs in', async () => {
    await a.createUser('rotated', ['viewer']);
    const first = await a.token('rotated');
    const second = await a.token('rotated');
    await a.me(first).expect(200);
    await a.patch('rotated', { password: 'a-brand-new-password' }).expect(200);
    await a.me(first).expect(401);
    await a.me(second).expect(401);
    await a.login('rotated', 'rotated-password').expect(401);
    await a.me(await a.token('rotated', 'a-brand-new-password')).expect(200);
  });

  it('changes nothing, and revokes nothing, for {} or the same roles', async () => {
    await a.createUser('steady', ['editor']);
    const token = await a.token('steady');
    const before = (await t.http.get('/api/v1/users').set(t.as('admin')).expect(200)).body.find(
      (u: { username: string }) => u.username === 'steady',
    );
    const unchanged = await a.patch('steady', {}).expect(200);
    expect(unchanged.body).toEqual(before);
    await a.patch('steady', { roles: ['editor'] }).expect(200);
    await a.me(token).expect(200);
  });

  it('refuses tokens without exp or without tv, but accepts the same claims with both', async () => {
    const tv = payloadOf(t.tokens.viewer).tv as number;
    const sign = (claims: object, options: jwt.SignOptions = {}) =>
      jwt.sign(claims, TEST_JWT_SECRET, { algorithm: 'HS256', ...options });
    const claims = { sub: 'viewer', roles: ['viewer'] };
    await a.me(sign({ ...claims, tv }, { expiresIn: 600 })).expect(200); // control
    const noExp = await a.me(sign({ ...claims, tv })).expect(401);
    expect(noExp.headers['content-type']).toMatch(PROBLEM);
    await a.me(sign(claims, { expiresIn: 600 })).expect(401);
    await a.me(sign({ ...claims, tv: String(tv) }, { expiresIn: 600 })).expect(401);
  });

  it('uses the roles the user has now, not the ones in the token', async () => {
    const tv = payloadOf(t.tokens.viewer).tv as number;
    const inflated = jwt.sign({ sub: 'viewer', roles: ['admin'], tv }, TEST_JWT_SECRET, {
      algorithm: 'HS256',
      expiresIn: 600,
    });
    expect((await a.me(inflated).expect(200)).body.roles).toEqual(['viewer']);
    await t.http
      .get('/api/v1/users')
      .set({ Authorization: `Bearer ${inflated}` })
      .expect(403);
  });

  describe('PATCH /api/v1/users/{username}', () => {
    it('lists every violation of the body, and changes nothing', async () => {
      const token = await a.token('viewer', 'viewer-password');
      const res = await a.patch('viewer', { roles: ['superuser'], password: 42, shoeSize: 44 }).expect(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      const paths = violations(res.body).map((v) => v.path);
      expect(paths).toEqual(expect.arrayContaining(['/body/roles', '/body/password', '/body/shoeSize']));
      expect(
        first(violations((await a.patch('viewer', { roles: [] }).expect(400)).body), 'violation').path,
      ).toBe('/body/roles');
      expect((await a.patch('viewer', ['viewer']).expect(400)).body.status).toBe(400);
      // In a merge patch null removes a member: roles and password cannot be removed.
      const nulls = await a.patch('viewer', { roles: null, password: null }).expect(400);
      expect(violations(nulls.body).map((v) => v.path)).toEqual(
        expect.arrayContaining(['/body/roles', '/body/password']),
      );
      await a.me(token).expect(200);
    });

    it('returns 404 for a user that does not exist, with or without changes', async () => {
      const res = await a.patch('nobody-here', { roles: ['viewer'] }).expect(404);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body).toMatchObject({ status: 404, instance: '/api/v1/users/nobody-here' });
      await a.patch('nobody-here', {}).expect(404);
    });

    it('is for admins only', async () => {
      await a.patch('viewer', { roles: ['admin'] }, t.tokens.editor).expect(403);
      await a.patch('viewer', { roles: ['admin'] }, t.tokens.viewer).expect(403);
    });

    it('refuses to demote the last admin (409), whose token keeps working', async () => {
      const res = await a.patch(ADMIN.username, { roles: ['editor'] }).expect(409);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body).toMatchObject({ status: 409, title: 'Last admin' });
      await t.http.get('/api/v1/users').set(t.as('admin')).expect(200);
    });
  });

  describe('password policy', () => {
    const detailsOf = (body: { errors?: { path: string; message: string }[] }) =>
      violations(body)
        .filter((v) => v.path === '/body/password')
        .map((v) => v.message)
        .sort();

    it('lists every rule a new password breaks, with the other violations of the body', async () => {
      const res = await t.http
        .post('/api/v1/users')
        .set(t.as('admin'))
        .send({ username: 'Shorty', password: 'sHORTY', roles: ['superuser'] })
        .expect(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(detailsOf(res.body)).toEqual(['must be at least 8 characters long', 'must not be the username']);
      expect(violations(res.body).some((v) => v.path.startsWith('/body/roles'))).toBe(true);
    });

    it('counts bytes, not characters, against the 72-byte bound of bcrypt', async () => {
      const tooLong = 'é'.repeat(37); // 37 characters, 74 bytes
      const res = await t.http
        .post('/api/v1/users')
        .set(t.as('admin'))
        .send({ username: 'long-one', password: tooLong, roles: ['viewer'] })
        .expect(400);
      expect(detailsOf(res.body)).toEqual(['must be at most 72 bytes in UTF-8 (bcrypt ignores the rest)']);
      await a.createUser('long-one', ['viewer'], 'é'.repeat(36)); // exactly 72 bytes
      await a.token('long-one', 'é'.repeat(36));
    });

    it('applies to PATCH, with the username from the path', async () => {
      const res = await a.patch('editor', { password: 'EDITOR' }).expect(400);
      expect(detailsOf(res.body)).toEqual(['must be at least 8 characters long', 'must not be the username']);
      const long = await a.patch('editor', { password: 'x'.repeat(73) }).expect(400);
      expect(detailsOf(long.body)).toEqual(['must be at most 72 bytes in UTF-8 (bcrypt ignores the rest)']);
      await a.token('editor', 'editor-password'); // unchanged
    });

    it('stops the start when OMS_ADMIN_PASSWORD breaks it, saying so', async () => {
      const { location, cleanup } = await target.provision();
      const { api: app, metrics } = await createApps(
        loadConfig({
          OMS_ENV: 'test',
          JWT_SECRET: TEST_JWT_SECRET,
          OMS_ADMIN_USERNAME: 'operator',
          OMS_ADMIN_PASSWORD: 'OPERATOR', // long enough for the configuration check, but the username
          DATA_DIR: location.dataDir,
          ...(location.databaseUrl ? { DATABASE_URL: location.databaseUrl } : {}),
        }),
      );
      try {
        await expect(app.init()).rejects.toThrow(
          'OMS_ADMIN_PASSWORD does not meet the password policy: it must not be the username.',
        );
      } finally {
        await Promise.all([app.close(), metrics.close()]);
        await cleanup();
      }
    });
  });

  it('answers every login with Cache-Control: no-store', async () => {
    const ok = await a.login(ADMIN.username, ADMIN.password).expect(200);
    const wrong = await a.login(ADMIN.username, 'not-the-password').expect(401);
    const invalid = await t.http.post('/api/v1/auth/login').send({}).expect(400);
    for (const res of [ok, wrong, invalid]) expect(res.headers['cache-control']).toBe('no-store');
  });
});

describe.each(storeTargets())('login throttling on $name', (target) => {
  describe('per username', () => {
    let t: TestApp;
    let a: ReturnType<typeof api>;
    beforeAll(async () => {
      t = await startTestApp(target, {
        LOGIN_MAX_FAILURES_PER_USERNAME: '3',
        LOGIN_MAX_FAILURES_PER_ADDRESS: '1000',
        LOGIN_THROTTLE_WINDOW_SECONDS: '120',
      });
      a = api(t);
    });
    afterAll(() => t?.close());

    it('answers 429 problem+json with Retry-After past the limit, at once and without hashing, even for the right password', async () => {
      await a.createUser('guessed', ['viewer']);
      const verify = jest.spyOn(t.app.get(PasswordHasher), 'verify');
      try {
        const hashed: number[] = [];
        for (let i = 0; i < 3; i++) {
          const started = performance.now();
          await a.login('guessed', `wrong-guess-${i}`).expect(401);
          hashed.push(performance.now() - started);
        }
        expect(verify).toHaveBeenCalledTimes(3);

        const refused: number[] = [];
        for (const password of ['wrong-guess-3', 'wrong-guess-4', 'guessed-password', 'guessed-password']) {
          const started = performance.now();
          const res = await a.login('guessed', password).expect(429);
          refused.push(performance.now() - started);
          expect(res.headers['content-type']).toMatch(PROBLEM);
          expect(res.headers['cache-control']).toBe('no-store');
          expect(res.body).toMatchObject({ status: 429, instance: '/api/v1/auth/login' });
          const retryAfter = Number(res.headers['retry-after']);
          expect(Number.isInteger(retryAfter)).toBe(true);
          expect(retryAfter).toBeGreaterThanOrEqual(1);
          expect(retryAfter).toBeLessThanOrEqual(120);
        }
        expect(verify).toHaveBeenCalledTimes(3); // no password was checked past the limit
        // A refused login costs no bcrypt time: well under what a checked one took, here and now.
        expect(median(refused) * 4).toBeLessThan(Math.min(...hashed));
      } finally {
        verify.mockRestore();
      }
      // Another username from the same address is not affected.
      await a.login('viewer', 'viewer-password').expect(200);
    });

    it('holds the limit under a parallel flood: exactly the limit is judged, the rest get 429, none 503', async () => {
      await a.createUser('flooded', ['viewer']);
      const answers = await Promise.all(
        Array.from({ length: 40 }, (_, i) => a.login('flooded', `parallel-guess-${i}`)),
      );
      const statuses = answers.map((r) => r.status).sort();
      expect(statuses.filter((s) => s === 401)).toHaveLength(3);
      expect(statuses.filter((s) => s === 429)).toHaveLength(37);
      await a.login('flooded', 'flooded-password').expect(429);
    });

    it("clears a username's failures on a successful login", async () => {
      await a.createUser('forgetful', ['viewer']);
      await a.login('forgetful', 'wrong-1').expect(401);
      await a.login('forgetful', 'wrong-2').expect(401);
      await a.login('forgetful', 'forgetful-password').expect(200);
      await a.login('forgetful', 'wrong-3').expect(401);
      await a.login('forgetful', 'wrong-4').expect(401);
      // Four failures in the window, but two since the success: still under the limit of three.
      await a.login('forgetful', 'forgetful-password').expect(200);
    });
  });

  describe('per client address', () => {
    let t: TestApp;
    let a: ReturnType<typeof api>;
    beforeAll(async () => {
      t = await startTestApp(target, {
        LOGIN_MAX_FAILURES_PER_USERNAME: '1000',
        LOGIN_MAX_FAILURES_PER_ADDRESS: '4',
      });
      a = api(t);
    });
    afterAll(() => t?.close());

    it('refuses every login from an address past its limit, whatever the username', async () => {
      for (let i = 0; i < 4; i++) await a.login(`stranger-${i}`, 'some-password').expect(401);
      const res = await a.login('viewer', 'viewer-password').expect(429);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      // Tokens already issued are not affected: throttling is about guessing passwords.
      await a.me(t.tokens.viewer).expect(200);
    });
  });

  describe('per client address behind a proxy (TRUST_PROXY)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(target, {
        LOGIN_MAX_FAILURES_PER_USERNAME: '1000',
        LOGIN_MAX_FAILURES_PER_ADDRESS: '3',
        TRUST_PROXY: 'loopback',
      });
    });
    afterAll(() => t?.close());

    const login = (forwardedFor: string, username: string, password: string) =>
      t.http.post('/api/v1/auth/login').set('X-Forwarded-For', forwardedFor).send({ username, password });

    it("counts the client the trusted proxy names, so one client's guesses do not lock out the others", async () => {
      for (let i = 0; i < 3; i++) await login('203.0.113.9', `guess-${i}`, 'some-password').expect(401);
      await login('203.0.113.9', 'viewer', 'viewer-password').expect(429);
      await login('198.51.100.7', 'viewer', 'viewer-password').expect(200);
    });
  });
});

describe.each(storeTargets())('tokens while the store fails on $name', (target) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(target, {
      CIRCUIT_BREAKER_FAILURE_THRESHOLD: '3',
      CIRCUIT_BREAKER_HALF_OPEN_AFTER_SECONDS: '120',
      USER_CACHE_TTL_SECONDS: '1',
    });
  });
  afterAll(() => t?.close());

  const storeBreaker = async () =>
    (
      (await t.http.get('/api/v1/admin/resilience').set(t.as('admin')).expect(200)).body.breakers as {
        name: string;
        state: string;
      }[]
    ).find((b) => b.name === 'store')?.state;
  const storeCalls = async () =>
    (
      (await t.http.get('/api/v1/admin/faults').set(t.as('admin')).expect(200)).body as {
        target: string;
        calls: number;
      }[]
    ).find((f) => f.target === 'store')?.calls;

  it('keeps revocation through a store outage: known users still get in, revoked tokens stay out, unknown ones get 503', async () => {
    const a = api(t);
    await a.createUser('ops2', ['admin']);
    await a.createUser('demo', ['admin']);
    await a.createUser('stranger', ['admin']);
    const [ops2, demo, stranger] = [await a.token('ops2'), await a.token('demo'), await a.token('stranger')];
    await a.me(ops2).expect(200);
    await a.me(demo).expect(200);
    await a.remove('ops2').expect(204);
    await a.patch('demo', { roles: ['viewer'] }).expect(200);
    await a.me(ops2).expect(401); // read again after the change: absent
    await a.me(demo).expect(401); // read again: its version moved on
    await t.http.get('/api/v1/auth/me').set(t.as('admin')).expect(200);
    await t.http.get('/api/v1/auth/me').set(t.as('editor')).expect(200);

    await t.http
      .put('/api/v1/admin/faults/store')
      .set(t.as('admin'))
      .send({ errorRate: 1, latencyMs: 0 })
      .expect(200);
    await eventually(async () => {
      await t.http.get('/api/v1/branches').set(t.as('admin'));
      return (await storeBreaker()) === 'open';
    }, 10_000);
    await sleep(1_100); // every user entry in memory has expired: each check now asks the store
    const calls = await storeCalls();
    // The admin this instance knows: admin routes that need no store keep answering.
    await t.http.get('/api/v1/admin/resilience').set(t.as('admin')).expect(200);
    const me = await t.http.get('/api/v1/auth/me').set(t.as('admin')).expect(200);
    expect(me.body).toEqual({ username: ADMIN.username, roles: ['admin'] });
    // Revoked tokens stay revoked: the outage does not hand their old claims back.
    await a.me(ops2).expect(401);
    await a.me(demo).expect(401);
    await t.http.post('/api/v1/admin/resilience/breakers/store/reset').set(bearerOf(demo)).expect(401);
    // A user this instance never read cannot be checked: 503, not the token's word.
    const unknown = await a.me(stranger).expect(503);
    expect(unknown.headers['retry-after']).toBeDefined();
    expect(await storeCalls()).toBe(calls); // the open breaker answered for the store
    // Routes that need the store still fail fast, and tokens are still checked.
    await t.http.get('/api/v1/branches').set(t.as('admin')).expect(503);
    await t.http.get('/api/v1/admin/resilience').set({ Authorization: 'Bearer forged' }).expect(401);
    await t.http.get('/api/v1/admin/resilience').set(t.as('editor')).expect(403);
  });
});

if (sharedStores.length > 0)
  describe.each(sharedStores)('two instances sharing $name', (target: StoreTarget) => {
    describe('sharing PostgreSQL', () => {
      /** Two instances on a fresh database; on Redis (one key space) when `redis` and the target has it. */
      async function pair(env: Record<string, string>, redis: boolean) {
        const { location, cleanup } = await target.provision();
        const shared =
          redis && target.redisUrl
            ? { REDIS_URL: target.redisUrl, REDIS_CACHE_PREFIX: `oms-test-${randomUUID()}:`, ...env }
            : env;
        const one = await bootTestApp(location, shared);
        const two = await bootTestApp(location, shared);
        return {
          one,
          two,
          location,
          close: async () => {
            await Promise.all([one.close(), two.close()]);
            await cleanup();
          },
        };
      }

      // Defined only where the target has Redis (always in CI, where storeTargets requires REDIS_URL).
      if (target.redisUrl)
        it("refuses a user's token on B as soon as A has deleted or demoted it (Redis invalidation)", async () => {
          const { one, two, close } = await pair({ USER_CACHE_TTL_SECONDS: '60' }, true);
          try {
            const [a, b] = [api(one), api(two)];
            await a.createUser('roamer', ['editor']);
            await a.createUser('climber', ['editor']);
            const roamer = await a.token('roamer');
            const climber = await a.token('climber');
            await b.me(roamer).expect(200); // cached on B for a minute
            await b.me(climber).expect(200);
            await a.remove('roamer').expect(204);
            await b.me(roamer).expect(401);
            await a.patch('climber', { roles: ['viewer'] }).expect(200);
            await b.me(climber).expect(401);
            expect((await b.me(await b.token('climber')).expect(200)).body.roles).toEqual(['viewer']);
          } finally {
            await close();
          }
        });

      it("refuses a deleted user's token on B within USER_CACHE_TTL_SECONDS without Redis", async () => {
        const { one, two, close } = await pair({ USER_CACHE_TTL_SECONDS: '1' }, false);
        try {
          const [a, b] = [api(one), api(two)];
          await a.createUser('drifter', ['viewer']);
          const token = await a.token('drifter');
          await b.me(token).expect(200);
          await a.remove('drifter').expect(204);
          const tookMs = await eventually(async () => (await b.me(token)).status === 401, 3_000);
          expect(tookMs).toBeLessThan(1_500);
        } finally {
          await close();
        }
      });

      it('makes a reset by create-admin revoke the earlier tokens, and its printed token work', async () => {
        const { one, two, location, close } = await pair({ USER_CACHE_TTL_SECONDS: '1' }, false);
        try {
          const a = api(one);
          await a.createUser('ops', ['admin']);
          const before = await a.token('ops');
          await a.me(before).expect(200);
          const cli = runCreateAdminSource(['--username', 'ops', '--password', 'ops-new-password'], location);
          expect(cli.stderr).toBe('');
          expect(cli.status).toBe(0);
          expect(cli.stdout).toContain("Reset admin 'ops'");
          const printed = cli.stdout.trim().split('\n').pop()!;
          await eventually(async () => (await a.me(before)).status === 401, 3_000);
          await a.me(printed).expect(200);
          await api(two).me(printed).expect(200);
        } finally {
          await close();
        }
      });

      /**
       * Lines the requests up where they would race: holds every admin row (FOR UPDATE) from outside while
       * `send` fires them, until each waits for a lock in the store (so each has passed the token check and
       * none has changed anything yet; at most 1.5 s), then lets them all go at once. Whatever the store does to
       * serialise them (its advisory lock) must then keep one admin; without it, each would count the admins
       * before the others' deletes commit.
       */
      async function race(location: StoreLocation, send: () => PromiseLike<Response>[]) {
        const holder = new Client({ connectionString: location.databaseUrl });
        await holder.connect();
        try {
          await holder.query('BEGIN');
          await holder.query(`SELECT username FROM users WHERE 'admin' = ANY(roles) FOR UPDATE`);
          const answers = send().map((request) => Promise.resolve(request)); // supertest sends on then()
          await eventually(async () => {
            const { rows } = await holder.query<{ waiting: number }>(
              `SELECT count(*)::int AS waiting FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock'`,
            );
            return one(rows, 'count row').waiting === answers.length;
            // Well under the lock_timeout the store sets (half of STORE_TIMEOUT_MS), past which a waiter
            // would get a retryable 503 instead of its turn.
          }, 1_500).catch(() => undefined); // not all waiting: let them go anyway, the outcome decides
          await holder.query('COMMIT');
          return await Promise.all(answers);
        } finally {
          await holder.end();
        }
      }

      async function adminsIn(location: StoreLocation): Promise<string[]> {
        const client = new Client({ connectionString: location.databaseUrl });
        await client.connect();
        try {
          const { rows } = await client.query<{ username: string }>(
            `SELECT username FROM users WHERE 'admin' = ANY(roles) ORDER BY username`,
          );
          return rows.map((r) => r.username);
        } finally {
          await client.end();
        }
      }

      it('keeps one admin when all three are deleted at once through two instances: two 204, one 409', async () => {
        const { one, two, location, close } = await pair({}, true);
        try {
          await api(one).createUser('second', ['admin']);
          await api(one).createUser('third', ['admin']);
          const answers = await race(location, () => [
            api(one).remove(ADMIN.username),
            api(two).remove('second', two.tokens.admin),
            api(one).remove('third'),
          ]);
          expect(answers.map((r) => r.status).sort()).toEqual([204, 204, 409]);
          expect(answers.find((r) => r.status === 409)?.body).toMatchObject({
            status: 409,
            title: 'Last admin',
          });
          expect(await adminsIn(location)).toHaveLength(1);
        } finally {
          await close();
        }
      });

      it('keeps one admin when a demotion and a deletion of the only two race through two instances', async () => {
        const { one, two, location, close } = await pair({}, true);
        try {
          await api(one).createUser('second', ['admin']);
          const answers = await race(location, () => [
            api(one).patch('second', { roles: ['viewer'] }),
            api(two).remove(ADMIN.username, two.tokens.admin),
          ]);
          const [demotion, deletion] = answers.map((r) => r.status);
          // Whichever took the lock first won; the other found a single admin left.
          expect([
            [200, 409],
            [409, 204],
          ]).toContainEqual([demotion, deletion]);
          expect(await adminsIn(location)).toEqual([demotion === 200 ? ADMIN.username : 'second']);
        } finally {
          await close();
        }
      });
    });
  });

/** Runs create-admin from source (ts-node), as `npm run create-admin` runs the built one. */
function runCreateAdminSource(args: string[], location?: StoreLocation) {
  return spawnSync(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      '-r',
      'tsconfig-paths/register',
      'apps/oms/src/cli/create-admin.ts',
      ...args,
    ],
    {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        PATH: process.env.PATH,
        OMS_ENV: 'test',
        LOG_LEVEL: 'error',
        JWT_SECRET: TEST_JWT_SECRET,
        DATA_DIR: location?.dataDir ?? 'memory://',
        ...(location?.databaseUrl ? { DATABASE_URL: location.databaseUrl } : {}),
      },
    },
  );
}

describe('create-admin and the password policy', () => {
  it('refuses a password that breaks the policy, saying which rules, before touching any store', () => {
    const result = runCreateAdminSource(['--username', 'operator', '--password', 'Operator']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      '--password does not meet the password policy: it must not be the username.',
    );
    const short = runCreateAdminSource(['--username', 'operator', '--password', 'short']);
    expect(short.status).toBe(1);
    expect(short.stderr).toContain('it must be at least 8 characters long');
  });
});
