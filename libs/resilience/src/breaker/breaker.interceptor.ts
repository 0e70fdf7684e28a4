import { CallHandler, ExecutionContext, Injectable, NestInterceptor, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Observable, defer, lastValueFrom } from 'rxjs';
import { BreakerName, BreakerRegistry } from './breaker-registry';

export const BREAKER = 'oms:breaker';

/** Names the breaker a controller's routes run under. */
export const UseBreaker = (name: BreakerName) => SetMetadata(BREAKER, name);

/** Runs the handler inside its controller group's breaker: 5xx and timeouts count, 4xx never do. */
@Injectable()
export class BreakerInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly breakers: BreakerRegistry,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const name = this.reflector.getAllAndOverride<BreakerName>(BREAKER, [
      context.getHandler(),
      context.getClass(),
    ]);
    const breaker = this.breakers.get(name);
    return defer(() => breaker.execute(() => lastValueFrom(next.handle(), { defaultValue: undefined })));
  }
}
