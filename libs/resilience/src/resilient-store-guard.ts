import { Injectable, Logger } from '@nestjs/common';
import { DomainError, Unavailable } from '@oms/common';
import { OmsConfig } from '@oms/config';
import { StoreGuard } from '@oms/store';
import { TaskCancelledError, TimeoutStrategy, timeout } from 'cockatiel';
import { BreakerRegistry } from './breaker/breaker-registry';
import { CircuitBreaker } from './breaker/circuit-breaker';
import { DependencyTimeout } from './errors';
import { FaultInjector } from './faults/fault-injector';

/**
 * Every store operation: the `store` breaker around a STORE_TIMEOUT_MS bound around the call (with any
 * injected fault applied first). Domain outcomes pass through; a failure reaches the client as 503.
 */
@Injectable()
export class ResilientStoreGuard implements StoreGuard {
  private readonly logger = new Logger('Store');
  private readonly breaker: CircuitBreaker;
  private readonly timeoutMs: number;

  constructor(
    breakers: BreakerRegistry,
    private readonly faults: FaultInjector,
    config: OmsConfig,
  ) {
    this.breaker = breakers.get('store');
    this.timeoutMs = config.store.timeoutMs;
  }

  async run<T>(operation: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await this.breaker.execute(() => this.bounded(fn));
    } catch (error) {
      throw this.translate(operation, error);
    }
  }

  async probe<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await this.bounded(() => fn());
    } catch (error) {
      throw this.translate('ping', error);
    }
  }

  private async bounded<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await timeout(this.timeoutMs, TimeoutStrategy.Aggressive).execute(async ({ signal }) => {
        await this.faults.apply('store');
        return fn(signal);
      });
    } catch (error) {
      if (error instanceof TaskCancelledError) throw new DependencyTimeout('store', this.timeoutMs);
      throw error;
    }
  }

  private translate(operation: string, error: unknown): unknown {
    if (error instanceof DomainError) return error; // includes BreakerOpen
    this.logger.warn({ message: 'store operation failed', operation, error: String(error) });
    const detail =
      error instanceof DependencyTimeout
        ? `The store did not answer within ${this.timeoutMs} ms.`
        : 'The store failed.';
    return new Unavailable(detail, 1);
  }
}
