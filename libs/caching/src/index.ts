export * from './cache-events';
export * from './cache-keys';
export type { CacheTier } from './cache-tier';
export * from './caching.module';
export * from './memory-tier';
export * from './read-through-cache';
export * from './redis-tier';
