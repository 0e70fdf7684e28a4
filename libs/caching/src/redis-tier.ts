import { Logger } from '@nestjs/common';
import { DependencyGuard } from '@oms/resilience';
import type { CacheManagerStore } from 'cache-manager';
import { redisInsStore } from 'cache-manager-ioredis-yet';
import type { Redis } from 'ioredis';
import { CacheEvents } from './cache-events';
import { CacheTier } from './cache-tier';

/**
 * L2: Redis through cache-manager-ioredis-yet's store. Every command runs through the `redis` DependencyGuard
 * (breaker, REDIS_TIMEOUT_MS, injected faults); it fails open: an error or an open breaker is a miss
 * (counted), never a failed request, and an open breaker means no request waits on Redis.
 *
 * Values travel as JSON text. The store encodes with telejson, whose decoding turns strings that look like
 * its markers into other values (an ISO date string into a Date, `_bigint_1` into a BigInt): handed a string,
 * it gives the same string back, so the JSON a value became is exactly what comes back.
 */
export class RedisTier implements CacheTier<boolean> {
  private readonly store: CacheManagerStore;
  private readonly ttlMs: number;
  private readonly logger = new Logger('RedisTier');

  constructor(
    readonly client: Redis,
    private readonly guard: DependencyGuard,
    private readonly events: CacheEvents,
    ttlMs: number,
  ) {
    // Redis takes whole milliseconds (PX); the store's types predate cache-manager 7 (STACK.md): it is the
    // CacheManagerStore shape at run time.
    this.ttlMs = Math.max(1, Math.round(ttlMs));
    this.store = redisInsStore(client, { ttl: this.ttlMs }) as unknown as CacheManagerStore;
  }

  async get<T>(key: string): Promise<T | undefined> {
    try {
      const text: unknown = await this.call(() => this.store.get(key));
      // Anything but JSON text (an entry written another way) is a miss, never a value read differently.
      const value = typeof text === 'string' ? (JSON.parse(text) as T) : undefined;
      this.events.lookup('redis', value === undefined ? 'miss' : 'hit');
      return value;
    } catch {
      this.events.lookup('redis', 'error');
      return undefined;
    }
  }

  /** Returns whether it was stored. */
  async set<T>(key: string, value: T): Promise<boolean> {
    return this.attempt('set', () => this.store.set(key, JSON.stringify(value), this.ttlMs));
  }

  /** Returns whether they are gone (false: Redis could not be reached). */
  async delete(keys: string[]): Promise<boolean> {
    if (keys.length === 0) return true;
    return this.attempt('del', () => this.store.mdel(...keys));
  }

  /** Deletes every key under a prefix (SCAN, never KEYS); the prefix is matched literally, not as a glob. */
  async deletePrefix(prefix: string): Promise<boolean> {
    const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    return this.attempt('purge', async () => {
      let cursor = '0';
      do {
        const [next, keys] = await this.client.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
        if (keys.length > 0) await this.client.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    });
  }

  /** Any Redis command, through the same guard. */
  call<T>(fn: () => Promise<T>): Promise<T> {
    return this.guard.run(() => fn());
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
