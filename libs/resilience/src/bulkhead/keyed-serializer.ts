import { Unavailable } from '@oms/common';
import { CapacityExceeded } from '../errors';
import { NO_EVENTS } from '../resilience-events';
import { Bulkhead } from './bulkhead';

/**
 * One call at a time per key (a branch's writes), the rest waiting in a bounded FIFO queue for at most
 * `maxWaitMs`. Waiting here is contention, not a dependency failing: it is not timed by the dependency's
 * bound and never counted by a breaker; past the wait the call is refused with a retryable 503.
 */
export class KeyedSerializer {
  private readonly lanes = new Map<string, Bulkhead>();

  constructor(
    private readonly maxWaitMs: number,
    private readonly maxQueue = 1000,
  ) {}

  async run<T>(key: string, describe: string, fn: () => Promise<T>): Promise<T> {
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = new Bulkhead(
        { maxConcurrent: 1, maxQueue: this.maxQueue, queueTimeoutMs: this.maxWaitMs },
        NO_EVENTS,
      );
      this.lanes.set(key, lane);
    }
    try {
      return await lane.execute(fn);
    } catch (error) {
      if (error instanceof CapacityExceeded) {
        throw new Unavailable(`Too many writes are waiting on ${describe}: retry shortly.`, 1);
      }
      throw error;
    } finally {
      if (lane.active === 0 && lane.queued === 0) this.lanes.delete(key);
    }
  }
}
