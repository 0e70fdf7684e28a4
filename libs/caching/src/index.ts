export * from './cache-events';
export * from './cache-keys';
export * from './caching.module';
export * from './read-through-cache';
