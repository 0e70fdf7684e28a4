import { setTimeout as sleep } from 'node:timers/promises';
import { Receiver } from '../support/receiver';
import { RunningService, callService as call, processSuite, startService } from '../support/service-process';
import { openSse } from '../support/sse';
import { StoreTarget, storeTargets } from '../support/store-targets';

const ADMIN = { username: 'root', password: 'root-password-1' };

async function login(service: RunningService): Promise<string> {
  const res = await call(service, 'POST', '/api/v1/auth/login', undefined, ADMIN);
  expect(res.status).toBe(200);
  return res.body!.accessToken as string;
}

describe.each(storeTargets())('the change feed of the service process on $name', (target: StoreTarget) => {
  const suite = processSuite(target, {
    OMS_ADMIN_USERNAME: ADMIN.username,
    OMS_ADMIN_PASSWORD: ADMIN.password,
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    WEBHOOK_RETRY_BASE_MS: '100',
    WEBHOOK_RETRY_MAX_MS: '500',
    // A lease outlives a send (this) and its settling (STORE_TIMEOUT_MS): about 4 s here.
    WEBHOOK_TIMEOUT_MS: '1000',
    STORE_TIMEOUT_MS: '2000',
    // Streams that did not end by themselves would hold the shutdown this long.
    SHUTDOWN_TIMEOUT_MS: '20000',
  });
  const receiver = new Receiver();
  beforeAll(() => receiver.up());
  afterAll(() => receiver.down());

  it('delivers every event after kill -9 with deliveries pending and in flight: none lost', async () => {
    let service = await startService(suite.env);
    let token = await login(service);
    // Slow answers: when the process dies, some deliveries are in flight (leased), the rest pending.
    receiver.behave = () => ({ status: 200, delayMs: 700 });
    const hook = await call(service, 'POST', '/api/v1/webhooks', token, {
      url: receiver.url,
      branches: ['main'],
    });
    expect(hook.status).toBe(201);
    expect(
      (await call(service, 'POST', '/api/v1/schemas/main/object-types', token, { name: 'K', properties: [] }))
        .status,
    ).toBe(201);
    for (let i = 0; i < 10; i++) {
      const res = await call(service, 'POST', '/api/v1/documents/crud', token, {
        objectType: 'K',
        properties: {},
      });
      expect(res.status).toBe(201);
    }
    while (receiver.calls.length < 2) await sleep(20);
    expect(await service.stop('SIGKILL')).toBe('SIGKILL');
    const before = new Set(receiver.acknowledged().map((c) => JSON.parse(c.body).seq as number));
    expect(before.size).toBeLessThan(11); // it really died with deliveries owed

    receiver.behave = () => ({ status: 200 });
    service = await startService(suite.env);
    token = await login(service);
    const acknowledged = () => new Set(receiver.acknowledged().map((c) => JSON.parse(c.body).seq as number));
    const deadline = Date.now() + 30_000;
    while (acknowledged().size < 11) {
      if (Date.now() > deadline) throw new Error(`acknowledged only ${[...acknowledged()].join(',')}`);
      await sleep(100);
    }
    expect([...acknowledged()].sort((a, b) => a - b)).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
    const deliveries = await call(
      service,
      'GET',
      `/api/v1/webhooks/${String(hook.body!.id)}/deliveries?status=pending`,
      token,
    );
    expect(deliveries.body).toEqual([]);
    expect(await service.stop('SIGTERM')).toBe(0);
  });

  it('ends its event streams cleanly on SIGTERM and exits 0', async () => {
    const service = await startService(suite.env);
    const token = await login(service);
    const stream = await openSse(`${service.url}/api/v1/branches/main/events?since=0`, {
      Authorization: `Bearer ${token}`,
    });
    expect(stream.status).toBe(200);
    const exit = service.stop('SIGTERM');
    // Well before SHUTDOWN_TIMEOUT_MS would have cut the connection.
    await stream.until((s) => s.ended, 5_000, 'the stream to end');
    expect(await exit).toBe(0);
  });
});
