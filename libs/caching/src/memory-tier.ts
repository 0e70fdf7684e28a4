import { Cache, createCache } from 'cache-manager';
import { Keyv } from 'keyv';
import { LRUCache } from 'lru-cache';
import { CacheTier } from './cache-tier';

/**
 * The Map-like store Keyv needs, bounded by lru-cache (least recently used out). Keyv keeps the TTL
 * itself (lru-cache's set() takes options where Keyv passes a TTL, so it is not handed through).
 */
class LruMap<V extends object> {
  readonly lru: LRUCache<string, V>;

  constructor(max: number) {
    this.lru = new LRUCache<string, V>({ max });
  }

  get(key: string): V | undefined {
    return this.lru.get(key);
  }

  set(key: string, value: V): this {
    this.lru.set(key, value);
    return this;
  }

  delete(key: string): boolean {
    return this.lru.delete(key);
  }

  has(key: string): boolean {
    return this.lru.has(key);
  }

  clear(): void {
    this.lru.clear();
  }
}

/** L1: in process, cache-manager over Keyv, bounded to maxEntries with least-recently-used eviction. */
export class MemoryTier implements CacheTier<void> {
  private readonly store: LruMap<object>;
  private readonly cache: Cache;

  constructor(
    maxEntries: number,
    private readonly ttlMs: number,
  ) {
    this.store = new LruMap(Math.max(1, maxEntries));
    const keyv = new Keyv({ store: this.store, namespace: '' });
    // In process there is nothing to serialise: Keyv's JSON round trip cost ~30 µs per hit on an object
    // type. Values are frozen instead, so a caller cannot change what the next one reads.
    keyv.serialize = undefined;
    keyv.deserialize = undefined;
    this.cache = createCache({ stores: [keyv] });
  }

  get<T>(key: string): Promise<T | undefined> {
    return this.cache.get<T>(key);
  }

  /** Keeps the value for ttlMs (default MEMORY_CACHE_TTL_SECONDS). */
  async set<T>(key: string, value: T, ttlMs = this.ttlMs): Promise<void> {
    await this.cache.set(key, deepFreeze(value), ttlMs);
  }

  async delete(keys: string[]): Promise<void> {
    if (keys.length > 0) await this.cache.mdel(keys);
  }

  async deletePrefix(prefix: string): Promise<void> {
    await this.delete([...this.store.lru.keys()].filter((k) => k.startsWith(prefix)));
  }

  async clear(): Promise<void> {
    await this.cache.clear();
  }

  get size(): number {
    return this.store.lru.size;
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}
