import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { routeTemplate } from './allowed-methods';

const REQUEST_ID = Symbol('requestId');
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

type WithId = Request & { [REQUEST_ID]?: string };

export function requestIdOf(request: Request): string {
  return (request as WithId)[REQUEST_ID] ?? '-';
}

/**
 * The route template of a request (`/api/v1/documents/crud/:id`), never the raw path: the one Express
 * matched, or, for a request refused before routing (a body that does not parse, a method not served),
 * the one its path belongs to; `unmatched` when no route serves the path.
 */
export function routeOf(request: Request): string {
  return (
    matchedRoute(request) ??
    (request.app && routeTemplate(request.app, request.method, request.path)) ??
    'unmatched'
  );
}

/** Whether the router matched a route for this request (and its method). */
export const routed = (request: Request): boolean => matchedRoute(request) !== undefined;

/** The template of the route the router matched, if it did. */
function matchedRoute(request: Request): string | undefined {
  const route: unknown = (request as { route?: { path?: unknown } }).route?.path;
  return typeof route === 'string' ? route : undefined;
}

const logger = new Logger('HTTP');

/**
 * Express middleware: takes X-Request-Id from the request (when sane) or makes one, returns it, and logs
 * one line per request when the response finishes — at info (5xx at warn); with `logRequests` false
 * (LOG_LEVEL below info) only 5xx lines are built at all.
 */
export function requestContext(logRequests: boolean) {
  return (request: Request, response: Response, next: NextFunction): void => {
    const incoming = request.header('x-request-id');
    const id = incoming && ACCEPTABLE_ID.test(incoming) ? incoming : randomUUID();
    (request as WithId)[REQUEST_ID] = id;
    response.setHeader('X-Request-Id', id);
    const started = process.hrtime.bigint();
    response.on('finish', () => {
      if (response.statusCode < 500 && !logRequests) return;
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      const entry = {
        message: 'request',
        requestId: id,
        method: request.method,
        route: routeOf(request),
        status: response.statusCode,
        durationMs: Math.round(durationMs * 100) / 100,
      };
      if (response.statusCode >= 500) logger.warn(entry);
      else logger.log(entry);
    });
    next();
  };
}
