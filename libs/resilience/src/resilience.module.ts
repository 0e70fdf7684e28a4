import { DynamicModule, Global, Module } from '@nestjs/common';
import { OmsConfig } from '@oms/config';
import { STORE_GUARD } from '@oms/store';
import { DependencyGuards } from './dependency-guard';
import { BreakerRegistry } from './breaker/breaker-registry';
import { Bulkhead } from './bulkhead/bulkhead';
import { ConditionalRequests } from './etag/conditional-requests';
import { ResilienceInterceptor } from './resilience.interceptor';
import { FaultInjector } from './faults/fault-injector';
import { NO_EVENTS, RESILIENCE_EVENTS, ResilienceEvents } from './resilience-events';
import { ResilientStoreGuard } from './resilient-store-guard';

const createBulkhead = (config: OmsConfig, events: ResilienceEvents | null) =>
  new Bulkhead(config.backpressure, events ?? NO_EVENTS);

/**
 * Breakers, the bulkhead, conditional requests and fault injection. Global, so every resource module's
 * controllers can use @Resilient(); the store picks up STORE_GUARD from here. The operator endpoints
 * over these live in the admin module.
 */
@Global()
@Module({})
export class ResilienceModule {
  static forRoot(): DynamicModule {
    return {
      module: ResilienceModule,
      providers: [
        BreakerRegistry,
        FaultInjector,
        DependencyGuards,
        {
          provide: Bulkhead,
          inject: [OmsConfig, { token: RESILIENCE_EVENTS, optional: true }],
          useFactory: createBulkhead,
        },
        { provide: STORE_GUARD, useClass: ResilientStoreGuard },
        ConditionalRequests,
        ResilienceInterceptor,
      ],
      exports: [
        BreakerRegistry,
        FaultInjector,
        DependencyGuards,
        Bulkhead,
        STORE_GUARD,
        ConditionalRequests,
        ResilienceInterceptor,
      ],
    };
  }
}
