import { Logger } from '@nestjs/common';
import {
  BrokenCircuitError,
  CircuitBreakerPolicy,
  CircuitState,
  IBackoff,
  IHalfOpenAfterBackoffContext,
  circuitBreaker,
  handleWhen,
} from 'cockatiel';
import { BreakerOpen } from '../errors';
import { BreakerState, ResilienceEvents } from '../resilience-events';
import { FailureWindowBreaker, FailureWindowOptions } from './failure-window-breaker';

export interface CircuitBreakerOptions extends Omit<FailureWindowOptions, 'now'> {
  halfOpenAfterMs: number;
  /** Calls admitted while half-open; the rest are refused at once. */
  halfOpenMaxCalls: number;
  isFailure: (error: unknown) => boolean;
}

const STATES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'open',
};

/**
 * A named breaker: cockatiel's CircuitBreakerPolicy with the FailureWindowBreaker rule, plus a gate that
 * bounds half-open trial calls (cockatiel makes extra calls wait for its single test call instead).
 * Open, it refuses at once with BreakerOpen (503 + Retry-After) without running the call.
 */
export class CircuitBreaker {
  private policy!: CircuitBreakerPolicy;
  private openedAt = 0;
  private trials = 0;
  private reported: BreakerState = 'closed';
  private halfOpenTimer?: NodeJS.Timeout;
  /** A probe saw the dependency answer while open: trial calls are due now, not at HALF_OPEN_AFTER. */
  private recoverySeen = false;
  private readonly logger = new Logger('CircuitBreaker');

  constructor(
    readonly name: string,
    private readonly options: CircuitBreakerOptions,
    private readonly events: ResilienceEvents,
  ) {
    this.policy = this.build();
  }

  /**
   * Open until HALF_OPEN_AFTER has passed; from then on half-open (trial calls are admitted), even before
   * cockatiel enters the state on the next call — so a quiet instance does not report "open" forever.
   */
  get state(): BreakerState {
    const state = STATES[this.policy.state];
    return state === 'open' && this.policy.state === CircuitState.Open && this.trialsDue()
      ? 'half-open'
      : state;
  }

  async execute<T>(fn: () => Promise<T>): Promise<T> {
    const state = this.policy.state;
    if (state === CircuitState.Open && !this.trialsDue()) {
      throw this.reject();
    }
    const trial = state !== CircuitState.Closed;
    if (trial) {
      if (this.trials >= this.options.halfOpenMaxCalls) throw this.reject();
      this.trials++;
    }
    try {
      return await this.policy.execute(fn);
    } catch (error) {
      if (error instanceof BrokenCircuitError) throw this.reject();
      throw error;
    } finally {
      if (trial) this.trials--;
    }
  }

  /**
   * The dependency answered a health probe (which runs beside the breaker). An open breaker then admits
   * its trial calls at once instead of waiting out HALF_OPEN_AFTER: the first real call decides, as in
   * half-open, so a service whose store is back serves again within one probe period.
   */
  dependencyAnswered(): void {
    if (this.policy.state !== CircuitState.Open || this.trialsDue()) return;
    this.recoverySeen = true;
    this.logger.warn({ message: 'dependency answered a probe: trial calls admitted', breaker: this.name });
    this.transition('half-open');
  }

  /** Seconds until trial calls are admitted again (at least 1). */
  retryAfterSeconds(): number {
    const left = this.openedAt + this.options.halfOpenAfterMs - Date.now();
    return Math.max(1, Math.ceil(left / 1000));
  }

  /** Back to closed with empty counts (admin action). */
  reset(): void {
    clearTimeout(this.halfOpenTimer);
    this.policy = this.build();
    this.trials = 0;
    this.transition('closed');
  }

  private reject(): BreakerOpen {
    this.events.breakerRejected(this.name);
    return new BreakerOpen(this.name, this.retryAfterSeconds());
  }

  private build(): CircuitBreakerPolicy {
    const { halfOpenAfterMs, isFailure, consecutiveFailures, errorRate, windowMs, minCalls } = this.options;
    // cockatiel reads the wait before half-open from this backoff on each call while open, so a probe's
    // news (recoverySeen) shortens it to nothing.
    const recovering = () => this.recoverySeen;
    const wait: IBackoff<IHalfOpenAfterBackoffContext> = {
      get duration() {
        return recovering() ? 0 : halfOpenAfterMs;
      },
      next: () => wait,
    };
    const policy = circuitBreaker(handleWhen(isFailure), {
      halfOpenAfter: { next: () => wait },
      breaker: new FailureWindowBreaker({ consecutiveFailures, errorRate, windowMs, minCalls }),
    });
    policy.onBreak(() => {
      this.recoverySeen = false;
      this.openedAt = Date.now();
      clearTimeout(this.halfOpenTimer);
      this.halfOpenTimer = setTimeout(() => {
        if (policy === this.policy && policy.state === CircuitState.Open) this.transition('half-open');
      }, this.options.halfOpenAfterMs);
      this.halfOpenTimer.unref();
    });
    policy.onStateChange((state) => {
      if (policy === this.policy) this.transition(STATES[state]);
    });
    return policy;
  }

  private trialsDue(): boolean {
    return this.recoverySeen || Date.now() - this.openedAt >= this.options.halfOpenAfterMs;
  }

  private transition(to: BreakerState): void {
    if (to === this.reported) return; // cockatiel enters half-open on a call; the timer may have said so first
    this.reported = to;
    this.logger.warn({ message: 'circuit breaker transition', breaker: this.name, to });
    this.events.breakerTransition(this.name, to);
  }
}
