/**
 * npm run test:resilience — what the system we replace only claimed: the BUILT service, as a process,
 * has its store faults injected and its breaker open and recover, answers revalidations with 304, sheds
 * overload at once while health stays up, exports all of it as metrics, and drains on SIGTERM.
 * Every step is an assertion; the steps run in order against one service.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CONTRACT_METRICS, seriesValue } from '../support/metrics';
import { RunningService, startService, storeEnv } from '../support/service-process';
import { storeTargets } from '../support/store-targets';

const ADMIN = { username: 'verifier', password: 'verifier-password' };

describe.each(storeTargets())('resilience of the running service on $name', (target) => {
  let service: RunningService;
  let cleanup: () => Promise<void>;
  let token: string;
  let metricsUrl: string;

  const api = async (
    method: string,
    path: string,
    init: { body?: unknown; headers?: Record<string, string> } = {},
  ) => {
    const started = performance.now();
    const res = await fetch(`${service.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...init.headers,
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      ms: performance.now() - started,
      body:
        text && res.headers.get('content-type')?.includes('json')
          ? (JSON.parse(text) as Record<string, unknown>)
          : {},
    };
  };
  const metrics = async () => (await fetch(metricsUrl)).text();
  const fault = (spec: Record<string, number> | null) =>
    spec
      ? api('PUT', '/api/v1/admin/faults/store', { body: spec })
      : api('DELETE', '/api/v1/admin/faults/store');

  beforeAll(async () => {
    const provisioned = await target.provision();
    cleanup = provisioned.cleanup;
    service = await startService({
      ...storeEnv(provisioned.location),
      OMS_ADMIN_USERNAME: ADMIN.username,
      OMS_ADMIN_PASSWORD: ADMIN.password,
      FAULT_INJECTION_ENABLED: 'true',
      CIRCUIT_BREAKER_FAILURE_THRESHOLD: '3',
      CIRCUIT_BREAKER_MIN_CALLS: '1000',
      CIRCUIT_BREAKER_HALF_OPEN_AFTER_SECONDS: '1',
      BACKPRESSURE_MAX_CONCURRENT: '2',
      BACKPRESSURE_MAX_QUEUE: '2',
      SHUTDOWN_TIMEOUT_MS: '5000',
    });
    metricsUrl = service.metricsUrl;
    const login = await fetch(`${service.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    token = ((await login.json()) as { accessToken: string }).accessToken;
    expect(
      (await api('POST', '/api/v1/schemas/main/object-types', { body: { name: 'Probe', properties: [] } }))
        .status,
    ).toBe(201);
    expect(
      (
        await api('POST', '/api/v1/documents/crud', {
          body: { objectType: 'Probe', id: 'p1', properties: {} },
        })
      ).status,
    ).toBe(201);
  });

  afterAll(async () => {
    if (service?.process.exitCode === null) await service.stop('SIGKILL');
    await cleanup?.();
  });

  it('1. answers revalidations with 304 and counts them', async () => {
    const first = await api('GET', '/api/v1/documents/crud/p1');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"\d+"$/);
    const before = seriesValue(await metrics(), 'etag_cache_hits_total', { resource: 'document' })!;
    for (let i = 0; i < 5; i++) {
      const res = await api('GET', '/api/v1/documents/crud/p1', { headers: { 'if-none-match': etag } });
      expect(res.status).toBe(304);
      expect(res.headers.get('etag')).toBe(etag);
    }
    expect(seriesValue(await metrics(), 'etag_cache_hits_total', { resource: 'document' })! - before).toBe(5);
  });

  it('2. opens the store breaker under injected store failures and then refuses at once', async () => {
    expect((await fault({ errorRate: 1, latencyMs: 0 })).status).toBe(200);
    // Ids never read before: a cached answer would be served without touching the failing store.
    const failures = [];
    for (let i = 0; i < 3; i++) failures.push((await api('GET', `/api/v1/documents/crud/cold-${i}`)).status);
    expect(failures).toEqual([503, 503, 503]);
    const refused = await api('GET', '/api/v1/documents/crud/cold-3');
    expect(refused.status).toBe(503);
    expect(refused.body.breaker).toBeDefined();
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const text = await metrics();
    expect(seriesValue(text, 'circuit_breaker_state', { breaker: 'store' })).toBe(1);
    expect(seriesValue(text, 'circuit_breaker_state', { breaker: 'documents' })).toBe(1);
  });

  it('3. recovers once the store is healthy again', async () => {
    expect((await fault(null)).status).toBe(204);
    await sleep(1100);
    expect((await api('GET', '/api/v1/documents/crud/cold-4')).status).toBe(404); // an answer: the trial succeeded
    const text = await metrics();
    expect(seriesValue(text, 'circuit_breaker_state', { breaker: 'store' })).toBe(0);
    expect(
      seriesValue(text, 'circuit_breaker_transitions_total', { breaker: 'store', to: 'half-open' }),
    ).toBe(1);
    expect(seriesValue(text, 'circuit_breaker_transitions_total', { breaker: 'store', to: 'closed' })).toBe(
      1,
    );
  });

  it('4. sheds overload at once while health stays up', async () => {
    expect((await fault({ errorRate: 0, latencyMs: 400 })).status).toBe(200);
    const writes = Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        api('POST', '/api/v1/documents/crud', {
          body: { objectType: 'Probe', id: `load-${i}`, properties: {} },
        }),
      ),
    );
    await sleep(50);
    const health = await fetch(`${service.url}/health/live`);
    expect(health.status).toBe(200);
    const results = await writes;
    const accepted = results.filter((r) => r.status === 201);
    const shed = results.filter((r) => r.status === 503);
    expect(accepted.length + shed.length).toBe(30);
    expect(accepted).toHaveLength(4);
    for (const r of shed) {
      expect(r.ms).toBeLessThan(400); // as seen by this client: none waited for the 400 ms store
      expect(r.headers.get('retry-after')).toBe('1');
    }
    const text = await metrics();
    expect(seriesValue(text, 'backpressure_rejected_total', { reason: 'queue_full' })).toBe(26);
    // As measured by the server, arrival to answer: every shed request took under 50 ms.
    const shedRoute = { method: 'POST', route: '/api/v1/documents/crud', status_code: '503' };
    expect(seriesValue(text, 'http_request_duration_seconds_bucket', { ...shedRoute, le: '0.05' })).toBe(26);
    expect((await fault(null)).status).toBe(204);
  });

  it('5. exports every metric of the contract', async () => {
    const text = await metrics();
    for (const name of [...CONTRACT_METRICS, 'process_resident_memory_bytes']) {
      expect([name, text.includes(`# TYPE ${name} `)]).toEqual([name, true]);
    }
    expect(seriesValue(text, 'backpressure_active_requests')).toBe(0);
    expect(seriesValue(text, 'backpressure_queue_size')).toBe(0);
  });

  it('6. finishes the request in flight on SIGTERM, then exits 0', async () => {
    expect((await fault({ errorRate: 0, latencyMs: 800 })).status).toBe(200);
    const inFlight = api('GET', '/api/v1/documents/crud/p1');
    await sleep(200);
    const stopping = performance.now();
    const exit = service.stop('SIGTERM');
    expect((await inFlight).status).toBe(200);
    expect(await exit).toBe(0);
    expect(performance.now() - stopping).toBeLessThan(2000); // drained, not held open by keep-alive
    expect((await fetch(`${service.url}/health/live`).catch(() => null))?.status).toBeUndefined();
  });
});
