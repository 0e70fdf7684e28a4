import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CacheEvents,
  CacheKeys,
  CacheResult,
  CacheTierName,
  CacheTier,
  MemoryTier,
  RedisTier,
} from '@oms/caching';
import { OmsConfig, loadConfig } from '@oms/config';
import { BreakerRegistry, DependencyGuards, FaultInjector } from '@oms/resilience';
import { Redis } from 'ioredis';
import { IN_CI } from '../support/postgres';

/**
 * The contract both cache tiers share (libs/caching/src/cache-tier.ts), held against MemoryTier always and
 * against a RedisTier on the real Redis at REDIS_URL — always in CI, where a missing REDIS_URL fails the
 * file. Outside CI without REDIS_URL the Redis half is not declared (so it never shows as passed), and one
 * line on stderr says so (stderr, not a Node warning: Jest shows a worker's stderr, not its warnings).
 */
const redisUrl = process.env.REDIS_URL;
if (IN_CI && !redisUrl)
  throw new Error('CI=true but REDIS_URL is not set: the Redis cache tier cannot be tested');
if (!redisUrl)
  process.stderr.write(
    'REDIS_URL is not set: test/integration/cache-tier.int-spec.ts holds the memory tier only\n',
  );

/** One instance of a deployment, its tier built as caching.module.ts's buildTiers builds it. */
interface Instance {
  tier: CacheTier<boolean | void>;
  keys: CacheKeys;
  /** MemoryTier only: RedisTier has no clear (its store's would be FLUSHDB). */
  clear?: () => Promise<void>;
  close(): Promise<void>;
}

interface Subject {
  name: 'memory' | 'redis';
  /** What a write that took effect resolves to: RedisTier reports reaching Redis, MemoryTier nothing. */
  written: boolean | undefined;
  /** Whether the instances of one deployment (one REDIS_CACHE_PREFIX) see each other's entries. */
  shared: boolean;
  /** Deviations from the contract this tier is known for: such a case is declared `it.failing`. */
  knownViolations: ReadonlySet<string>;
  /** Reads so far that did not reach the tier (RedisTier counts each as an `error` lookup). */
  unreached(): number;
  /** An instance with this REDIS_CACHE_PREFIX and, when given, this cache lifetime in seconds. */
  open(prefix: string, ttlSeconds?: number): Promise<Instance>;
  /** Afterwards: removes whatever the file left under its prefixes (a raw SCAN, for the Redis tier). */
  cleanup(): Promise<void>;
}

/** The configuration of one instance, validated as the service validates its environment. */
function configFor(prefix: string, ttlSeconds?: number, url?: string): OmsConfig {
  const ttl = ttlSeconds?.toString();
  return loadConfig({
    OMS_ENV: 'test',
    REDIS_URL: url,
    REDIS_CACHE_PREFIX: prefix,
    ...(ttl ? { MEMORY_CACHE_TTL_SECONDS: ttl, REDIS_CACHE_TTL_SECONDS: ttl } : {}),
  });
}

class RecordedLookups implements CacheEvents {
  readonly results: `${CacheTierName}:${CacheResult}`[] = [];
  lookup(tier: CacheTierName, result: CacheResult): void {
    this.results.push(`${tier}:${result}`);
  }
  invalidated(): void {}
}

/** A glob (SCAN MATCH) pattern matching exactly the keys that start with `prefix`. */
const globPrefix = (prefix: string) => `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;

const memorySubject = (): Subject => ({
  name: 'memory',
  written: undefined,
  shared: false,
  knownViolations: new Set(),
  unreached: () => 0,
  open: (prefix, ttlSeconds) => {
    const { cache, redis } = configFor(prefix, ttlSeconds);
    // buildTiers: the memory tier is on when MEMORY_CACHE_TTL_SECONDS and MEMORY_CACHE_MAX_ENTRIES are > 0.
    if (!(cache.memoryTtlSeconds > 0 && cache.memoryMaxEntries > 0)) throw new Error('memory tier off');
    const tier = new MemoryTier(cache.memoryMaxEntries, cache.memoryTtlSeconds * 1000);
    return Promise.resolve({
      tier,
      keys: new CacheKeys(redis.keyPrefix),
      clear: () => tier.clear(),
      close: () => Promise.resolve(),
    });
  },
  cleanup: () => Promise.resolve(),
});

function redisSubject(url: string): Subject {
  const events = new RecordedLookups();
  const prefixes: string[] = [];
  const clients: Redis[] = [];
  return {
    name: 'redis',
    written: true,
    shared: true,
    knownViolations: new Set(),
    unreached: () => events.results.filter((r) => r === 'redis:error').length,
    open: async (prefix, ttlSeconds) => {
      const config = configFor(prefix, ttlSeconds, url);
      const { cache, redis } = config;
      prefixes.push(redis.keyPrefix);
      // buildTiers: a client that fails fast (caching.module.ts's redisOptions), under the `redis` breaker.
      const client = new Redis(redis.url!, {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout: redis.timeoutMs,
        connectTimeout: Math.max(1000, redis.timeoutMs * 4),
        retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
      });
      client.on('error', () => undefined);
      clients.push(client);
      await ready(client, url);
      const guards = new DependencyGuards(new BreakerRegistry(config, null), new FaultInjector(), config);
      const tier = new RedisTier(client, guards.get('redis'), events, cache.redisTtlSeconds * 1000);
      return {
        tier,
        keys: new CacheKeys(redis.keyPrefix),
        close: async () => {
          clients.splice(clients.indexOf(client), 1);
          await client.quit();
        },
      };
    },
    cleanup: async () => {
      const observer = new Redis(url, { maxRetriesPerRequest: 1 });
      try {
        for (const prefix of prefixes) {
          const keys = await scanAll(observer, prefix);
          if (keys.length > 0) await observer.del(...keys);
        }
      } finally {
        observer.disconnect();
        // Clients a failed open left behind (a disconnect after QUIT would start a reconnection).
        for (const client of clients) client.disconnect();
      }
    },
  };
}

/** The client is ready (the tier's client has no offline queue: a command before that fails). */
async function ready(client: Redis, url: string): Promise<void> {
  if (client.status === 'ready') return;
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis at ${url} did not answer within 5 s`)), 5000);
      client.once('ready', () => resolve());
    });
  } finally {
    clearTimeout(timer);
  }
}

/** Every key under a prefix, seen from outside the tier. */
async function scanAll(client: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', globPrefix(prefix), 'COUNT', 500);
    found.push(...keys);
    cursor = next;
  } while (cursor !== '0');
  return found.sort();
}

const subjects: Subject[] = [memorySubject(), ...(redisUrl ? [redisSubject(redisUrl)] : [])];

/** Values the service caches: documents, object types, the read-through envelope, scalars. */
const VALUES: [string, unknown][] = [
  ['a nested object', { a: { b: { c: [1, { d: 'e', f: [[], {}] }] } }, empty: {}, list: [], absent: null }],
  ['an array of mixed values', [1, 'two', true, false, null, { three: [3] }, [[4]]]],
  [
    'unicode strings',
    {
      latin: 'Ærøskøbing — café naïve',
      cjk: '漢字かなカナ한글',
      emoji: '👩🏽‍💻 🏳️‍🌈 \u{1F600}',
      rtl: 'שלום مرحبا',
      separators: 'a\u2028b\u2029c',
      escapes: 'tab\tquote"back\\slash\nnewline\r',
      combining: 'e\u0301',
    },
  ],
  [
    'numbers a double holds exactly',
    {
      tenth: 0.1,
      maxSafe: 2 ** 53 - 1,
      minSafe: -(2 ** 53 - 1),
      zero: 0,
      smallest: 5e-324,
      largest: 1.7976931348623157e308,
      negative: -1.5e-7,
    },
  ],
  ['0.1 on its own', 0.1],
  ['2^53-1 on its own', 2 ** 53 - 1],
  ['a string on its own', 'ünïcødé ✓'],
  ['false on its own', false],
  ['a cached absence (the read-through envelope of null)', { v: null }],
  ['nesting as deep as JSON_MAX_DEPTH (64) lets a body be', nest(64)],
];

/**
 * Strings a document may hold (any `string` or `datetime` value, any member of a `json` value) that the Redis
 * tier's serialiser (cache-manager-ioredis-yet → telejson) takes for markers of other types and decodes as
 * such: Dates, undefined, NaN, BigInts, RegExps, class instances — or a parse error.
 */
const RETYPED_STRINGS: [string, unknown][] = [
  [
    'a document as the documents service caches it (createdAt, updatedAt: RFC 3339 strings)',
    {
      v: {
        id: 'p-1',
        objectType: 'Person',
        properties: { name: 'Ada', tags: ['a', 'b'], born: '1815-12-10', meta: { x: [1.5, null] } },
        version: 3,
        createdAt: '2024-01-01T00:00:00.000Z',
        createdBy: 'alice',
        updatedAt: '2024-01-02T00:00:00.000Z',
        updatedBy: 'bob',
      },
    },
  ],
  ['a datetime value without milliseconds', { seen: '2024-01-01T00:00:00Z' }],
  ['"_undefined_"', { note: '_undefined_' }],
  ['"_date_…"', { note: '_date_2024-01-01T00:00:00.000Z' }],
  ['"_NaN_"', { note: '_NaN_' }],
  ['"_bigint_…"', { note: '_bigint_42' }],
  ['"_regexp_…"', { note: '_regexp_g|x+' }],
  ['"_duplicate_…"', { note: '_duplicate_x' }],
  ['a member named "_constructor-name_"', { payload: { '_constructor-name_': 'Person', name: 'Ada' } }],
];

function nest(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 1; i < depth; i++) value = { level: i, next: value };
  return value;
}

/** Polls until the key reads as absent; resolves to how long after `since` that was first seen. */
async function goneAfter(read: () => Promise<unknown>, since: number, withinMs: number): Promise<number> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if ((await read()) === undefined) return Date.now() - since;
    await sleep(20);
  }
  throw new Error(`still there ${withinMs} ms later`);
}

describe.each(subjects)('the $name cache tier', (subject) => {
  const base = `oms-test-${randomUUID()}`;
  let instance: Instance;
  let tier: CacheTier<boolean | void>;
  let keys: CacheKeys;
  const opened: Instance[] = [];

  const open = async (prefix: string, ttlSeconds?: number) => {
    const made = await subject.open(prefix, ttlSeconds);
    opened.push(made);
    return made;
  };

  /** A read that must have reached the tier (a Redis error also reads as undefined). */
  const read = async (key: string, from = tier) => {
    const before = subject.unreached();
    const value = await from.get(key);
    expect(subject.unreached()).toBe(before);
    return value;
  };

  const write = async (key: string, value: unknown, to = tier) => {
    expect(await to.set(key, value)).toBe(subject.written);
  };

  /** Declares a case, as `it.failing` where this tier is known to break the contract. */
  const contract = (violation: string, name: string, fn: () => Promise<void>) =>
    (subject.knownViolations.has(violation) ? it.failing : it)(name, fn);

  beforeAll(async () => {
    instance = await open(`${base}:`);
    tier = instance.tier;
    keys = instance.keys;
  });

  afterAll(async () => {
    for (const made of opened) await made.close();
    await subject.cleanup();
  });

  it('reads a key that was never set as undefined', async () => {
    expect(await read(keys.document('main', `never-${randomUUID()}`))).toBeUndefined();
    expect(await read(keys.objectTypeList('no-such-branch'))).toBeUndefined();
  });

  describe('round trip', () => {
    it.each(VALUES)('reads back %s exactly as it was set', async (_, value) => {
      const key = keys.document('main', randomUUID());
      await write(key, value);
      expect(await read(key)).toStrictEqual(value);
    });

    for (const [name, value] of RETYPED_STRINGS) {
      contract('retyped strings', `reads back ${name} with its strings as strings`, async () => {
        const key = keys.document('main', randomUUID());
        await write(key, value);
        expect(await read(key)).toStrictEqual(value);
      });
    }

    it('keeps what was written when the writer changes its value afterwards', async () => {
      const key = keys.document('main', randomUUID());
      const value = { name: 'Ada', tags: ['x'] };
      await write(key, value);
      try {
        value.name = 'changed';
        value.tags.push('y');
      } catch {
        // MemoryTier freezes what it keeps: the change itself is refused.
      }
      expect(await read(key)).toStrictEqual({ name: 'Ada', tags: ['x'] });
    });
  });

  it('replaces a value on a second set, whatever its shape', async () => {
    const key = keys.objectType('main', 'Person');
    await write(key, { v: { name: 'Person', version: 1 } });
    await write(key, { v: ['a', 'list', 'now'] });
    expect(await read(key)).toStrictEqual({ v: ['a', 'list', 'now'] });
    await write(key, 'a string last');
    expect(await read(key)).toStrictEqual('a string last');
  });

  it('deletes every key given, and only those', async () => {
    const gone = [
      keys.document('main', 'del-1'),
      keys.document('feature', 'del-2'),
      keys.objectTypeList('main'),
      keys.user('del-alice'),
    ];
    const kept = [keys.document('main', 'del-3'), keys.user('del-bob')];
    for (const key of [...gone, ...kept]) await write(key, { v: key });
    expect(await tier.delete([...gone, keys.document('main', 'never-set')])).toBe(subject.written);
    for (const key of gone) expect(await read(key)).toBeUndefined();
    for (const key of kept) expect(await read(key)).toStrictEqual({ v: key });
    expect(await tier.delete([])).toBe(subject.written);
    for (const key of kept) expect(await read(key)).toStrictEqual({ v: key });
  });

  describe('deletePrefix', () => {
    it("removes exactly a branch's keys: not a branch whose name extends it, users or another branch", async () => {
      const branch = `purge-${randomUUID().slice(0, 8)}`;
      const purged = [
        keys.document(branch, 'p-1'),
        keys.document(branch, 'p-2'),
        keys.objectType(branch, 'Person'),
        keys.objectTypeList(branch),
        keys.branchPrefix(branch), // a key equal to the prefix starts with it too
      ];
      const kept = [
        keys.document(`${branch}-2`, 'p-1'),
        keys.document(`${branch}.x`, 'p-1'),
        keys.objectTypeList(`x${branch}`),
        keys.document('main', `${branch}-doc`),
        keys.user(branch),
      ];
      for (const key of [...purged, ...kept]) await write(key, { v: key });
      expect(await tier.deletePrefix(keys.branchPrefix(branch))).toBe(subject.written);
      for (const key of purged) expect(await read(key)).toBeUndefined();
      for (const key of kept) expect(await read(key)).toStrictEqual({ v: key });
    });

    it('removes nothing when no key has the prefix', async () => {
      const key = keys.document('main', 'np-1');
      await write(key, { v: 1 });
      expect(await tier.deletePrefix(keys.branchPrefix(`none-${randomUUID()}`))).toBe(subject.written);
      expect(await read(key)).toStrictEqual({ v: 1 });
    });

    contract(
      'glob prefix',
      'treats a REDIS_CACHE_PREFIX with glob characters (* ? [ ]) as a prefix, not a pattern',
      async () => {
        const odd = await open(`${base}-[x]*?:`);
        const lookalike = await open(`${base}-x-lookalike:`);
        const own = odd.keys.document('main', 'g-1');
        const other = lookalike.keys.document('main', 'g-1');
        await write(own, { v: 'own' }, odd.tier);
        await write(other, { v: 'other' }, lookalike.tier);
        expect(await odd.tier.deletePrefix(odd.keys.branchPrefix('main'))).toBe(subject.written);
        expect(await read(own, odd.tier)).toBeUndefined();
        expect(await read(other, lookalike.tier)).toStrictEqual({ v: 'other' });
      },
    );
  });

  if (subject.name === 'memory') {
    it('clear removes every entry (MemoryTier only: RedisTier has no clear)', async () => {
      const cleared = await open(`${base}-clear:`);
      const some = [cleared.keys.document('main', 'c-1'), cleared.keys.user('c-alice')];
      for (const key of some) await write(key, { v: key }, cleared.tier);
      await cleared.clear!();
      for (const key of some) expect(await read(key, cleared.tier)).toBeUndefined();
      await write(some[0]!, { v: 'again' }, cleared.tier);
      expect(await read(some[0]!, cleared.tier)).toStrictEqual({ v: 'again' });
    });
  }

  it('lets an entry expire after the configured TTL, not before', async () => {
    const ttlMs = 400;
    const short = await open(`${base}-ttl:`, ttlMs / 1000);
    const key = short.keys.document('main', 'ttl-1');
    const since = Date.now();
    await write(key, { v: 'short-lived' }, short.tier);
    expect(await read(key, short.tier)).toStrictEqual({ v: 'short-lived' });
    const gone = await goneAfter(() => read(key, short.tier), since, 5000);
    expect(gone).toBeGreaterThanOrEqual(ttlMs - 20); // timers may round a few ms
    // A new value gets a full lifetime again.
    await write(key, { v: 'again' }, short.tier);
    expect(await read(key, short.tier)).toStrictEqual({ v: 'again' });
  });

  describe('isolation', () => {
    it(`between two instances of one deployment: ${subject.shared ? 'shared' : 'each its own'}`, async () => {
      const prefix = `${base}-pair:`;
      const [a, b] = [await open(prefix), await open(prefix)];
      const key = a.keys.document('main', 'pair-1');
      expect(b.keys.document('main', 'pair-1')).toBe(key);
      await write(key, { v: 'from a' }, a.tier);
      expect(await read(key, b.tier)).toStrictEqual(subject.shared ? { v: 'from a' } : undefined);
      expect(await b.tier.delete([key])).toBe(subject.written);
      expect(await read(key, a.tier)).toStrictEqual(subject.shared ? undefined : { v: 'from a' });
    });

    it('between two deployments (two REDIS_CACHE_PREFIX values): reads, deletes and purges', async () => {
      const [a, b] = [await open(`${base}-a:`), await open(`${base}-b:`)];
      const [docA, docB] = [a.keys.document('main', 'd-1'), b.keys.document('main', 'd-1')];
      expect(docA).not.toBe(docB);
      await write(docA, { v: 'a' }, a.tier);
      expect(await read(docB, b.tier)).toBeUndefined();
      await write(docB, { v: 'b' }, b.tier);
      const [userA, userB] = [a.keys.user('alice'), b.keys.user('alice')];
      await write(userA, { v: 'a' }, a.tier);
      await write(userB, { v: 'b' }, b.tier);

      expect(await a.tier.deletePrefix(a.keys.branchPrefix('main'))).toBe(subject.written);
      expect(await a.tier.delete([userA])).toBe(subject.written);
      expect(await read(docA, a.tier)).toBeUndefined();
      expect(await read(userA, a.tier)).toBeUndefined();
      expect(await read(docB, b.tier)).toStrictEqual({ v: 'b' });
      expect(await read(userB, b.tier)).toStrictEqual({ v: 'b' });
    });
  });

  if (subject.name === 'redis') {
    it('writes through to Redis under the key given, with REDIS_CACHE_TTL_SECONDS as its lifetime', async () => {
      const observer = new Redis(redisUrl!, { maxRetriesPerRequest: 1 });
      try {
        const key = keys.document('main', 'seen-1');
        await write(key, { v: { name: 'Ada' } });
        const ttl = await observer.pttl(key);
        expect(ttl).toBeGreaterThan(250 * 1000); // the default, 300 s
        expect(ttl).toBeLessThanOrEqual(300 * 1000);
        expect(await scanAll(observer, keys.branchPrefix('main'))).toContain(key);
        await tier.deletePrefix(keys.branchPrefix('main'));
        expect(await scanAll(observer, keys.branchPrefix('main'))).toEqual([]);
      } finally {
        observer.disconnect();
      }
    });
  }
});
