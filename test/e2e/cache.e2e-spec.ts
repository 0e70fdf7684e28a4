import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { ReadThroughCache } from '@oms/caching';
import { StoreLocation } from '@oms/store';
import { TestApp, bootTestApp } from '../support/app';
import { given } from '../support/given';
import { defined } from '../support/one';
import { scrape, seriesValue } from '../support/metrics';
import { freshPostgresDatabase } from '../support/postgres';
import { OwnRedis } from '../support/redis-server';
import { storeTargets } from '../support/store-targets';

// Two instances of one deployment need a shared store and Redis: PostgreSQL and REDIS_URL. jest.config.ts
// leaves this file out locally without them; in CI their absence fails here.
const realServices = storeTargets().find((t) => t.name === 'postgres' && t.redisUrl);
if (!realServices) throw new Error('the cache suite needs DATABASE_URL and REDIS_URL');

const delta = (after: string, before: string, name: string, labels: Record<string, string>) =>
  (seriesValue(after, name, labels) ?? 0) - (seriesValue(before, name, labels) ?? 0);

/** Two app instances on one fresh database and one Redis key space. */
async function twoInstances(env: Record<string, string> = {}, redisUrl = realServices!.redisUrl!) {
  const { databaseUrl, cleanup } = await freshPostgresDatabase();
  const location: StoreLocation = { databaseUrl, dataDir: 'unused' };
  const shared = { REDIS_URL: redisUrl, REDIS_CACHE_PREFIX: `oms-test-${randomUUID()}:`, ...env };
  const a = await bootTestApp(location, shared);
  const b = await bootTestApp(location, shared);
  return {
    a,
    b,
    close: async () => {
      await Promise.all([a.close(), b.close()]);
      await cleanup();
    },
  };
}

const read = (t: TestApp, id: string, branch = 'main') =>
  t.http.get(`/api/v1/documents/crud/${id}?branch=${branch}`).set(t.as('viewer'));
const write = (t: TestApp, id: string, properties: Record<string, unknown>, branch = 'main') =>
  t.http
    .put(`/api/v1/documents/crud/${id}?branch=${branch}`)
    .set(t.as('editor'))
    .send({ objectType: 'Note', properties })
    .expect(200);

describe('the cache across two instances on PostgreSQL and Redis', () => {
  let a: TestApp;
  let b: TestApp;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ a, b, close } = await twoInstances());
    await given(a).type('Note', [{ name: 'text', dataType: 'string' }]);
    await given(a).document('Note', { text: 'v0' }, 'n1');
  });
  afterAll(() => close?.());

  it('shows a write on A in the very next read on B, every time', async () => {
    for (let i = 1; i <= 20; i++) {
      expect((await read(b, 'n1').expect(200)).body.properties.text).toBe(`v${i - 1}`); // B caches it
      await write(a, 'n1', { text: `v${i}` });
      expect((await read(b, 'n1').expect(200)).body.properties.text).toBe(`v${i}`);
    }
  });

  it('serves a 304 on B after a write on A only for the new version', async () => {
    const before = await read(b, 'n1').expect(200);
    await write(a, 'n1', { text: 'after-etag' });
    await read(b, 'n1').set('If-None-Match', defined(before.headers.etag, 'an ETag')).expect(200);
    const now = await read(b, 'n1').expect(200);
    await read(b, 'n1').set('If-None-Match', defined(now.headers.etag, 'an ETag')).expect(304);
  });

  it('sees an object type change on A in the next list on B', async () => {
    const listed = await b.http.get('/api/v1/schemas/main/object-types').set(b.as('viewer')).expect(200);
    await given(a).type('Extra');
    const again = await b.http.get('/api/v1/schemas/main/object-types').set(b.as('viewer')).expect(200);
    expect(again.headers.etag).not.toBe(listed.headers.etag);
    expect(again.body.items.map((t: { name: string }) => t.name)).toContain('Extra');
  });

  it('forgets a deleted and re-created branch on every instance', async () => {
    await given(a).branch('reborn');
    await write(a, 'n1', { text: 'on-old-reborn' }, 'reborn');
    expect((await read(b, 'n1', 'reborn').expect(200)).body.properties.text).toBe('on-old-reborn');
    await a.http.delete('/api/v1/branches/reborn').set(a.as('editor')).expect(204);
    await given(a).branch('reborn');
    expect((await read(b, 'n1', 'reborn').expect(200)).body.properties.text).not.toBe('on-old-reborn');
  });

  it('serves from Redis exactly what was written: strings that look like dates or markers stay strings', async () => {
    const odd = {
      text: '2024-01-01T00:00:00Z _bigint_42',
    };
    const tricky = [
      '2024-01-01T00:00:00Z',
      '_bigint_42',
      '_undefined_',
      '_NaN_',
      '_duplicate_x',
      '_function_f',
    ];
    const written = [];
    for (const [i, text] of tricky.entries()) {
      written.push((await given(a).document('Note', { text }, `odd-${i}`)).createdAt as string);
    }
    await given(a).document('Note', odd, 'odd-mixed');
    for (const [i, text] of tricky.entries()) {
      const fromA = await read(a, `odd-${i}`).expect(200); // fills memory on A and Redis
      const fromB = await read(b, `odd-${i}`).expect(200); // B's memory is cold: Redis
      for (const res of [fromA, fromB]) {
        expect(res.body.properties).toEqual({ text });
        expect(res.body.createdAt).toBe(written[i]);
      }
    }
    expect((await read(b, 'odd-mixed').expect(200)).body.properties).toEqual(odd);
  });

  it('makes 1,000 concurrent misses on one key cost one store read on A, and none on B (Redis has it)', async () => {
    await given(a).document('Note', { text: 'hot' }, 'hot');
    await a.http.get('/api/v1/auth/me').set(a.as('viewer')).expect(200);
    const before = await scrape(a.metrics); // one registry per process: A and B share it here
    const onA = await Promise.all(Array.from({ length: 1000 }, () => read(a, 'hot')));
    expect(onA.every((r) => r.status === 200)).toBe(true);
    const afterA = await scrape(a.metrics);
    expect(delta(afterA, before, 'store_reads_total', { operation: 'entity' })).toBe(1);

    const onB = await Promise.all(Array.from({ length: 1000 }, () => read(b, 'hot')));
    expect(onB.every((r) => r.status === 200 && r.body.properties.text === 'hot')).toBe(true);
    const afterB = await scrape(b.metrics);
    expect(delta(afterB, afterA, 'store_reads_total', { operation: 'entity' })).toBe(0);
    expect(delta(afterB, afterA, 'cache_requests_total', { tier: 'redis', result: 'hit' })).toBe(1);
    expect(delta(afterB, before, 'cache_invalidations_total', { source: 'remote' })).toBeGreaterThanOrEqual(
      0,
    );
  });

  it('counts invalidations from this instance and from others', async () => {
    const before = await scrape(a.metrics);
    await write(a, 'n1', { text: 'counted' });
    const after = await scrape(a.metrics);
    expect(delta(after, before, 'cache_invalidations_total', { source: 'local' })).toBe(1);
    expect(delta(after, before, 'cache_invalidations_total', { source: 'remote' })).toBe(1); // B applied it
  });
});

describe('staleness bounds', () => {
  it('bounds a lost invalidation message by the memory TTL', async () => {
    const { a, b, close } = await twoInstances({ MEMORY_CACHE_TTL_SECONDS: '1' });
    try {
      await given(a).type('Note', [{ name: 'text', dataType: 'string' }]);
      await given(a).document('Note', { text: 'old' }, 'n1');
      expect((await read(b, 'n1').expect(200)).body.properties.text).toBe('old'); // in B's memory now
      // Lose the next message on B: its subscription to invalidations goes away, unnoticed.
      const cacheOfB = b.app.get(ReadThroughCache);
      const busOfB = (cacheOfB as unknown as { tiers: { bus: { subscriber: Redis } } }).tiers.bus;
      await busOfB.subscriber.unsubscribe(`${cacheOfB.keys.invalidationChannel}`);
      await write(a, 'n1', { text: 'new' });
      const started = Date.now();
      expect((await read(b, 'n1').expect(200)).body.properties.text).toBe('old'); // stale, within the bound
      await sleep(Math.max(0, 1100 - (Date.now() - started)));
      expect((await read(b, 'n1').expect(200)).body.properties.text).toBe('new'); // the memory TTL ended it
    } finally {
      await close();
    }
  });

  it('expires each tier on its own TTL', async () => {
    const { a, close } = await twoInstances({
      MEMORY_CACHE_TTL_SECONDS: '0.5',
      REDIS_CACHE_TTL_SECONDS: '2',
    });
    try {
      await given(a).type('Note', [{ name: 'text', dataType: 'string' }]);
      await given(a).document('Note', { text: 't' }, 'ttl');
      const served = async () => {
        const before = await scrape(a.metrics);
        await read(a, 'ttl').expect(200);
        const after = await scrape(a.metrics);
        return {
          memory: delta(after, before, 'cache_requests_total', { tier: 'memory', result: 'hit' }),
          redis: delta(after, before, 'cache_requests_total', { tier: 'redis', result: 'hit' }),
          store: delta(after, before, 'store_reads_total', { operation: 'entity' }),
        };
      };
      expect(await served()).toEqual({ memory: 0, redis: 0, store: 1 }); // cold: both tiers filled
      expect(await served()).toEqual({ memory: 1, redis: 0, store: 0 });
      await sleep(700); // memory expired, Redis not
      expect(await served()).toEqual({ memory: 0, redis: 1, store: 0 });
      await sleep(2100); // both expired (the Redis hit above refilled memory, not Redis)
      expect(await served()).toEqual({ memory: 0, redis: 0, store: 1 });
    } finally {
      await close();
    }
  });
});

describe('a Redis outage', () => {
  it('keeps reads and writes succeeding, stops waiting on Redis once the breaker opens, and uses it again when back', async () => {
    const redis = await OwnRedis.start();
    const { a, close } = await twoInstances(
      {
        CIRCUIT_BREAKER_FAILURE_THRESHOLD: '3',
        CIRCUIT_BREAKER_HALF_OPEN_AFTER_SECONDS: '0.5',
        REDIS_TIMEOUT_MS: '200',
      },
      redis.url,
    );
    try {
      await given(a).type('Note', [{ name: 'text', dataType: 'string' }]);
      for (let i = 0; i < 5; i++) await given(a).document('Note', { text: `d${i}` }, `d${i}`);
      await read(a, 'd0').expect(200);

      await redis.kill();
      const timings: number[] = [];
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        expect((await read(a, `d${i}`)).status).toBe(200); // served from memory or the store
        await write(a, `d${i}`, { text: `while-down-${i}` });
        timings.push(performance.now() - started);
      }
      const states = await a.http.get('/api/v1/admin/resilience').set(a.as('admin')).expect(200);
      expect(states.body.breakers).toContainEqual({
        name: 'redis',
        state: 'open',
        retryAfterSeconds: expect.any(Number),
      });
      // Once open, nothing waits on Redis: a read and a write take far less than REDIS_TIMEOUT_MS.
      const started = performance.now();
      expect((await read(a, 'd4')).body.properties.text).toBe('while-down-4');
      expect(performance.now() - started).toBeLessThan(150);

      await redis.up();
      await sleep(700);
      const before = await scrape(a.metrics);
      await read(a, 'fresh-after-outage').expect(404); // the trial call goes to Redis and succeeds
      await read(a, 'd3').expect(200);
      const after = await scrape(a.metrics);
      expect(
        delta(after, before, 'cache_requests_total', { tier: 'redis', result: 'miss' }) +
          delta(after, before, 'cache_requests_total', { tier: 'redis', result: 'hit' }),
      ).toBeGreaterThanOrEqual(1);
      const recovered = await a.http.get('/api/v1/admin/resilience').set(a.as('admin')).expect(200);
      expect(recovered.body.breakers).toContainEqual({
        name: 'redis',
        state: 'closed',
        retryAfterSeconds: null,
      });
    } finally {
      await close();
      await redis.kill();
    }
  });
});
