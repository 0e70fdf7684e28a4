import { NotFound, Unavailable } from '@oms/common';
import { loadConfig } from '@oms/config';
import { BreakerRegistry, DependencyGuards, FaultInjector, NO_EVENTS } from '@oms/resilience';
import type { Redis } from 'ioredis';
import { NO_CACHE_EVENTS } from './cache-events';
import { CacheKeys } from './cache-keys';
import { MemoryTier } from './memory-tier';
import { CacheTiers, ReadThroughCache } from './read-through-cache';
import { RedisTier } from './redis-tier';

/** The few string commands the Redis tier's store sends (GET, SET … PX, DEL), on a Map. */
class InMemoryRedis {
  readonly data = new Map<string, string>();

  get(key: string): Promise<string | null> {
    return Promise.resolve(this.data.get(key) ?? null);
  }

  set(key: string, value: string): Promise<'OK'> {
    this.data.set(key, value);
    return Promise.resolve('OK');
  }

  del(...keys: (string | string[])[]): Promise<number> {
    return Promise.resolve(keys.flat().filter((key) => this.data.delete(key)).length);
  }
}

/** A load the test finishes when it wants: `started` once the cache called it. */
class Load<T> {
  calls = 0;
  private resolvers: ((value: T) => void)[] = [];
  private rejecters: ((error: Error) => void)[] = [];
  private waiting?: () => void;

  readonly fn = (): Promise<T> => {
    this.calls++;
    this.waiting?.();
    return new Promise<T>((resolve, reject) => {
      this.resolvers.push(resolve);
      this.rejecters.push(reject);
    });
  };

  /** Resolves once the cache has called the load `count` times in all. */
  started(count = 1): Promise<void> {
    if (this.calls >= count) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiting = () => {
        if (this.calls >= count) resolve();
      };
    });
  }

  finish(value: T): void {
    this.resolvers.shift()!(value);
    this.rejecters.shift();
  }

  fail(error: Error): void {
    this.resolvers.shift();
    this.rejecters.shift()!(error);
  }
}

const keys = new CacheKeys('oms:');
const KEY = keys.document('main', 'p-1');
const OTHER = keys.document('main', 'p-2');

function setup(options: { redis?: boolean; fillWindowMs?: number } = {}) {
  const redisData = new InMemoryRedis();
  const tiers: CacheTiers = {
    memory: new MemoryTier(100, 60_000),
    fillWindowMs: options.fillWindowMs ?? 60_000,
  };
  if (options.redis) {
    const config = loadConfig({ OMS_ENV: 'test' });
    const guards = new DependencyGuards(new BreakerRegistry(config, NO_EVENTS), new FaultInjector(), config);
    tiers.redis = new RedisTier(redisData as unknown as Redis, guards.get('redis'), NO_CACHE_EVENTS, 60_000);
  }
  const cache = new ReadThroughCache(keys, tiers, NO_CACHE_EVENTS);
  return { cache, tiers, redisData };
}

/** What the memory tier holds for a key (the cache keeps `{ v }` envelopes). */
const inMemory = async (tiers: CacheTiers, key: string) => (await tiers.memory!.get<{ v: unknown }>(key))?.v;

describe('ReadThroughCache staleness guard', () => {
  it('returns a load that an invalidation of its key overtook, but does not keep it', async () => {
    const { cache, tiers } = setup();
    const load = new Load<string>();
    const reading = cache.read(KEY, load.fn);
    await load.started();
    await cache.invalidate([KEY]); // a write committed while the store was being read
    load.finish('read before the write');
    expect(await reading).toBe('read before the write');
    expect(await inMemory(tiers, KEY)).toBeUndefined();

    const next = new Load<string>();
    const again = cache.read(KEY, next.fn);
    await next.started();
    next.finish('read after the write');
    expect(await again).toBe('read after the write');
    expect(await inMemory(tiers, KEY)).toBe('read after the write');
  });

  it('keeps a load that started after the invalidation, also while other loads are in flight', async () => {
    const { cache, tiers } = setup();
    const other = new Load<string>();
    const otherReading = cache.read(OTHER, other.fn); // keeps invalidation numbers recorded
    await other.started();
    await cache.invalidate([KEY]);
    const load = new Load<string>();
    const reading = cache.read(KEY, load.fn);
    await load.started();
    load.finish('read after the write');
    expect(await reading).toBe('read after the write');
    expect(await inMemory(tiers, KEY)).toBe('read after the write');
    other.finish('other');
    await otherReading;
  });

  it('keeps a load when only other keys were invalidated meanwhile', async () => {
    const { cache, tiers } = setup();
    const load = new Load<string>();
    const reading = cache.read(KEY, load.fn);
    await load.started();
    await cache.invalidate([OTHER]);
    load.finish('fresh');
    expect(await reading).toBe('fresh');
    expect(await inMemory(tiers, KEY)).toBe('fresh');
  });

  it.each([
    [
      'an invalidation from another instance',
      (c: ReadThroughCache) => c.applyInvalidation({ keys: [KEY] }, 'remote'),
    ],
    ['a purge of the branch', (c: ReadThroughCache) => c.purgeBranch('main')],
    [
      'a purge of the branch from another instance',
      (c: ReadThroughCache) => c.applyInvalidation({ branch: 'main' }, 'remote'),
    ],
    ['a gap in the invalidation bus (dropMemory)', (c: ReadThroughCache) => c.dropMemory()],
  ])('does not keep a load overtaken by %s', async (_, overtake) => {
    const { cache, tiers } = setup();
    const load = new Load<string>();
    const reading = cache.read(KEY, load.fn);
    await load.started();
    await overtake(cache);
    load.finish('stale');
    expect(await reading).toBe('stale');
    expect(await inMemory(tiers, KEY)).toBeUndefined();
  });

  it('treats a purge of any branch as overtaking every load in flight, as documented', async () => {
    const { cache, tiers } = setup();
    const load = new Load<string>();
    const reading = cache.read(KEY, load.fn);
    await load.started();
    await cache.purgeBranch('feature');
    load.finish('fresh');
    await reading;
    expect(await inMemory(tiers, KEY)).toBeUndefined();
  });

  it('shares one load among concurrent misses, unless an invalidation came in between', async () => {
    const { cache, tiers } = setup();
    const load = new Load<string>();
    const [first, second] = [cache.read(KEY, load.fn), cache.read(KEY, load.fn)];
    await load.started();
    await Promise.resolve();
    expect(load.calls).toBe(1);
    load.finish('shared');
    expect(await Promise.all([first, second])).toEqual(['shared', 'shared']);

    await cache.invalidate([KEY]);
    const early = cache.read(KEY, load.fn);
    await load.started(2);
    await cache.invalidate([KEY]);
    const late = cache.read(KEY, load.fn); // must not join the load the invalidation overtook
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(load.calls).toBe(3);
    load.finish('before the second write');
    load.finish('after the second write');
    expect(await early).toBe('before the second write');
    expect(await late).toBe('after the second write');
    expect(await inMemory(tiers, KEY)).toBe('after the second write');
  });

  it('deletes the Redis copy an overtaken load filled, and leaves the copy of one that was not', async () => {
    const { cache, redisData } = setup({ redis: true });
    const load = new Load<string>();
    const reading = cache.read(KEY, load.fn);
    await load.started();
    await cache.invalidate([KEY]);
    load.finish('stale');
    expect(await reading).toBe('stale');
    expect(redisData.data.has(KEY)).toBe(false);

    const fresh = new Load<string>();
    const again = cache.read(KEY, fresh.fn);
    await fresh.started();
    fresh.finish('fresh');
    await again;
    expect(redisData.data.has(KEY)).toBe(true);
  });

  it("on another instance's invalidation, deletes the Redis copies it filled within fillWindowMs only", async () => {
    const { cache, redisData } = setup({ redis: true, fillWindowMs: 100 });
    const load = new Load<string>();
    const reading = cache.read(KEY, load.fn);
    await load.started();
    load.finish('filled just now');
    await reading;
    expect(redisData.data.has(KEY)).toBe(true);
    await cache.applyInvalidation({ keys: [KEY] }, 'remote');
    expect(redisData.data.has(KEY)).toBe(false); // it may have read the store before the write

    redisData.data.set(OTHER, '{"v":"filled by another instance"}');
    const old = new Load<string>();
    const filling = cache.read(keys.user('alice'), old.fn);
    await old.started();
    old.finish('filled long ago');
    await filling;
    await new Promise((resolve) => setTimeout(resolve, 150));
    await cache.applyInvalidation({ keys: [OTHER, keys.user('alice')] }, 'remote');
    expect(redisData.data.has(OTHER)).toBe(true); // the writer's own instance deletes those
    expect(redisData.data.has(keys.user('alice'))).toBe(true);
  });

  // Known gap (reported, not fixed here): a branch purge heard from another instance deletes nothing in
  // Redis, not even what this instance filled within fillWindowMs, unlike a key invalidation.
  it.failing(
    "on another instance's branch purge, deletes the branch's Redis copies it filled within fillWindowMs",
    async () => {
      const { cache, redisData } = setup({ redis: true });
      const load = new Load<string>();
      const reading = cache.read(KEY, load.fn);
      await load.started();
      load.finish('read before the branch was deleted');
      await reading;
      await cache.applyInvalidation({ branch: 'main' }, 'remote');
      expect(redisData.data.has(KEY)).toBe(false);
    },
  );

  it('never answers with a stale-if-error value older than an invalidation it heard of', async () => {
    const { cache } = setup();
    const down = () => Promise.reject(new Unavailable('store down', 5));
    const load = new Load<string>();
    const first = cache.read(KEY, load.fn, { staleIfError: true, ttlMs: 1 });
    await load.started();
    load.finish('v1');
    await first;
    await new Promise((resolve) => setTimeout(resolve, 10)); // the memory entry is past its 1 ms
    expect(await cache.read(KEY, down, { staleIfError: true })).toBe('v1');

    await cache.invalidate([KEY]);
    await expect(cache.read(KEY, down, { staleIfError: true })).rejects.toBeInstanceOf(Unavailable);
  });
});

describe('ReadThroughCache.afterWrite', () => {
  const fill = async (cache: ReadThroughCache, key: string) =>
    cache.read(key, () => Promise.resolve('cached'));

  it('reads keys given as a function once the write has ended: what the write reached as it ran goes too', async () => {
    const { cache, tiers } = setup();
    await fill(cache, KEY);
    await fill(cache, OTHER);
    let reached: string[] = [];
    await cache.afterWrite(
      () => [KEY, ...reached],
      Promise.resolve().then(() => {
        reached = [OTHER]; // learnt during the write
      }),
    );
    expect(await inMemory(tiers, KEY)).toBeUndefined();
    expect(await inMemory(tiers, OTHER)).toBeUndefined();
  });

  it('drops them when the outcome is unknown, and keeps them when the write was refused', async () => {
    const { cache, tiers } = setup();
    await fill(cache, OTHER);
    const failed = cache.afterWrite(
      () => [OTHER],
      Promise.reject(new Unavailable('the store is unavailable', 1)),
    );
    await expect(failed).rejects.toBeInstanceOf(Unavailable);
    expect(await inMemory(tiers, OTHER)).toBeUndefined();

    await fill(cache, OTHER);
    const refused = cache.afterWrite(() => [OTHER], Promise.reject(new NotFound('Document', 'p-2')));
    await expect(refused).rejects.toBeInstanceOf(NotFound);
    expect(await inMemory(tiers, OTHER)).toBe('cached');
  });
});
