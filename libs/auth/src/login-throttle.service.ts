import { Injectable } from '@nestjs/common';
import { TooManyRequests } from '@oms/common';
import { OmsConfig } from '@oms/config';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

/**
 * Logins per username and per client address, each over a fixed window of LOGIN_THROTTLE_WINDOW_SECONDS
 * (counted from its first attempt). Every attempt takes a point from both BEFORE its password is checked,
 * so a parallel flood cannot slip past the limit while hashes run; a success gives its points back (it
 * clears its username's count). Past either limit, logins for that username or from that address are
 * refused with 429 before any hashing, until the window ends. Counters live in this instance's memory:
 * N instances behind a balancer allow up to N times the limits.
 */
@Injectable()
export class LoginThrottle {
  private readonly byUsername: RateLimiterMemory;
  private readonly byAddress: RateLimiterMemory;

  constructor(config: OmsConfig) {
    const { maxFailuresPerUsername, maxFailuresPerAddress, windowSeconds } = config.auth.login;
    this.byUsername = new RateLimiterMemory({
      keyPrefix: 'login-username',
      points: maxFailuresPerUsername,
      duration: windowSeconds,
    });
    this.byAddress = new RateLimiterMemory({
      keyPrefix: 'login-address',
      points: maxFailuresPerAddress,
      duration: windowSeconds,
    });
  }

  /**
   * Takes one attempt from both counters; TooManyRequests (with the wait) when either is spent. A refused
   * attempt takes nothing: it is not a failed login, and is answered without one.
   */
  async attempt(username: string, address: string): Promise<void> {
    try {
      await this.byUsername.consume(username);
    } catch (refusal) {
      throw tooMany(refusal);
    }
    try {
      await this.byAddress.consume(address);
    } catch (refusal) {
      await this.byUsername.reward(username, 1);
      throw tooMany(refusal);
    }
  }

  /** The attempt could not be judged (the store or the hasher failed): both get their point back. */
  async refund(username: string, address: string): Promise<void> {
    await Promise.all([this.byUsername.reward(username, 1), this.byAddress.reward(address, 1)]);
  }

  /** The attempt was right: its username starts afresh, and its address gets its point back. */
  async succeeded(username: string, address: string): Promise<void> {
    await Promise.all([this.byUsername.delete(username), this.byAddress.reward(address, 1)]);
  }
}

function tooMany(refusal: unknown): TooManyRequests {
  if (!(refusal instanceof RateLimiterRes)) throw refusal; // the limiter itself failed
  const seconds = Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));
  return new TooManyRequests(`Too many failed logins: try again in ${seconds} s.`, seconds);
}
