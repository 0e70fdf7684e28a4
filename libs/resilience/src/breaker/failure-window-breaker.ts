import { CircuitState, IBreaker } from 'cockatiel';

export interface FailureWindowOptions {
  /** Opens after this many failures in a row. */
  consecutiveFailures: number;
  /** … or when failures / calls over the window reach this ratio (0..1) … */
  errorRate: number;
  windowMs: number;
  /** … once the window holds at least this many calls. */
  minCalls: number;
  now?: () => number;
}

interface Bucket {
  start: number;
  calls: number;
  failures: number;
}

const BUCKETS = 10;

/**
 * Opening rule for cockatiel's CircuitBreakerPolicy: N consecutive failures OR a failure rate over a
 * sliding window with a minimum number of calls. cockatiel ships each rule alone (ConsecutiveBreaker,
 * SamplingBreaker); the contract needs both, so this combines them. The window is kept in ten buckets.
 */
export class FailureWindowBreaker implements IBreaker {
  private consecutive = 0;
  private buckets: Bucket[] = [];
  private readonly now: () => number;

  constructor(private readonly options: FailureWindowOptions) {
    this.now = options.now ?? Date.now;
  }

  get state(): unknown {
    return { consecutive: this.consecutive, buckets: this.buckets };
  }

  set state(value: unknown) {
    const v = value as { consecutive: number; buckets: Bucket[] };
    this.consecutive = v.consecutive;
    this.buckets = v.buckets;
  }

  success(state: CircuitState): void {
    this.consecutive = 0;
    if (state === CircuitState.HalfOpen) this.buckets = [];
    else this.record(false);
  }

  failure(state: CircuitState): boolean {
    if (state === CircuitState.HalfOpen) return true;
    this.consecutive++;
    this.record(true);
    if (this.consecutive >= this.options.consecutiveFailures) return this.reset();
    const { calls, failures } = this.totals();
    if (calls >= this.options.minCalls && failures / calls >= this.options.errorRate) return this.reset();
    return false;
  }

  /** Calls and failures currently in the window. */
  totals(): { calls: number; failures: number } {
    this.expire();
    return this.buckets.reduce((t, b) => ({ calls: t.calls + b.calls, failures: t.failures + b.failures }), {
      calls: 0,
      failures: 0,
    });
  }

  /** Opening clears the counts, so the breaker judges afresh once it closes again. */
  private reset(): true {
    this.consecutive = 0;
    this.buckets = [];
    return true;
  }

  private record(failed: boolean): void {
    this.expire();
    const width = this.options.windowMs / BUCKETS;
    const now = this.now();
    let bucket = this.buckets[this.buckets.length - 1];
    if (!bucket || now - bucket.start >= width) {
      bucket = { start: now - ((now - (bucket?.start ?? now)) % width), calls: 0, failures: 0 };
      this.buckets.push(bucket);
    }
    bucket.calls++;
    if (failed) bucket.failures++;
  }

  private expire(): void {
    const oldest = this.now() - this.options.windowMs;
    for (let bucket = this.buckets[0]; bucket; bucket = this.buckets[0]) {
      if (bucket.start + this.options.windowMs / BUCKETS > oldest) break;
      this.buckets.shift();
    }
  }
}
