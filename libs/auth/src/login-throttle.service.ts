import { Injectable } from '@nestjs/common';
import { TooManyRequests } from '@oms/common';
import { OmsConfig } from '@oms/config';
import { RateLimiterMemory } from 'rate-limiter-flexible';

interface Counter {
  limiter: RateLimiterMemory;
  max: number;
}

/**
 * Failed logins per username and per client address, each over a fixed window of
 * LOGIN_THROTTLE_WINDOW_SECONDS (counted from its first failure). Once either reaches its limit, logins for
 * that username or from that address are refused before any password is hashed, until the window ends.
 * Counters live in this instance's memory: N instances behind a balancer allow up to N times the limits.
 */
@Injectable()
export class LoginThrottle {
  private readonly byUsername: Counter;
  private readonly byAddress: Counter;

  constructor(config: OmsConfig) {
    const { maxFailuresPerUsername, maxFailuresPerAddress, windowSeconds } = config.auth.login;
    const counter = (keyPrefix: string, max: number): Counter => ({
      limiter: new RateLimiterMemory({ keyPrefix, points: max, duration: windowSeconds }),
      max,
    });
    this.byUsername = counter('login-username', maxFailuresPerUsername);
    this.byAddress = counter('login-address', maxFailuresPerAddress);
  }

  /** Throws TooManyRequests (with the seconds until a login is allowed again) when either limit is reached. */
  async check(username: string, address: string): Promise<void> {
    const waits = await Promise.all([
      this.wait(this.byUsername, username),
      this.wait(this.byAddress, address),
    ]);
    const retryAfterMs = Math.max(...waits);
    if (retryAfterMs > 0) {
      const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
      throw new TooManyRequests(`Too many failed logins: try again in ${seconds} s.`, seconds);
    }
  }

  async failed(username: string, address: string): Promise<void> {
    await Promise.all([this.byUsername.limiter.penalty(username), this.byAddress.limiter.penalty(address)]);
  }

  /** A successful login clears its username's failures (not its address's: one address serves many users). */
  async succeeded(username: string): Promise<void> {
    await this.byUsername.limiter.delete(username);
  }

  /** Milliseconds until the key may try again; 0 while it is under its limit. */
  private async wait({ limiter, max }: Counter, key: string): Promise<number> {
    const state = await limiter.get(key);
    return state && state.consumedPoints >= max ? Math.max(state.msBeforeNext, 1) : 0;
  }
}
