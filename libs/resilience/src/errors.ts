import { Unavailable } from '@oms/common';

/** An open (or saturated half-open) breaker refused the call without running it. */
export class BreakerOpen extends Unavailable {
  constructor(
    readonly breaker: string,
    retryAfterSeconds: number,
  ) {
    super(`Circuit breaker '${breaker}' is open: the call was not attempted.`, retryAfterSeconds);
    this.extensions.breaker = breaker;
  }
}

/** The bulkhead shed the request: too many running and waiting, or it waited too long. */
export class CapacityExceeded extends Unavailable {
  constructor(readonly reason: 'queue_full' | 'queue_timeout') {
    super(
      reason === 'queue_full'
        ? 'The server is at capacity: too many requests are running and waiting.'
        : 'The server is at capacity: the request waited too long for a slot.',
      1,
    );
    this.extensions.reason = reason;
  }
}

/** A dependency did not answer within its bound. */
export class DependencyTimeout extends Error {
  constructor(
    readonly dependency: string,
    readonly timeoutMs: number,
  ) {
    super(`${dependency} did not answer within ${timeoutMs} ms`);
    this.name = 'DependencyTimeout';
  }
}
