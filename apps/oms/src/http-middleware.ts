import { UnsupportedMediaTypeException } from '@nestjs/common';
import { ValidationFailed } from '@oms/common';
import type { NextFunction, Request, Response } from 'express';

const WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Bodies must be JSON (PATCH: a JSON merge patch), so a form or text body is a clear 415 rather than an
 * empty object that fails validation.
 */
export function requireJsonBodies(request: Request, _response: Response, next: NextFunction): void {
  if (!WITH_BODY.has(request.method) || !hasBody(request)) return next();
  const type = (request.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (request.method === 'PATCH') {
    if (type === 'application/merge-patch+json') return next();
    return next(new UnsupportedMediaTypeException('PATCH takes application/merge-patch+json (RFC 7396).'));
  }
  if (type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json')))
    return next();
  next(new UnsupportedMediaTypeException('The request body must be application/json.'));
}

function hasBody(request: Request): boolean {
  const length = request.header('content-length');
  return request.header('transfer-encoding') !== undefined || (length !== undefined && length !== '0');
}

/** A body that is not JSON is a client error worth its own words (Nest would pass the parser's message on). */
export function rejectMalformedJson(
  error: unknown,
  _request: Request,
  _response: Response,
  next: NextFunction,
): void {
  const malformed = (error as { type?: string } | null)?.type === 'entity.parse.failed';
  next(
    malformed
      ? new ValidationFailed(
          [{ path: '', message: 'is not valid JSON' }],
          'The request body is not valid JSON.',
        )
      : error,
  );
}

/**
 * Makes Express's req.fresh always false for this app (its request prototype), so res.send never answers
 * 304 on its own; conditional requests are the ETag interceptor's.
 */
export function disableExpressFreshness(requestPrototype: object): void {
  Object.defineProperty(requestPrototype, 'fresh', { configurable: true, get: () => false });
}
