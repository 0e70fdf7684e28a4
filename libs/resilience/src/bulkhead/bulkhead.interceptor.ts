import { CallHandler, Injectable, NestInterceptor } from '@nestjs/common';
import { Observable, defer, lastValueFrom } from 'rxjs';
import { Bulkhead } from './bulkhead';

/** Runs the handler under the process's bulkhead: sheds at once, with 503 + Retry-After, past its bounds. */
@Injectable()
export class BulkheadInterceptor implements NestInterceptor {
  constructor(private readonly bulkhead: Bulkhead) {}

  intercept(_: unknown, next: CallHandler): Observable<unknown> {
    return defer(() =>
      this.bulkhead.execute(() => lastValueFrom(next.handle(), { defaultValue: undefined })),
    );
  }
}
