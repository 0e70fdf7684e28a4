export type CacheTierName = 'memory' | 'redis';
export type CacheResult = 'hit' | 'miss' | 'error';

/** What the cache reports (the metrics module turns it into cache_* series). */
export interface CacheEvents {
  lookup(tier: CacheTierName, result: CacheResult): void;
  invalidated(source: 'local' | 'remote'): void;
}

export const CACHE_EVENTS = Symbol('CacheEvents');

export const NO_CACHE_EVENTS: CacheEvents = { lookup: () => undefined, invalidated: () => undefined };
