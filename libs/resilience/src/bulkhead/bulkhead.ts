import { CapacityExceeded } from '../errors';
import { ResilienceEvents } from '../resilience-events';

export interface BulkheadOptions {
  maxConcurrent: number;
  maxQueue: number;
  queueTimeoutMs: number;
}

interface Waiter {
  admit: () => void;
  timer: NodeJS.Timeout;
}

/**
 * Bounded concurrency with a bounded FIFO queue and a queue-wait timeout; past either bound the call is
 * refused at once with CapacityExceeded. Written here rather than taken from cockatiel 3.2.1, whose
 * bulkhead has no queue timeout and cannot drop a queued call (an aborted call stays queued and can
 * strand the one behind it).
 */
export class Bulkhead {
  private running = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    private readonly options: BulkheadOptions,
    private readonly events: ResilienceEvents,
  ) {}

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  async execute<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.running < this.options.maxConcurrent && this.waiting.length === 0) {
      this.running++;
      this.report();
      return Promise.resolve();
    }
    if (this.waiting.length >= this.options.maxQueue) return this.shed('queue_full');
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        admit: resolve,
        timer: setTimeout(() => {
          this.waiting.splice(this.waiting.indexOf(waiter), 1);
          this.report();
          this.shed('queue_timeout').catch(reject);
        }, this.options.queueTimeoutMs),
      };
      this.waiting.push(waiter);
      this.report();
    });
  }

  /** Hands the slot straight to the oldest waiter, so nobody can overtake the queue. */
  private release(): void {
    const next = this.waiting.shift();
    if (next) {
      clearTimeout(next.timer);
      next.admit();
    } else {
      this.running--;
    }
    this.report();
  }

  private report(): void {
    this.events.occupancy(this.running, this.waiting.length);
  }

  private shed(reason: 'queue_full' | 'queue_timeout'): Promise<never> {
    this.events.shed(reason);
    return Promise.reject(new CapacityExceeded(reason));
  }
}
