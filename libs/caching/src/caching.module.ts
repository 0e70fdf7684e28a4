import { Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { OmsConfig } from '@oms/config';
import { DependencyGuards } from '@oms/resilience';
import { Redis, RedisOptions } from 'ioredis';
import { CACHE_EVENTS, CacheEvents, NO_CACHE_EVENTS } from './cache-events';
import { CacheKeys } from './cache-keys';
import { InvalidationBus } from './invalidation-bus';
import { MemoryTier } from './memory-tier';
import { CacheTiers, ReadThroughCache } from './read-through-cache';
import { RedisTier } from './redis-tier';

const CACHE_TIERS = Symbol('CacheTiers');

/** Redis connections that fail fast: no offline queue, no per-command retries, a bounded command time. */
function redisOptions(timeoutMs: number): RedisOptions {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: timeoutMs,
    connectTimeout: Math.max(1000, timeoutMs * 4),
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  };
}

function buildTiers(config: OmsConfig, guards: DependencyGuards, events: CacheEvents): CacheTiers {
  const { cache, redis, store } = config;
  const memoryOn = cache.memoryTtlSeconds > 0 && cache.memoryMaxEntries > 0;
  const tiers: CacheTiers = {
    memory: memoryOn ? new MemoryTier(cache.memoryMaxEntries, cache.memoryTtlSeconds * 1000) : undefined,
    fillWindowMs: store.timeoutMs + 2 * redis.timeoutMs,
  };
  if (redis.url && cache.redisTtlSeconds > 0) {
    const logger = new Logger('Redis');
    const client = new Redis(redis.url, redisOptions(redis.timeoutMs));
    client.on('error', (error: Error) =>
      logger.debug({ message: 'redis connection error', error: error.message }),
    );
    tiers.redis = new RedisTier(client, guards.get('redis'), events, cache.redisTtlSeconds * 1000);
  }
  return tiers;
}

@Injectable()
class CacheLifecycle implements OnApplicationShutdown {
  constructor(@Inject(CACHE_TIERS) private readonly tiers: CacheTiers) {}

  async onApplicationShutdown(): Promise<void> {
    await this.tiers.bus?.close();
    await this.tiers.redis?.client.quit().catch(() => this.tiers.redis?.client.disconnect());
  }
}

/**
 * The three-tier read-through cache: memory (MEMORY_CACHE_*) → Redis (REDIS_URL, REDIS_CACHE_*) → the
 * store, with cross-instance invalidation over Redis pub/sub. Without REDIS_URL: memory only.
 */
@Global()
@Module({
  providers: [
    {
      provide: CACHE_TIERS,
      inject: [OmsConfig, DependencyGuards, { token: CACHE_EVENTS, optional: true }],
      useFactory: (config: OmsConfig, guards: DependencyGuards, events?: CacheEvents) =>
        buildTiers(config, guards, events ?? NO_CACHE_EVENTS),
    },
    {
      provide: ReadThroughCache,
      inject: [OmsConfig, CACHE_TIERS, { token: CACHE_EVENTS, optional: true }],
      useFactory: (config: OmsConfig, tiers: CacheTiers, events?: CacheEvents) => {
        const keys = new CacheKeys(config.redis.keyPrefix);
        const cache = new ReadThroughCache(keys, tiers, events ?? NO_CACHE_EVENTS);
        if (tiers.redis && config.redis.url) {
          const subscriber = new Redis(config.redis.url, {
            ...redisOptions(config.redis.timeoutMs),
            enableOfflineQueue: true, // SUBSCRIBE waits for the connection; nothing else runs here
            commandTimeout: undefined,
          });
          subscriber.on('error', () => undefined);
          tiers.bus = new InvalidationBus(
            subscriber,
            tiers.redis,
            keys,
            2 * config.redis.timeoutMs,
            (invalidation) => cache.applyInvalidation(invalidation, 'remote'),
            () => cache.dropMemory(),
          );
          tiers.bus.start();
        }
        return cache;
      },
    },
    CacheLifecycle,
  ],
  exports: [ReadThroughCache],
})
export class CachingModule {}
