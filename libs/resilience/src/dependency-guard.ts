import { Injectable } from '@nestjs/common';
import { OmsConfig } from '@oms/config';
import { TaskCancelledError, TimeoutStrategy, timeout } from 'cockatiel';
import { BreakerRegistry, DEPENDENCY_BREAKERS } from './breaker/breaker-registry';
import { CircuitBreaker } from './breaker/circuit-breaker';
import { DependencyTimeout } from './errors';
import { FaultInjector } from './faults/fault-injector';

export type Dependency = (typeof DEPENDENCY_BREAKERS)[number];

/**
 * How every call to one dependency runs: its breaker around a time bound around the call, with any injected
 * fault applied first. A call past the bound is aborted (its signal) and fails as a DependencyTimeout; any
 * other error passes through as it was, for the caller to translate into what its own callers need (the
 * store's into problems, Redis' into misses).
 */
export class DependencyGuard {
  constructor(
    readonly dependency: Dependency,
    readonly timeoutMs: number,
    private readonly breaker: CircuitBreaker,
    private readonly faults: FaultInjector,
    private readonly answered: () => void = () => undefined,
  ) {}

  /** One call: refused at once while the breaker is open, counted by it otherwise. */
  run<T>(fn: (signal: AbortSignal) => Promise<T>, timeoutMs = this.timeoutMs): Promise<T> {
    return this.breaker.execute(() => this.bounded(fn, timeoutMs));
  }

  /** A health probe: bounded, never refused by the breaker; an answer lets an open breaker try again now. */
  async probe<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const result = await this.bounded(fn);
    this.answered();
    return result;
  }

  private async bounded<T>(fn: (signal: AbortSignal) => Promise<T>, timeoutMs = this.timeoutMs): Promise<T> {
    try {
      return await timeout(timeoutMs, TimeoutStrategy.Aggressive).execute(async ({ signal }) => {
        await this.faults.apply(this.dependency);
        return fn(signal);
      });
    } catch (error) {
      if (error instanceof TaskCancelledError) throw new DependencyTimeout(this.dependency, timeoutMs);
      throw error;
    }
  }
}

/** The guard of each dependency, built once from the configuration. */
@Injectable()
export class DependencyGuards {
  private readonly guards: Record<Dependency, DependencyGuard>;

  constructor(breakers: BreakerRegistry, faults: FaultInjector, config: OmsConfig) {
    this.guards = {
      store: new DependencyGuard('store', config.store.timeoutMs, breakers.get('store'), faults, () =>
        breakers.storeAnswered(),
      ),
      redis: new DependencyGuard('redis', config.redis.timeoutMs, breakers.get('redis'), faults),
    };
  }

  get(dependency: Dependency): DependencyGuard {
    return this.guards[dependency];
  }
}
