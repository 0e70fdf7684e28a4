import { DomainError, OutcomeUnknown, Unavailable } from '@oms/common';
import { LRUCache } from 'lru-cache';
import { CacheEvents } from './cache-events';
import { CacheKeys } from './cache-keys';
import { Invalidation, InvalidationBus } from './invalidation-bus';
import { MemoryTier } from './memory-tier';
import { RedisTier } from './redis-tier';

/** Cached values are wrapped, so "absent" (null) is cacheable too. */
interface Envelope<T> {
  v: T;
}

/** How one read is cached, when it differs from the data the cache is for. */
export interface ReadOptions {
  /** Memory-tier lifetime of the entry, instead of MEMORY_CACHE_TTL_SECONDS. */
  ttlMs?: number;
  /** Neither read nor fill Redis: the entry lives in this instance's memory only. */
  memoryOnly?: boolean;
  /** Leave the lookup out of cache_requests_total (bookkeeping that would hide the data's hit ratio). */
  uncounted?: boolean;
  /**
   * Stale-if-error (RFC 5861): keep the last value loaded past its TTL, and answer with it while the store
   * cannot (Unavailable). An invalidation of the key drops it too, so it is never older than the last
   * change this instance heard of.
   */
  staleIfError?: boolean;
}

/** How many stale-if-error values are kept, least recently used out. */
const STALE_ENTRIES = 10_000;

export interface CacheTiers {
  memory?: MemoryTier;
  redis?: RedisTier;
  bus?: InvalidationBus;
  /** How long after filling Redis a fill may still be stale (a store read bound plus a Redis bound). */
  fillWindowMs: number;
}

/**
 * Read-through over memory → Redis → the store, with invalidation on write.
 *
 * Staleness guard: invalidations are numbered. A load that an invalidation of its key overtook (numbered
 * after the load started) is returned to its callers but not kept in memory, and the Redis copy it may
 * have written is deleted again; an instance that receives an invalidation also deletes Redis copies it
 * filled within the last `fillWindowMs`, so a slow reader's stale fill cannot outlive the writer's
 * invalidation. Concurrent misses on a key share one load, unless an invalidation came in between.
 */
export class ReadThroughCache {
  private sequence = 0;
  /** Last invalidation number per key; only needed while loads are in flight, so cleared when none are. */
  private readonly invalidatedAt = new Map<string, number>();
  /** Last invalidation of everything (a branch purge or a bus gap). */
  private everythingInvalidatedAt = 0;
  private readonly inflight = new Map<string, { startedAt: number; promise: Promise<unknown> }>();
  private readonly recentFills = new Map<string, number>();
  private readonly stale = new LRUCache<string, Envelope<unknown>>({ max: STALE_ENTRIES });

  constructor(
    readonly keys: CacheKeys,
    private readonly tiers: CacheTiers,
    private readonly events: CacheEvents,
  ) {}

  /** Whether any tier keeps what is read (memory or Redis); without one, every read is the store's. */
  get caches(): boolean {
    return this.tiers.memory !== undefined || this.tiers.redis !== undefined;
  }

  async read<T>(key: string, load: () => Promise<T>, options: ReadOptions = {}): Promise<T> {
    const { memory } = this.tiers;
    if (memory) {
      const hit = await memory.get<Envelope<T>>(key);
      if (!options.uncounted) this.events.lookup('memory', hit === undefined ? 'miss' : 'hit');
      if (hit !== undefined) return hit.v;
    }
    const running = this.inflight.get(key);
    if (running && !this.overtaken(key, running.startedAt)) return running.promise as Promise<T>;
    const startedAt = this.sequence;
    const promise = this.load(key, startedAt, load, options);
    this.inflight.set(key, { startedAt, promise });
    try {
      return await promise;
    } finally {
      if (this.inflight.get(key)?.promise === promise) this.inflight.delete(key);
      if (this.inflight.size === 0) this.invalidatedAt.clear();
    }
  }

  /**
   * Runs a write, then drops its keys. Also when it failed without a domain answer (a timeout, a lost
   * connection): whether it committed is then unknown, and a needless invalidation costs less than a
   * stale entry. `keys` may be a function, read once the write has ended: a write that learns what it
   * touches as it runs (a cascading delete) names it there.
   */
  async afterWrite<T>(keys: string[] | (() => string[]), write: Promise<T>): Promise<T> {
    const ended = () => (typeof keys === 'function' ? keys() : keys);
    try {
      const result = await write;
      await this.invalidate(ended());
      return result;
    } catch (error) {
      if (!(error instanceof DomainError) || error instanceof Unavailable || error instanceof OutcomeUnknown)
        await this.invalidate(ended());
      throw error;
    }
  }

  /** After a write: drops the keys here and in Redis, and waits (bounded) for every instance to drop them. */
  async invalidate(keys: string[]): Promise<void> {
    await this.applyInvalidation({ keys }, 'local');
    await this.publish({ keys });
  }

  /** After a branch is created or deleted: drops everything cached for that branch name. */
  async purgeBranch(branch: string): Promise<void> {
    await this.applyInvalidation({ branch }, 'local');
    await this.publish({ branch });
  }

  /** Applies an invalidation from this or another instance. */
  async applyInvalidation(invalidation: Invalidation, source: 'local' | 'remote'): Promise<void> {
    const { memory, redis } = this.tiers;
    if (invalidation.branch !== undefined) {
      this.everythingInvalidatedAt = ++this.sequence; // every load in flight is overtaken
      const prefix = this.keys.branchPrefix(invalidation.branch);
      await memory?.deletePrefix(prefix);
      for (const key of [...this.stale.keys()]) if (key.startsWith(prefix)) this.stale.delete(key);
      if (source === 'local') await redis?.deletePrefix(prefix);
      this.events.invalidated(source);
      return;
    }
    const keys = invalidation.keys ?? [];
    const at = ++this.sequence;
    if (this.inflight.size > 0) for (const key of keys) this.invalidatedAt.set(key, at);
    await memory?.delete(keys);
    for (const key of keys) this.stale.delete(key);
    const refill = source === 'local' ? keys : keys.filter((k) => this.filledRecently(k));
    if (refill.length > 0) await redis?.delete(refill);
    this.events.invalidated(source);
  }

  /** Messages were lost while the bus was away: nothing in memory can be trusted. */
  async dropMemory(): Promise<void> {
    this.everythingInvalidatedAt = ++this.sequence;
    await this.tiers.memory?.clear();
    this.stale.clear();
  }

  private async load<T>(
    key: string,
    startedAt: number,
    load: () => Promise<T>,
    options: ReadOptions,
  ): Promise<T> {
    const { memory } = this.tiers;
    const redis = options.memoryOnly ? undefined : this.tiers.redis;
    let value: T;
    let filledRedis = false;
    const cached = redis ? await redis.get<Envelope<T>>(key) : undefined;
    if (cached !== undefined) {
      value = cached.v;
    } else {
      try {
        value = await load();
      } catch (error) {
        const last = options.staleIfError ? this.stale.get(key) : undefined;
        if (last && error instanceof Unavailable && !this.overtaken(key, startedAt)) return last.v as T;
        throw error;
      }
      if (redis) {
        filledRedis = await redis.set(key, { v: value });
        if (filledRedis) this.recentFills.set(key, Date.now());
      }
    }
    if (!this.overtaken(key, startedAt)) {
      await memory?.set(key, { v: value }, options.ttlMs);
      if (options.staleIfError) this.stale.set(key, { v: value });
    } else if (filledRedis) {
      await redis!.delete([key]); // an invalidation overtook this load: its fill may be stale
    }
    return value;
  }

  private publish(invalidation: Invalidation): Promise<void> {
    return this.tiers.bus?.publish(invalidation) ?? Promise.resolve();
  }

  private overtaken(key: string, startedAt: number): boolean {
    return this.everythingInvalidatedAt > startedAt || (this.invalidatedAt.get(key) ?? 0) > startedAt;
  }

  private filledRecently(key: string): boolean {
    const at = this.recentFills.get(key);
    const cutoff = Date.now() - this.tiers.fillWindowMs;
    if (this.recentFills.size > 10_000) {
      for (const [k, t] of this.recentFills) if (t < cutoff) this.recentFills.delete(k);
    }
    return at !== undefined && at >= cutoff;
  }
}
