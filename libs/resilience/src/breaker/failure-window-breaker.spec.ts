import { CircuitState } from 'cockatiel';
import { FailureWindowBreaker } from './failure-window-breaker';

describe('FailureWindowBreaker', () => {
  let clock = 0;
  const make = (overrides = {}) =>
    new FailureWindowBreaker({
      consecutiveFailures: 3,
      errorRate: 0.5,
      windowMs: 10_000,
      minCalls: 6,
      now: () => clock,
      ...overrides,
    });
  const closed = CircuitState.Closed;

  beforeEach(() => {
    clock = 1_000_000;
  });

  it('opens on the Nth consecutive failure', () => {
    const breaker = make();
    expect(breaker.failure(closed)).toBe(false);
    expect(breaker.failure(closed)).toBe(false);
    expect(breaker.failure(closed)).toBe(true);
  });

  it('forgets a run of failures after a success', () => {
    const breaker = make({ minCalls: 100 });
    breaker.failure(closed);
    breaker.failure(closed);
    breaker.success(closed);
    expect(breaker.failure(closed)).toBe(false);
    expect(breaker.failure(closed)).toBe(false);
  });

  it('opens on the failure rate once the window has the minimum number of calls', () => {
    const breaker = make({ consecutiveFailures: 100 });
    // success, failure alternating: the rate is 50 % but only reaches minCalls=6 at the sixth call.
    const results: boolean[] = [];
    for (let i = 0; i < 6; i++) {
      if (i % 2 === 0) breaker.success(closed);
      else results.push(breaker.failure(closed));
    }
    expect(results).toEqual([false, false, true]);
  });

  it('does not open on the rate below the minimum number of calls', () => {
    const breaker = make({ consecutiveFailures: 100, minCalls: 20 });
    for (let i = 0; i < 10; i++) expect(breaker.failure(closed)).toBe(false);
  });

  it('lets old calls fall out of the window', () => {
    const breaker = make({ consecutiveFailures: 100, minCalls: 4, errorRate: 0.5 });
    breaker.failure(closed);
    breaker.failure(closed);
    clock += 11_000; // both failures are now older than the window
    breaker.success(closed);
    breaker.success(closed);
    breaker.success(closed);
    expect(breaker.failure(closed)).toBe(false); // 1 failure in 4 calls
    expect(breaker.totals()).toEqual({ calls: 4, failures: 1 });
  });

  it('reopens on any failure while half-open', () => {
    expect(make().failure(CircuitState.HalfOpen)).toBe(true);
  });
});
