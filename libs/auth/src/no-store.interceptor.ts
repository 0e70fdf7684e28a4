import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import { Observable } from 'rxjs';

/**
 * `Cache-Control: no-store` on every answer of a route, errors included: interceptors run before the
 * validation pipe, so also a 400 carries it (a handler's @Header covers 2xx only). For responses that
 * carry credentials, which no cache may keep.
 */
@Injectable()
export class NoStoreInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    context.switchToHttp().getResponse<Response>().setHeader('Cache-Control', 'no-store');
    return next.handle();
  }
}
