import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { VERSIONED_STORE, VersionedStore } from '@oms/store';

const PING_TIMEOUT_MS = 2000;

/** The store answers a trivial query within a bound. */
@Injectable()
export class StoreHealthIndicator {
  constructor(
    @Inject(VERSIONED_STORE) private readonly store: VersionedStore,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async check(key = 'store'): Promise<HealthIndicatorResult> {
    const session = this.indicators.check(key);
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.store.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${PING_TIMEOUT_MS} ms`)),
            PING_TIMEOUT_MS,
          );
        }),
      ]);
      return session.up({ latencyMs: Date.now() - started });
    } catch (error) {
      return session.down({ message: (error as Error).message });
    } finally {
      clearTimeout(timer);
    }
  }
}
