import { ConsoleLogger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestApp, startTestApp } from '../support/app';
import { given } from '../support/given';
import { defined, first } from '../support/one';
import { CONTRACT_METRICS, scrape, seriesValue } from '../support/metrics';
import { StoreTarget, storeTargets } from '../support/store-targets';

const BREAKERS = {
  CIRCUIT_BREAKER_FAILURE_THRESHOLD: '3',
  CIRCUIT_BREAKER_MIN_CALLS: '1000',
  CIRCUIT_BREAKER_HALF_OPEN_AFTER_SECONDS: '0.4',
  CIRCUIT_BREAKER_HALF_OPEN_MAX_CALLS: '1',
  STORE_TIMEOUT_MS: '300',
  // The users' records stay cached through the suite, so the faults below hit only the calls counted.
  USER_CACHE_TTL_SECONDS: '60',
};
const HALF_OPEN_WAIT_MS = 500;

async function inject(t: TestApp, target: string, spec: Record<string, number>) {
  await t.http.put(`/api/v1/admin/faults/${target}`).set(t.as('admin')).send(spec).expect(200);
}

async function faultCalls(t: TestApp): Promise<number> {
  const res = await t.http.get('/api/v1/admin/faults').set(t.as('admin')).expect(200);
  return (res.body as { target: string; calls: number }[]).find((f) => f.target === 'store')?.calls ?? 0;
}

async function breakerStates(t: TestApp): Promise<Record<string, string>> {
  const res = await t.http.get('/api/v1/admin/resilience').set(t.as('admin')).expect(200);
  return Object.fromEntries(
    (res.body.breakers as { name: string; state: string }[]).map((b) => [b.name, b.state]),
  );
}

async function resetAll(t: TestApp) {
  await t.http.delete('/api/v1/admin/faults/store').set(t.as('admin')).expect(204);
  for (const name of ['store', 'documents', 'schemas', 'branches']) {
    await t.http.post(`/api/v1/admin/resilience/breakers/${name}/reset`).set(t.as('admin')).expect(200);
  }
}

let unique = 0;
// A fresh id each time: a cached answer (even a cached 404) would never reach the store.
const getDoc = (t: TestApp, id = `nobody-${++unique}`) =>
  t.http.get(`/api/v1/documents/crud/${id}`).set(t.as('viewer'));

describe.each(storeTargets())('recovery after a probe on $name', (target: StoreTarget) => {
  let t: TestApp;
  beforeAll(async () => {
    // HALF_OPEN_AFTER a minute: only the probe can make the breakers try again within this test.
    t = await startTestApp(target, { ...BREAKERS, CIRCUIT_BREAKER_HALF_OPEN_AFTER_SECONDS: '60' });
    for (const role of ['admin', 'viewer'] as const)
      await t.http.get('/api/v1/auth/me').set(t.as(role)).expect(200);
  });
  afterAll(() => t?.close());

  it('lets every breaker that opened on store failures try again as soon as a readiness probe reaches the store', async () => {
    await inject(t, 'store', { errorRate: 1, latencyMs: 0 });
    for (let i = 0; i < 3; i++) await getDoc(t).expect(503);
    await t.http.delete('/api/v1/admin/faults/store').set(t.as('admin')).expect(204);
    await getDoc(t).expect(503);
    expect(await breakerStates(t)).toMatchObject({ store: 'open', documents: 'open' });
    await t.http.get('/health/ready').expect(200);
    expect(await breakerStates(t)).toMatchObject({ store: 'half-open', documents: 'half-open' });
    await getDoc(t).expect(404); // the trial reaches the store and succeeds (a 404 is an answer)
    expect(await breakerStates(t)).toMatchObject({ store: 'closed', documents: 'closed' });
  });
});

describe.each(storeTargets())('circuit breakers on $name', (target: StoreTarget) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(target, BREAKERS);
    for (const role of ['admin', 'editor', 'viewer'] as const)
      await t.http.get('/api/v1/auth/me').set(t.as(role)).expect(200);
  });
  afterAll(() => t?.close());
  afterEach(() => resetAll(t));

  it('opens the store and documents breakers on store failures, then answers 503 + Retry-After without touching the store', async () => {
    await inject(t, 'store', { errorRate: 1, latencyMs: 0 });
    for (let i = 0; i < 3; i++) {
      const res = await getDoc(t).expect(503);
      expect(res.body).toMatchObject({ status: 503, detail: 'The store failed; nothing was changed.' });
    }
    const callsWhenOpened = await faultCalls(t);
    expect(callsWhenOpened).toBe(3);

    const refused = await getDoc(t).expect(503);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.body.breaker).toBe('documents');
    expect(await faultCalls(t)).toBe(callsWhenOpened);
    expect(await breakerStates(t)).toMatchObject({ store: 'open', documents: 'open', schemas: 'closed' });

    // Another controller group still reaches the store, whose own breaker refuses at once.
    const schemas = await t.http.get('/api/v1/schemas/main/object-types').set(t.as('viewer')).expect(503);
    expect(schemas.body.breaker).toBe('store');
    expect(await faultCalls(t)).toBe(callsWhenOpened);

    const text = await scrape(t.metrics);
    expect(seriesValue(text, 'circuit_breaker_state', { breaker: 'store' })).toBe(1);
    expect(
      seriesValue(text, 'circuit_breaker_transitions_total', { breaker: 'documents', to: 'open' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      seriesValue(text, 'circuit_breaker_rejections_total', { breaker: 'documents' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('recovers through half-open once the store is back, and the first successful trial closes it', async () => {
    await inject(t, 'store', { errorRate: 1, latencyMs: 0 });
    for (let i = 0; i < 3; i++) await getDoc(t).expect(503);
    await t.http.delete('/api/v1/admin/faults/store').set(t.as('admin')).expect(204);
    await getDoc(t).expect(503); // still open
    await sleep(HALF_OPEN_WAIT_MS);
    await getDoc(t).expect(404); // the trial reaches the store and succeeds (a 404 is an answer)
    expect(await breakerStates(t)).toMatchObject({ store: 'closed', documents: 'closed' });
    const text = await scrape(t.metrics);
    expect(
      seriesValue(text, 'circuit_breaker_transitions_total', { breaker: 'store', to: 'half-open' }),
    ).toBeGreaterThanOrEqual(1);
    expect(seriesValue(text, 'circuit_breaker_state', { breaker: 'documents' })).toBe(0);
  });

  it("never counts another breaker's rejection: the store breaker open leaves the branches group closed", async () => {
    await inject(t, 'store', { errorRate: 1, latencyMs: 0 });
    for (let i = 0; i < 3; i++) await getDoc(t).expect(503);
    expect((await breakerStates(t)).store).toBe('open');
    for (let i = 0; i < 6; i++) {
      const res = await t.http.get('/api/v1/branches').set(t.as('viewer')).expect(503);
      expect(res.body.breaker).toBe('store');
    }
    expect((await breakerStates(t)).branches).toBe('closed');
  });

  it('never counts 4xx answers', async () => {
    for (let i = 0; i < 10; i++) await getDoc(t, `missing-${i}`).expect(404);
    for (let i = 0; i < 5; i++) {
      await t.http
        .post('/api/v1/documents/crud')
        .set(t.as('editor'))
        .send({ objectType: 'Nope', properties: {} })
        .expect(400);
    }
    expect(await breakerStates(t)).toMatchObject({ store: 'closed', documents: 'closed' });
  });

  it('counts store timeouts as failures', async () => {
    await inject(t, 'store', { errorRate: 0, latencyMs: 800 });
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      const res = await getDoc(t).expect(503);
      expect(res.body.detail).toBe('The store did not answer within 300 ms; nothing was changed.');
      expect(Date.now() - started).toBeLessThan(700);
    }
    expect(await breakerStates(t)).toMatchObject({ store: 'open', documents: 'open' });
  });

  it('admits at most the configured trial calls while half-open', async () => {
    await inject(t, 'store', { errorRate: 1, latencyMs: 0 });
    for (let i = 0; i < 3; i++) await getDoc(t).expect(503);
    await inject(t, 'store', { errorRate: 0, latencyMs: 200 });
    await sleep(HALF_OPEN_WAIT_MS);
    const before = await faultCalls(t); // a new fault starts counting at 0
    const results = await Promise.all(Array.from({ length: 5 }, () => getDoc(t)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([404, 503, 503, 503, 503]);
    for (const r of results.filter((r) => r.status === 503)) expect(r.headers['retry-after']).toBeDefined();
    expect((await faultCalls(t)) - before).toBe(1);
    expect(await breakerStates(t)).toMatchObject({ documents: 'closed', store: 'closed' });
  });

  it('logs every transition at warn with the breaker name', async () => {
    const warn = jest.spyOn(ConsoleLogger.prototype, 'warn');
    try {
      await inject(t, 'store', { errorRate: 1, latencyMs: 0 });
      for (let i = 0; i < 3; i++) await getDoc(t).expect(503);
      const transitions = warn.mock.calls
        .map(([entry]) => entry as { message?: string; breaker?: string; to?: string })
        .filter((e) => e?.message === 'circuit breaker transition');
      expect(transitions).toEqual(
        expect.arrayContaining([
          { message: 'circuit breaker transition', breaker: 'store', to: 'open' },
          { message: 'circuit breaker transition', breaker: 'documents', to: 'open' },
        ]),
      );
    } finally {
      warn.mockRestore();
    }
  });

  it('resets a breaker on an admin request, and 404s an unknown one', async () => {
    await inject(t, 'store', { errorRate: 1, latencyMs: 0 });
    for (let i = 0; i < 3; i++) await getDoc(t).expect(503);
    await t.http.delete('/api/v1/admin/faults/store').set(t.as('admin')).expect(204);
    for (const name of ['documents', 'store']) {
      const res = await t.http
        .post(`/api/v1/admin/resilience/breakers/${name}/reset`)
        .set(t.as('admin'))
        .expect(200);
      expect(res.body).toEqual({ name, state: 'closed', retryAfterSeconds: null });
    }
    await getDoc(t).expect(404);
    await t.http.post('/api/v1/admin/resilience/breakers/disk/reset').set(t.as('admin')).expect(404);
    await t.http.post('/api/v1/admin/resilience/breakers/store/reset').set(t.as('editor')).expect(403);
  });

  it('keeps admin routes and token checks working while the store fails', async () => {
    await inject(t, 'store', { errorRate: 1, latencyMs: 0 });
    await t.http.get('/api/v1/admin/resilience').set(t.as('admin')).expect(200);
    await t.http.get('/api/v1/admin/faults').set(t.as('admin')).expect(200);
    await t.http.get('/api/v1/auth/me').set(t.as('viewer')).expect(200);
    expect(await faultCalls(t)).toBe(0);
  });
});

describe('fault injection routes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(first(storeTargets(), 'store target'));
  });
  afterAll(() => t?.close());

  it('are admin only', async () => {
    await t.http.get('/api/v1/admin/faults').set(t.as('editor')).expect(403);
    await t.http
      .put('/api/v1/admin/faults/store')
      .set(t.as('editor'))
      .send({ errorRate: 0, latencyMs: 0 })
      .expect(403);
    await t.http.get('/api/v1/admin/faults').expect(401);
  });

  it('validate the fault and the target', async () => {
    const res = await t.http
      .put('/api/v1/admin/faults/store')
      .set(t.as('admin'))
      .send({ errorRate: 1.5, latencyMs: -1, durationSeconds: 0 })
      .expect(400);
    expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      '/body/durationSeconds',
      '/body/errorRate',
      '/body/latencyMs',
    ]);
    await t.http
      .put('/api/v1/admin/faults/disk')
      .set(t.as('admin'))
      .send({ errorRate: 0, latencyMs: 0 })
      .expect(404);
  });

  it('list what is active, with its end, and remove it', async () => {
    const set = await t.http
      .put('/api/v1/admin/faults/redis')
      .set(t.as('admin'))
      .send({ errorRate: 0.25, latencyMs: 10, durationSeconds: 60 })
      .expect(200);
    expect(Date.parse(set.body.until) - Date.parse(set.body.since)).toBe(60_000);
    const listed = await t.http.get('/api/v1/admin/faults').set(t.as('admin')).expect(200);
    expect(listed.body).toEqual([
      expect.objectContaining({ target: 'redis', errorRate: 0.25, latencyMs: 10 }),
    ]);
    await t.http.delete('/api/v1/admin/faults/redis').set(t.as('admin')).expect(204);
    expect((await t.http.get('/api/v1/admin/faults').set(t.as('admin')).expect(200)).body).toEqual([]);
  });

  it('are 404 when fault injection is disabled', async () => {
    const off = await startTestApp(first(storeTargets(), 'store target'), {
      FAULT_INJECTION_ENABLED: 'false',
    });
    try {
      await off.http.get('/api/v1/admin/faults').set(off.as('admin')).expect(404);
      await off.http
        .put('/api/v1/admin/faults/store')
        .set(off.as('admin'))
        .send({ errorRate: 1, latencyMs: 0 })
        .expect(404);
      await off.http.get('/api/v1/admin/resilience').set(off.as('admin')).expect(200);
    } finally {
      await off.close();
    }
  });
});

describe.each(storeTargets())('the bulkhead on $name', (target: StoreTarget) => {
  let t: TestApp;
  const timedPost = async (i: number) => {
    const started = performance.now();
    const res = await t.http
      .post('/api/v1/documents/crud')
      .set(t.as('editor'))
      .send({ objectType: 'Load', id: `load-${i}-${Math.random()}`, properties: {} });
    return {
      status: res.status,
      ms: performance.now() - started,
      retryAfter: res.headers['retry-after'],
      body: res.body,
    };
  };

  beforeAll(async () => {
    t = await startTestApp(target, {
      BACKPRESSURE_MAX_CONCURRENT: '2',
      BACKPRESSURE_MAX_QUEUE: '2',
      BACKPRESSURE_QUEUE_TIMEOUT_MS: '2000',
    });
    await given(t).type('Load');
  });
  afterAll(() => t?.close());
  afterEach(() => t.http.delete('/api/v1/admin/faults/store').set(t.as('admin')).expect(204));

  it('serves what it admits and sheds the rest at once with 503 + Retry-After, while health, docs and metrics answer', async () => {
    const shedRoute = { method: 'POST', route: '/api/v1/documents/crud', status_code: '503' };
    const beforeText = await scrape(t.metrics);
    const before = seriesValue(beforeText, 'backpressure_rejected_total', { reason: 'queue_full' })!;
    const fastBefore =
      seriesValue(beforeText, 'http_request_duration_seconds_bucket', { ...shedRoute, le: '0.05' }) ?? 0;
    await inject(t, 'store', { errorRate: 0, latencyMs: 400 });
    const writes = Promise.all(Array.from({ length: 30 }, (_, i) => timedPost(i)));
    await sleep(100); // the writes are in flight
    const probes = await Promise.all([
      t.http.get('/health/live'),
      t.http.get('/docs-json'),
      t.metrics.get('/metrics'),
    ]);
    expect(probes.map((p) => p.status)).toEqual([200, 200, 200]);
    const results = await writes;

    const accepted = results.filter((r) => r.status === 201);
    const shed = results.filter((r) => r.status === 503);
    expect(accepted).toHaveLength(4); // 2 running + 2 queued
    expect(shed).toHaveLength(26);
    for (const r of shed) {
      // Seen from this (same-process, busy) client: they never waited for the 400 ms store.
      expect(r.ms).toBeLessThan(400);
      expect(r.retryAfter).toBe('1');
      expect(r.body).toMatchObject({ status: 503, reason: 'queue_full' });
    }
    const text = await scrape(t.metrics);
    expect(seriesValue(text, 'backpressure_rejected_total', { reason: 'queue_full' })! - before).toBe(26);
    // Seen from the server, arrival to answer: every shed request took under 50 ms.
    const fast =
      seriesValue(text, 'http_request_duration_seconds_bucket', { ...shedRoute, le: '0.05' })! - fastBefore;
    expect(fast).toBe(26);
    // Shed requests are not failures of the dependency.
    expect(await breakerStates(t)).toMatchObject({ documents: 'closed', store: 'closed' });
  });

  it('sheds a request that waits longer than the queue timeout', async () => {
    const quick = await startTestApp(target, {
      BACKPRESSURE_MAX_CONCURRENT: '1',
      BACKPRESSURE_MAX_QUEUE: '5',
      BACKPRESSURE_QUEUE_TIMEOUT_MS: '100',
    });
    try {
      await given(quick).type('Slow');
      await quick.http
        .put('/api/v1/admin/faults/store')
        .set(quick.as('admin'))
        .send({ errorRate: 0, latencyMs: 400 })
        .expect(200);
      const post = async () => {
        const started = performance.now();
        const res = await quick.http
          .post('/api/v1/documents/crud')
          .set(quick.as('editor'))
          .send({ objectType: 'Slow', properties: {} });
        return { status: res.status, ms: performance.now() - started, reason: res.body.reason };
      };
      const results = await Promise.all([post(), post()]);
      const timedOut = results.find((r) => r.status === 503)!;
      expect(results.map((r) => r.status).sort()).toEqual([201, 503]);
      expect(timedOut.reason).toBe('queue_timeout');
      expect(timedOut.ms).toBeGreaterThanOrEqual(90);
      expect(timedOut.ms).toBeLessThan(400);
      expect(
        seriesValue(await scrape(quick.metrics), 'backpressure_rejected_total', { reason: 'queue_timeout' }),
      ).toBeGreaterThanOrEqual(1);
    } finally {
      await quick.close();
    }
  });
});

describe.each(storeTargets())('revalidation and metrics on $name', (target: StoreTarget) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(target);
    await given(t).type('Thing', [{ name: 'label', dataType: 'string' }]);
    await given(t).document('Thing', { label: 'x' }, 'thing-1');
  });
  afterAll(() => t?.close());

  it('answers a revalidation on a memory hit with 304, touching neither Redis nor the store', async () => {
    const first = await getDoc(t, 'thing-1').expect(200); // fills the cache
    const etag = defined(first.headers.etag, 'an ETag');
    const before = await scrape(t.metrics);
    await getDoc(t, 'thing-1').set('If-None-Match', etag).expect(304);
    const after = await scrape(t.metrics);
    const delta = (name: string, labels: Record<string, string>) =>
      seriesValue(after, name, labels)! - seriesValue(before, name, labels)!;
    expect(delta('store_reads_total', { operation: 'entity' })).toBe(0);
    expect(delta('store_reads_total', { operation: 'version' })).toBe(0);
    expect(delta('cache_requests_total', { tier: 'memory', result: 'hit' })).toBe(1);
    expect(delta('cache_requests_total', { tier: 'redis', result: 'hit' }) || 0).toBe(0);
    expect(delta('cache_requests_total', { tier: 'redis', result: 'miss' }) || 0).toBe(0);
    expect(delta('etag_cache_hits_total', { resource: 'document' })).toBe(1);
  });

  it('answers a revalidation without a memory tier from the version alone, or from Redis once it is filled', async () => {
    const cold = await startTestApp(target, { MEMORY_CACHE_TTL_SECONDS: '0' });
    try {
      await given(cold).type('Thing', [{ name: 'label', dataType: 'string' }]);
      const created = await given(cold).document('Thing', { label: 'x' }, 'thing-2');
      const etag = `"${created.version as number}"`;
      const before = await scrape(cold.metrics);
      await getDoc(cold, 'thing-2').set('If-None-Match', etag).expect(304);
      let after = await scrape(cold.metrics);
      const delta = (name: string, labels: Record<string, string>) =>
        seriesValue(after, name, labels)! - seriesValue(before, name, labels)!;
      if (target.redisUrl) {
        // Read through Redis like a GET (one full read, which fills it); the next revalidation is a Redis hit.
        expect(delta('store_reads_total', { operation: 'entity' })).toBe(1);
        expect(delta('store_reads_total', { operation: 'version' })).toBe(0);
        await getDoc(cold, 'thing-2').set('If-None-Match', etag).expect(304);
        const again = await scrape(cold.metrics);
        const since = (name: string, labels: Record<string, string>) =>
          (seriesValue(again, name, labels) ?? 0) - (seriesValue(after, name, labels) ?? 0);
        expect(since('store_reads_total', { operation: 'entity' })).toBe(0);
        expect(since('cache_requests_total', { tier: 'redis', result: 'hit' })).toBe(1);
        after = again;
      } else {
        // No tier keeps anything: the version alone is read, never the document.
        expect(delta('store_reads_total', { operation: 'entity' })).toBe(0);
        expect(delta('store_reads_total', { operation: 'version' })).toBe(1);
      }

      // A full GET, by contrast, reads the entity (from Redis, where the revalidations left it).
      await getDoc(cold, 'thing-2').set('If-None-Match', '"0"').expect(200);
      const full = await scrape(cold.metrics);
      expect(
        seriesValue(full, 'store_reads_total', { operation: 'entity' })! -
          seriesValue(after, 'store_reads_total', { operation: 'entity' })!,
      ).toBe(target.redisUrl ? 0 : 1);
      expect(
        seriesValue(full, 'etag_cache_misses_total', { resource: 'document' })! -
          seriesValue(after, 'etag_cache_misses_total', { resource: 'document' })!,
      ).toBe(1);

      // A GET without If-None-Match needs no tag: no version is read for it, only what the handler reads.
      await getDoc(cold, 'thing-2').expect(200);
      const plain = await scrape(cold.metrics);
      const sincePlain = (operation: string) =>
        seriesValue(plain, 'store_reads_total', { operation })! -
        seriesValue(full, 'store_reads_total', { operation })!;
      expect(sincePlain('version')).toBe(0);
      expect(sincePlain('entity')).toBe(target.redisUrl ? 0 : 1);
    } finally {
      await cold.close();
    }
  });

  it('labels the request histogram by route template, never by raw path', async () => {
    await getDoc(t, 'raw-path-id-123').expect(404);
    const text = await scrape(t.metrics);
    expect(
      seriesValue(text, 'http_request_duration_seconds_count', {
        method: 'GET',
        route: '/api/v1/documents/crud/:id',
        status_code: '404',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain('raw-path-id-123');
  });

  it('exports every metric of the contract, and the default process metrics', async () => {
    const text = await scrape(t.metrics);
    for (const name of [
      ...CONTRACT_METRICS,
      'process_cpu_user_seconds_total',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect([name, text.includes(`# TYPE ${name} `)]).toEqual([name, true]);
    }
    for (const breaker of ['schemas', 'documents', 'branches', 'store', 'redis']) {
      expect(seriesValue(text, 'circuit_breaker_state', { breaker })).toBe(0);
    }
    expect(seriesValue(text, 'store_up')).toBe(1);
  });

  it('serves metrics only on the metrics port', async () => {
    await t.http.get('/metrics').expect(404);
    const res = await t.metrics.get('/metrics').expect(200);
    expect(res.headers['content-type']).toContain('text/plain');
  });
});

describe('REQUIRE_IF_MATCH and resources without versions', () => {
  it('still lets branches be deleted without If-Match (they carry no ETag)', async () => {
    const t = await startTestApp(first(storeTargets(), 'store target'), { REQUIRE_IF_MATCH: 'true' });
    try {
      await given(t).branch('no-etag');
      const res = await t.http.get('/api/v1/branches/no-etag').set(t.as('viewer')).expect(200);
      expect(res.headers.etag).toBeUndefined();
      await t.http.delete('/api/v1/branches/no-etag').set(t.as('editor')).expect(204);
      await given(t).type('Gated');
      await t.http.delete('/api/v1/schemas/main/object-types/Gated').set(t.as('editor')).expect(428);
    } finally {
      await t.close();
    }
  });
});
