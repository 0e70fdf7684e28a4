import { Inject, Injectable, Optional } from '@nestjs/common';
import { DomainError, NotFound } from '@oms/common';
import { OmsConfig } from '@oms/config';
import { isServerFailure } from '../errors';
import { NO_EVENTS, RESILIENCE_EVENTS, ResilienceEvents } from '../resilience-events';
import { CircuitBreaker } from './circuit-breaker';

/** One breaker per controller group and one per dependency. */
export const CONTROLLER_BREAKERS = ['schemas', 'documents', 'branches'] as const;
export const DEPENDENCY_BREAKERS = ['store', 'redis'] as const;
export type BreakerName = (typeof CONTROLLER_BREAKERS)[number] | (typeof DEPENDENCY_BREAKERS)[number];

/** A dependency failed: anything but a domain outcome (not found, conflict, … are answers, not failures). */
const isDependencyFailure = (error: unknown) => !(error instanceof DomainError);

/** The process's breakers, built once from the validated configuration. */
@Injectable()
export class BreakerRegistry {
  private readonly breakers = new Map<string, CircuitBreaker>();

  constructor(config: OmsConfig, @Optional() @Inject(RESILIENCE_EVENTS) events: ResilienceEvents | null) {
    const { breaker } = config;
    const options = {
      consecutiveFailures: breaker.failureThreshold,
      errorRate: breaker.errorRateThreshold,
      windowMs: breaker.windowSeconds * 1000,
      minCalls: breaker.minCalls,
      halfOpenAfterMs: breaker.halfOpenAfterSeconds * 1000,
      halfOpenMaxCalls: breaker.halfOpenMaxCalls,
    };
    for (const name of CONTROLLER_BREAKERS) {
      this.breakers.set(
        name,
        new CircuitBreaker(name, { ...options, isFailure: isServerFailure }, events ?? NO_EVENTS),
      );
    }
    for (const name of DEPENDENCY_BREAKERS) {
      this.breakers.set(
        name,
        new CircuitBreaker(name, { ...options, isFailure: isDependencyFailure }, events ?? NO_EVENTS),
      );
    }
    for (const name of this.breakers.keys()) (events ?? NO_EVENTS).breakerCreated(name);
  }

  get(name: BreakerName): CircuitBreaker {
    return this.breakers.get(name)!;
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
