import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { VERSIONED_STORE, VersionedStore } from '@oms/store';

/**
 * The store answers a trivial query. The store's ping is a probe of its DependencyGuard: bounded by
 * STORE_TIMEOUT_MS, never refused by the breaker, and an answer lets an open breaker try again.
 */
@Injectable()
export class StoreHealthIndicator {
  constructor(
    @Inject(VERSIONED_STORE) private readonly store: VersionedStore,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async check(key = 'store'): Promise<HealthIndicatorResult> {
    const session = this.indicators.check(key);
    const started = Date.now();
    try {
      await this.store.ping();
      return session.up({ latencyMs: Date.now() - started });
    } catch (error) {
      return session.down({ message: (error as Error).message });
    }
  }
}
