export * from './cache-events';
export * from './cache-keys';
// The shared surface of the two tiers. Exported under another name: `CacheTier` is already the union of tier
// names in cache-events.ts (libs/metrics labels lookups with it).
export type { CacheTier as CacheTierContract } from './cache-tier';
export * from './caching.module';
export * from './memory-tier';
export * from './read-through-cache';
export * from './redis-tier';
