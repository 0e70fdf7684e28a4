import { Inject, Injectable, Optional } from '@nestjs/common';
import { DomainError, NotFound, isDependencyFailure } from '@oms/common';
import { OmsConfig } from '@oms/config';
import { isStoreFailure } from '../store-failure';
import { NO_EVENTS, RESILIENCE_EVENTS, ResilienceEvents } from '../resilience-events';
import { CircuitBreaker, CircuitBreakerOptions } from './circuit-breaker';

/** One breaker per controller group and one per dependency. */
export const CONTROLLER_BREAKERS = ['schemas', 'documents', 'branches'] as const;
export const DEPENDENCY_BREAKERS = ['store', 'redis'] as const;
export type BreakerName = (typeof CONTROLLER_BREAKERS)[number] | (typeof DEPENDENCY_BREAKERS)[number];

/** Redis failed: anything but a domain outcome (Redis gives no answers of that kind). */
const isRedisFailure = (error: unknown) => !(error instanceof DomainError);

/** What each dependency's breaker counts, on the raw error of the call. */
const DEPENDENCY_FAILURES: Record<(typeof DEPENDENCY_BREAKERS)[number], (error: unknown) => boolean> = {
  store: isStoreFailure,
  redis: isRedisFailure,
};

/** The process's breakers, built once from the validated configuration. */
@Injectable()
export class BreakerRegistry {
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly events: ResilienceEvents;
  private readonly options: Omit<CircuitBreakerOptions, 'isFailure'>;

  constructor(config: OmsConfig, @Optional() @Inject(RESILIENCE_EVENTS) events: ResilienceEvents | null) {
    const { breaker } = config;
    this.events = events ?? NO_EVENTS;
    const options = (this.options = {
      consecutiveFailures: breaker.failureThreshold,
      errorRate: breaker.errorRateThreshold,
      windowMs: breaker.windowSeconds * 1000,
      minCalls: breaker.minCalls,
      halfOpenAfterMs: breaker.halfOpenAfterSeconds * 1000,
      halfOpenMaxCalls: breaker.halfOpenMaxCalls,
    });
    // A controller group counts only dependency failures under its requests (503 DependencyFailed, 504
    // OutcomeUnknown): never a 4xx, a 304, a shed request, a 500 (a breaker cannot fix a bug, and one bad
    // request must not close a route for everyone) or another breaker's rejection (counted once, by itself).
    for (const name of CONTROLLER_BREAKERS) {
      this.breakers.set(
        name,
        new CircuitBreaker(name, { ...options, isFailure: isDependencyFailure }, events ?? NO_EVENTS),
      );
    }
    for (const name of DEPENDENCY_BREAKERS) {
      this.breakers.set(
        name,
        new CircuitBreaker(name, { ...options, isFailure: DEPENDENCY_FAILURES[name] }, events ?? NO_EVENTS),
      );
    }
    for (const name of this.breakers.keys()) (events ?? NO_EVENTS).breakerCreated(name);
  }

  get(name: BreakerName): CircuitBreaker {
    return this.breakers.get(name)!;
  }

  /**
   * The breaker of one outbound receiver (`webhook:<id>`), made on first use with the same thresholds as
   * the others. Their number is bounded by their owner (WEBHOOKS_MAX), which forgets each one it drops.
   */
  receiver(name: string, isFailure: (error: unknown) => boolean): CircuitBreaker {
    let breaker = this.breakers.get(name);
    if (!breaker) {
      breaker = new CircuitBreaker(name, { ...this.options, isFailure }, this.events);
      this.breakers.set(name, breaker);
      this.events.breakerCreated(name);
    }
    return breaker;
  }

  /** Drops a receiver's breaker and its series (its webhook is gone). */
  forget(name: string): void {
    if ((CONTROLLER_BREAKERS as readonly string[]).includes(name)) return;
    if ((DEPENDENCY_BREAKERS as readonly string[]).includes(name)) return;
    if (this.breakers.delete(name)) this.events.breakerRemoved(name);
  }

  /**
   * A probe reached the store: the store breaker, and the group breakers (they count only dependency
   * failures, and the store is the dependency under every group), may try again now.
   */
  storeAnswered(): void {
    for (const name of ['store', ...CONTROLLER_BREAKERS] as const) this.get(name).dependencyAnswered();
  }

  /** NotFound for a name that is not a breaker. */
  find(name: string): CircuitBreaker {
    const breaker = this.breakers.get(name);
    if (!breaker) throw new NotFound('Circuit breaker', name);
    return breaker;
  }

  all(): CircuitBreaker[] {
    return [...this.breakers.values()];
  }
}
