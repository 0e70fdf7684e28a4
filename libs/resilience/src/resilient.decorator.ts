import { UseFilters, UseInterceptors, applyDecorators } from '@nestjs/common';
import { BreakerName } from './breaker/breaker-registry';
import { BreakerInterceptor, UseBreaker } from './breaker/breaker.interceptor';
import { BulkheadInterceptor } from './bulkhead/bulkhead.interceptor';
import { EtagInterceptor } from './etag/etag.interceptor';
import { NotModifiedFilter } from './etag/not-modified';

/**
 * The resilience stack of a resource controller, outermost first: the bulkhead (load is shed before
 * anything else, and a shed request never reaches the breaker), the controller group's breaker, then
 * conditional requests (a 304 is a success for the breaker). `conditional: false` for resources without
 * versions (branches), which therefore carry no ETag and need no If-Match.
 */
export const Resilient = (breaker: BreakerName, options: { conditional?: boolean } = {}) =>
  options.conditional === false
    ? applyDecorators(UseBreaker(breaker), UseInterceptors(BulkheadInterceptor, BreakerInterceptor))
    : applyDecorators(
        UseBreaker(breaker),
        UseInterceptors(BulkheadInterceptor, BreakerInterceptor, EtagInterceptor),
        UseFilters(NotModifiedFilter),
      );

/** Only the bulkhead: API routes without a breaker group of their own (auth, users). */
export const Shed = () => UseInterceptors(BulkheadInterceptor);
