import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';

/** Cache headers of every conditional resource (RFC 9111 §5.2.2; must-revalidate lets private caches store it). */
export const CACHE_CONTROL = 'private, no-cache, must-revalidate';
/** A state read at a commit (`?at=`) never changes: kept a year, never revalidated (RFC 8246). */
export const IMMUTABLE_CACHE_CONTROL = 'private, max-age=31536000, immutable';
export const VARY = 'Authorization';

/**
 * Thrown by the ETag interceptor when If-None-Match matches: the handler is skipped and the filter answers
 * 304. (An interceptor cannot set the final status itself: Nest re-applies the route's status on reply.)
 */
export class NotModified {
  constructor(
    readonly etag: string,
    readonly cacheControl: string,
  ) {}
}

@Catch(NotModified)
export class NotModifiedFilter implements ExceptionFilter<NotModified> {
  catch(signal: NotModified, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    response.status(304).set({ ETag: signal.etag, 'Cache-Control': signal.cacheControl, Vary: VARY }).end();
  }
}
