import { UseFilters, UseInterceptors, applyDecorators } from '@nestjs/common';
import { BreakerName } from './breaker/breaker-registry';
import { NotModifiedFilter } from './etag/not-modified';
import { ResilienceInterceptor, UseResilience } from './resilience.interceptor';

/**
 * The resilience of a resource controller: the bulkhead, the group's circuit breaker, and conditional
 * requests (ETag, 304, 412/428). `conditional: false` for resources without versions (branches), which
 * therefore carry no ETag and need no If-Match.
 */
export const Resilient = (breaker: BreakerName, options: { conditional?: boolean } = {}) =>
  applyDecorators(
    UseResilience({ breaker, conditional: options.conditional !== false }),
    UseInterceptors(ResilienceInterceptor),
    UseFilters(NotModifiedFilter),
  );

/** Only the bulkhead: API routes without a breaker group of their own (auth, users). */
export const Shed = () =>
  applyDecorators(UseResilience({ conditional: false }), UseInterceptors(ResilienceInterceptor));
