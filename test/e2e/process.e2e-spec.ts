import {
  RunningService,
  callService as call,
  runCreateAdmin,
  runServiceToExit,
  startService,
  processSuite,
} from '../support/service-process';
import { first } from '../support/one';
import { StoreTarget, storeTargets } from '../support/store-targets';

const ADMIN = { username: 'root', password: 'root-password-1' };

async function login(
  service: RunningService,
  username = ADMIN.username,
  password = ADMIN.password,
): Promise<string> {
  const res = await call(service, 'POST', '/api/v1/auth/login', undefined, { username, password });
  expect(res.status).toBe(200);
  return res.body!.accessToken as string;
}

describe.each(storeTargets())('the service process on $name', (target: StoreTarget) => {
  const suite = processSuite(target, {
    OMS_ADMIN_USERNAME: ADMIN.username,
    OMS_ADMIN_PASSWORD: ADMIN.password,
  });
  let service: RunningService | undefined;

  it('keeps every acknowledged write across kill -9 and restarts with no manual step', async () => {
    service = await startService(suite.env);
    const token = await login(service);
    expect(
      (
        await call(service, 'POST', '/api/v1/schemas/main/object-types', token, {
          name: 'Crash',
          properties: [],
        })
      ).status,
    ).toBe(201);
    const acknowledged: string[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await call(service, 'POST', '/api/v1/documents/crud', token, {
        objectType: 'Crash',
        id: `c-${i}`,
        properties: {},
      });
      expect(res.status).toBe(201);
      acknowledged.push(`c-${i}`);
    }
    expect(await service.stop('SIGKILL')).toBe('SIGKILL');

    service = await startService(suite.env);
    const list = await call(
      service,
      'GET',
      '/api/v1/documents/crud?objectType=Crash&limit=1000',
      await login(service),
    );
    expect((list.body!.items as { id: string }[]).map((d) => d.id).sort()).toEqual(acknowledged.sort());
  });

  it('exits 0 on SIGTERM, and its data is there after a restart', async () => {
    service = await startService(suite.env);
    const token = await login(service);
    expect((await call(service, 'POST', '/api/v1/branches', token, { name: 'survivor' })).status).toBe(201);
    expect(await service.stop('SIGTERM')).toBe(0);
    expect(service.logs.some((l) => l.message === 'store closed')).toBe(true);

    service = await startService(suite.env);
    expect((await call(service, 'GET', '/api/v1/branches/survivor', await login(service))).status).toBe(200);
  });

  it('logs one JSON line per request with method, route template, status, duration and request id', async () => {
    service = await startService(suite.env);
    const token = await login(service);
    const res = await fetch(`${service.url}/api/v1/documents/crud/missing-doc?branch=main`, {
      headers: { authorization: `Bearer ${token}`, 'x-request-id': 'trace-me-42' },
    });
    expect(res.status).toBe(404);
    expect(res.headers.get('x-request-id')).toBe('trace-me-42');
    await service.stop('SIGTERM');
    const line = service.logs.find((l) => l.message === 'request' && l.requestId === 'trace-me-42');
    expect(line).toMatchObject({ method: 'GET', route: '/api/v1/documents/crud/:id', status: 404 });
    expect(typeof line!.durationMs).toBe('number');
  });

  it('stops within SHUTDOWN_TIMEOUT_MS when the npm process that `npm start` runs is sent SIGTERM', async () => {
    service = await startService({ ...suite.env, SHUTDOWN_TIMEOUT_MS: '3000' }, 30_000, 'npm');
    const token = await login(service);
    const started = Date.now();
    const code = await service.stop('SIGTERM');
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(3000 + 2000);
    // Nothing is left serving, and the data directory is free again: a new start takes it.
    await expect(fetch(`${service.url}/health/live`)).rejects.toThrow();
    service = await startService(suite.env);
    expect((await call(service, 'GET', '/api/v1/auth/me', await login(service))).status).toBe(200);
    expect(token).toEqual(expect.any(String));
  });

  it('serves metrics on loopback only unless METRICS_HOST says otherwise', async () => {
    service = await startService(suite.env);
    const listening = service.logs.find((l) => l.message === 'OMS listening');
    expect(listening).toMatchObject({ metricsHost: '127.0.0.1' });
    const metrics = await fetch(`http://127.0.0.1:${listening!.metricsPort as number}/metrics`);
    expect(metrics.status).toBe(200);
  });

  it('lets create-admin create or reset an admin and prints a token that the service accepts', async () => {
    const first = runCreateAdmin(['--username', 'ops', '--password', 'first-password'], suite.env);
    expect(first.status).toBe(0);
    expect(first.stdout).toContain("Created admin 'ops'");
    const again = runCreateAdmin(['--username', 'ops', '--password', 'second-password'], suite.env);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain("Reset admin 'ops'");
    const token = again.stdout.trim().split('\n').pop()!;

    service = await startService(suite.env);
    const me = await call(service, 'GET', '/api/v1/auth/me', token);
    expect(me.body).toEqual({ username: 'ops', roles: ['admin'] });
    expect(
      (
        await call(service, 'POST', '/api/v1/auth/login', undefined, {
          username: 'ops',
          password: 'first-password',
        })
      ).status,
    ).toBe(401);
    await login(service, 'ops', 'second-password');
  });

  it('never resets an existing admin from OMS_ADMIN_PASSWORD', async () => {
    service = await startService({ ...suite.env, OMS_ADMIN_PASSWORD: 'another-password' });
    await login(service); // the original password still works
    expect(
      (
        await call(service, 'POST', '/api/v1/auth/login', undefined, {
          username: ADMIN.username,
          password: 'another-password',
        })
      ).status,
    ).toBe(401);
  });
});

describe('the embedded store is single-process', () => {
  it('makes create-admin say clearly that the data directory is in use while the service runs', async () => {
    const pglite = first(storeTargets(), 'store target');
    const { location, cleanup } = await pglite.provision();
    const env = { DATA_DIR: location.dataDir };
    const service = await startService(env);
    try {
      const result = runCreateAdmin(['--username', 'ops', '--password', 'ops-password'], env);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`is in use by process ${service.process.pid}`);
      expect(result.stderr).toContain('Stop the service');
    } finally {
      await service.stop('SIGTERM');
      await cleanup();
    }
  });
});

describe('starting with bad configuration', () => {
  it('stops at once with a message naming the variable and the value', () => {
    const result = runServiceToExit({ PORT: 'eighty', DATA_DIR: 'memory://' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('PORT=\\"eighty\\"');
  });

  it('refuses production without JWT_SECRET', () => {
    const result = runServiceToExit({ OMS_ENV: 'production', DATA_DIR: 'memory://' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('JWT_SECRET');
  });

  it('refuses fault injection in production unless ALLOW_FAULT_INJECTION_IN_PRODUCTION=true', () => {
    const production = {
      OMS_ENV: 'production',
      JWT_SECRET: 'a-signing-key-of-32-bytes-or-more!',
      DATA_DIR: 'memory://',
    };
    const result = runServiceToExit({ ...production, FAULT_INJECTION_ENABLED: 'true' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('FAULT_INJECTION_ENABLED');
    expect(result.stderr).toContain('ALLOW_FAULT_INJECTION_IN_PRODUCTION');
  });

  it.each([
    ['shorter than 32 bytes', 'k'.repeat(16) + 'x'.repeat(15)],
    ['one repeated character', 'a'.repeat(40)],
  ])('refuses a JWT_SECRET %s, without printing it', (_, secret) => {
    const result = runServiceToExit({ OMS_ENV: 'production', JWT_SECRET: secret, DATA_DIR: 'memory://' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('JWT_SECRET=(hidden)');
    expect(result.stderr).not.toContain(secret);
  });

  it('explains create-admin usage when arguments are missing', () => {
    const result = runCreateAdmin(['--username', 'x'], { DATA_DIR: 'memory://' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('usage: npm run create-admin');
  });
});
