import { CallHandler, ExecutionContext, Injectable, NestInterceptor, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Observable, defer, lastValueFrom } from 'rxjs';
import { BreakerName, BreakerRegistry } from './breaker/breaker-registry';
import { Bulkhead } from './bulkhead/bulkhead';
import { ConditionalRequests } from './etag/conditional-requests';

export const RESILIENCE = 'oms:resilience';

/** What a controller runs under: always the bulkhead; optionally a breaker group and conditional requests. */
export interface ResilienceOptions {
  breaker?: BreakerName;
  conditional: boolean;
}

export const UseResilience = (options: ResilienceOptions) => SetMetadata(RESILIENCE, options);

/**
 * The bulkhead, the controller group's breaker and conditional requests around a handler, outermost first:
 * load is shed before anything else (a shed request never reaches a breaker), a 304 is a success for the
 * breaker. One interceptor composing the three policies rather than three stacked ones: Nest wraps each
 * interceptor in an async resource and an observable, which cost ~5 % of a cached GET per layer.
 */
@Injectable()
export class ResilienceInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly bulkhead: Bulkhead,
    private readonly breakers: BreakerRegistry,
    private readonly conditional: ConditionalRequests,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const options = this.reflector.getAllAndOverride<ResilienceOptions>(RESILIENCE, [
      context.getHandler(),
      context.getClass(),
    ]);
    const handle = async () => {
      if (!options.conditional)
        return lastValueFrom<unknown, undefined>(next.handle(), { defaultValue: undefined });
      // A read whose look-up found the representation answers with it: one look-up per request.
      const known = await this.conditional.before(context);
      const result: unknown = known
        ? known.body
        : await lastValueFrom(next.handle(), { defaultValue: undefined });
      return this.conditional.after(context, result);
    };
    const breaker = options.breaker ? this.breakers.get(options.breaker) : undefined;
    return defer(() => this.bulkhead.execute(() => (breaker ? breaker.execute(handle) : handle())));
  }
}
