import { Logger } from '@nestjs/common';
import { CircuitBreaker, DependencyTimeout, FaultInjector } from '@oms/resilience';
import type { CacheManagerStore } from 'cache-manager';
import { redisInsStore } from 'cache-manager-ioredis-yet';
import { TaskCancelledError, TimeoutStrategy, timeout } from 'cockatiel';
import type { Redis } from 'ioredis';
import { CacheEvents } from './cache-events';

/**
 * L2: Redis through cache-manager-ioredis-yet's store. Every command goes through the `redis` breaker,
 * a REDIS_TIMEOUT_MS bound and any injected fault; it fails open: an error or an open breaker is a miss
 * (counted), never a failed request, and an open breaker means no request waits on Redis.
 */
export class RedisTier {
  private readonly store: CacheManagerStore;
  private readonly logger = new Logger('RedisTier');

  constructor(
    readonly client: Redis,
    private readonly breaker: CircuitBreaker,
    private readonly faults: FaultInjector,
    private readonly events: CacheEvents,
    private readonly ttlMs: number,
    private readonly timeoutMs: number,
  ) {
    // The store's types predate cache-manager 7 (STACK.md): it is the CacheManagerStore shape at run time.
    this.store = redisInsStore(client, { ttl: ttlMs }) as unknown as CacheManagerStore;
  }

  async get<T>(key: string): Promise<T | undefined> {
    try {
      const value = (await this.call(() => this.store.get(key))) as T | undefined;
      this.events.lookup('redis', value === undefined ? 'miss' : 'hit');
      return value;
    } catch {
      this.events.lookup('redis', 'error');
      return undefined;
    }
  }

  /** Returns whether it was stored. */
  async set<T>(key: string, value: T): Promise<boolean> {
    return this.attempt('set', () => this.store.set(key, value, this.ttlMs));
  }

  /** Returns whether they are gone (false: Redis could not be reached). */
  async delete(keys: string[]): Promise<boolean> {
    if (keys.length === 0) return true;
    return this.attempt('del', () => this.store.mdel(...keys));
  }

  /** Deletes every key under a prefix (SCAN, never KEYS). */
  async deletePrefix(prefix: string): Promise<boolean> {
    return this.attempt('purge', async () => {
      let cursor = '0';
      do {
        const [next, keys] = await this.client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        if (keys.length > 0) await this.client.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    });
  }

  /** Any Redis command, under the same breaker, timeout and faults. */
  call<T>(fn: () => Promise<T>): Promise<T> {
    return this.breaker.execute(async () => {
      try {
        return await timeout(this.timeoutMs, TimeoutStrategy.Aggressive).execute(async () => {
          await this.faults.apply('redis');
          return fn();
        });
      } catch (error) {
        if (error instanceof TaskCancelledError) throw new DependencyTimeout('redis', this.timeoutMs);
        throw error;
      }
    });
  }

  private async attempt(operation: string, fn: () => Promise<unknown>): Promise<boolean> {
    try {
      await this.call(fn);
      return true;
    } catch (error) {
      this.logger.debug({ message: 'redis command failed', operation, error: String(error) });
      return false;
    }
  }
}
