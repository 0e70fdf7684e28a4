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
import { ADMISSION_WINDOW_MS, AdmissionController } from './admission/admission-controller';
import { FixedLimit, GradientLimit } from './admission/gradient-limit';

/** The edge admission controller, or null when ADMISSION_MODE=off (create-app installs it on the server). */
export const EDGE_ADMISSION = Symbol('EdgeAdmission');

function createAdmission(config: OmsConfig, events: ResilienceEvents | null): AdmissionController | null {
  const { mode, minLimit, maxLimit, targetDelayMs } = config.admission;
  if (mode === 'off') return null;
  const limit =
    mode === 'fixed'
      ? new FixedLimit(maxLimit)
      : new GradientLimit({ min: minLimit, max: maxLimit, toleranceMs: targetDelayMs });
  const report = events ?? NO_EVENTS;
  const admission = new AdmissionController(limit, (r) => report.admission(r));
  admission.start(ADMISSION_WINDOW_MS);
  return admission;
}

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
        {
          provide: EDGE_ADMISSION,
          inject: [OmsConfig, { token: RESILIENCE_EVENTS, optional: true }],
          useFactory: createAdmission,
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
        EDGE_ADMISSION,
        STORE_GUARD,
        ConditionalRequests,
        ResilienceInterceptor,
      ],
    };
  }
}
