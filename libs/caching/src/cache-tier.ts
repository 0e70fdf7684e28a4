/**
 * What the cache tiers share — L1 `MemoryTier` (in process) and L2 `RedisTier` (shared by the
 * instances of one deployment) — so that one contract suite (test/integration/cache-tier.int-spec.ts) holds
 * both to it. Keys are strings built by CacheKeys (a deployment's REDIS_CACHE_PREFIX, then `b:<branch>:…`);
 * values are JSON values.
 *
 * - `get` resolves to what was last `set` under the key, or `undefined` when there is nothing: never set,
 *   deleted, expired — or, in a tier that fails open, unreachable (RedisTier counts that as an `error`
 *   lookup, not a miss). Reads never reject.
 * - `set` keeps the value for the tier's own configured lifetime (MEMORY_CACHE_TTL_SECONDS,
 *   REDIS_CACHE_TTL_SECONDS); it replaces what was there.
 * - `delete` removes the keys given (none is fine); `deletePrefix` removes every key that starts with the
 *   prefix, and no other.
 * - Writes never reject either. What they resolve to is the type parameter, not a union, so that no caller
 *   has to guess what a missing answer means:
 *   - `CacheTier<boolean>` (RedisTier): `true` when Redis confirmed the command. `false`: no confirmation
 *     (an error, an open breaker, REDIS_TIMEOUT_MS): the command may not have run — whatever was there
 *     before may still be there — or, after a timeout, may still run later.
 *   - `CacheTier<void>` (MemoryTier): an in-process write always happens; there is nothing to report.
 *
 * Not shared, so not here: `clear` and `size` (MemoryTier only — RedisTier's store would clear with
 * FLUSHDB, every deployment's keys at once), MemoryTier's per-entry lifetime (the third argument of its
 * `set`), and RedisTier's `client` and `call` (the invalidation bus publishes through them). Nor how a value
 * is kept: MemoryTier keeps the object it is given, deep-frozen (the caller's object is frozen too);
 * RedisTier a serialised copy.
 */
export interface CacheTier<Written extends boolean | void> {
  get<T>(key: string): Promise<T | undefined>;
  set<T>(key: string, value: T): Promise<Written>;
  delete(keys: string[]): Promise<Written>;
  deletePrefix(prefix: string): Promise<Written>;
}
