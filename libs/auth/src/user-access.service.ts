import { Inject, Injectable } from '@nestjs/common';
import { ReadThroughCache, ReadOptions } from '@oms/caching';
import { OmsConfig } from '@oms/config';
import { USER_STORE, UserStore } from '@oms/store';
import { Role, knownRoles } from './roles';

/** What the guard needs to know about a token's user now. */
export interface UserAccess {
  roles: Role[];
  tokenVersion: number;
}

/**
 * A user's current roles and token version, as every authenticated request checks them. Read through the
 * cache in this instance's memory only, for at most USER_CACHE_TTL_SECONDS: a user write drops the entry
 * here and, over the Redis invalidation bus, on every instance before it answers, so revocation is
 * immediate while Redis works, and bounded by that TTL when it does not (or for create-admin, which runs
 * outside the service). Only roles and version are kept: no password hash lingers in memory.
 */
@Injectable()
export class UserAccessService {
  private readonly options: ReadOptions;

  constructor(
    @Inject(USER_STORE) private readonly users: UserStore,
    private readonly cache: ReadThroughCache,
    config: OmsConfig,
  ) {
    // Not counted in cache_requests_total: one lookup per request would swamp the data's hit ratio.
    // Stale-if-error: while the store cannot answer, the last record read stands (a deleted user's absence
    // included); a user this instance has never read cannot be checked, and the request gets 503.
    this.options = {
      ttlMs: config.auth.userCacheTtlSeconds * 1000,
      memoryOnly: true,
      uncounted: true,
      staleIfError: true,
    };
  }

  /**
   * Null when the user does not exist. While the store cannot answer, the last record this instance read
   * (if no change was heard of since); Unavailable when there is none.
   */
  lookup(username: string): Promise<UserAccess | null> {
    return this.cache.read(
      this.cache.keys.user(username),
      async () => {
        const user = await this.users.find(username);
        return user && { roles: knownRoles(user.roles), tokenVersion: user.tokenVersion };
      },
      this.options,
    );
  }

  /** Runs a write to a user, then drops what every instance holds of that user (also when the outcome is unknown). */
  afterWrite<T>(username: string, write: Promise<T>): Promise<T> {
    return this.cache.afterWrite([this.cache.keys.user(username)], write);
  }
}
