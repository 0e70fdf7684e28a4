import { UnsupportedMediaTypeException } from '@nestjs/common';
import { ValidationFailed, Violation, bodyPointer, queryPointer } from '@oms/common';
import {
  allowedMethods,
  isJsonMediaType,
  mediaTypeOf,
  undecodableBody,
  unstorableJson,
  unstorableText,
} from '@oms/http';
import { BULK_IMPORT_PATH } from '@oms/documents';
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';

const WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Bodies must be JSON (PATCH: a JSON merge patch), so a form or text body is a clear 415 rather than an
 * empty object that fails validation.
 */
export function requireJsonBodies(request: Request, _response: Response, next: NextFunction): void {
  if (!WITH_BODY.has(request.method) || !hasBody(request) || streamsItsBody(request)) return next();
  const type = mediaTypeOf(request);
  if (request.method === 'PATCH') {
    // A resource without PATCH gets its 405 (with Allow) from routing, not a 415 about the body.
    if (
      type === 'application/merge-patch+json' ||
      !allowedMethods(request.app, request.path).includes('PATCH')
    )
      return next();
    return next(new UnsupportedMediaTypeException('PATCH takes application/merge-patch+json (RFC 7396).'));
  }
  if (isJsonMediaType(type)) return next();
  next(new UnsupportedMediaTypeException('The request body must be application/json.'));
}

/** The bulk import reads its own body as it arrives (NDJSON or a JSON array, up to BULK_BODY_LIMIT). */
export function streamsItsBody(request: Request): boolean {
  return request.method === 'POST' && request.path === BULK_IMPORT_PATH;
}

/** body-parser's `type`: JSON bodies, except one the handler streams. */
export function parsesAsJson(message: IncomingMessage): boolean {
  const request = message as Request; // body-parser runs inside Express: the message is its Request
  return !streamsItsBody(request) && isJsonMediaType(mediaTypeOf(request));
}

/** Runs `middleware` only for methods that carry a body: a GET does not pay for the body parser. */
export function onlyWithBodies(
  middleware: (request: Request, response: Response, next: NextFunction) => void,
) {
  return (request: Request, response: Response, next: NextFunction): void => {
    if (WITH_BODY.has(request.method)) middleware(request, response, next);
    else next();
  };
}

function hasBody(request: Request): boolean {
  const length = request.header('content-length');
  return request.header('transfer-encoding') !== undefined || (length !== undefined && length !== '0');
}

/**
 * Body-parser failures that are the client's: JSON that does not parse, and a body that does not match
 * its Content-Encoding (zlib's errors carry no body-parser type, so they would otherwise be a 500).
 */
export function rejectMalformedBodies(
  error: unknown,
  _request: Request,
  _response: Response,
  next: NextFunction,
): void {
  const { type, body } = (error ?? {}) as { type?: string; body?: unknown };
  if (type === 'entity.parse.failed') {
    // body-parser refuses JSON that is not an object or array ("hello", null) as if it did not parse.
    return next(
      isJson(body)
        ? new ValidationFailed(
            [{ path: bodyPointer(), message: 'must be a JSON object' }],
            'The request body must be a JSON object.',
          )
        : new ValidationFailed(
            [{ path: bodyPointer(), message: 'is not valid JSON' }],
            'The request body is not valid JSON.',
          ),
    );
  }
  next(undecodableBody(error) ?? error);
}

/**
 * The request target at the edge, before routing: its path must be valid percent-encoded UTF-8, and no
 * path or query value may hold a NUL. Such values could never name anything, and the store refuses them
 * with an error that must not count as the store failing; so they stop here, as a 400.
 */
export function rejectUnsafeTargets(request: Request, _response: Response, next: NextFunction): void {
  const url = request.url;
  // Node's parser refuses a raw NUL in the target: only a percent-escape can carry one, or bad UTF-8.
  if (!url.includes('%')) return next();
  const queryAt = url.indexOf('?');
  const rawPath = queryAt < 0 ? url : url.slice(0, queryAt);
  const violations: Violation[] = [];
  let path: string | undefined;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    violations.push({ path: '/path', message: 'is not valid percent-encoded UTF-8' });
  }
  const pathProblem = path === undefined ? undefined : unstorableText(path);
  if (pathProblem) violations.push({ path: '/path', message: pathProblem });
  if (queryAt >= 0) {
    for (const [key, value] of new URLSearchParams(url.slice(queryAt + 1))) {
      const problem = unstorableText(key) ?? unstorableText(value);
      if (problem)
        violations.push({ path: queryPointer(key.replaceAll('\u0000', '\\u0000')), message: problem });
    }
  }
  next(violations.length > 0 ? new ValidationFailed(violations) : undefined);
}

const RAW_BODY = Symbol('rawBody');

/** body-parser's verify hook: keeps the (decoded) body text beside the parsed value. */
export function keepRawBody(request: object, _response: object, body: Buffer): void {
  (request as { [RAW_BODY]?: Buffer })[RAW_BODY] = body;
}

/**
 * Parsed JSON bodies: nothing nested deeper than JSON_MAX_DEPTH (checked before any recursive code sees
 * the value), and nothing the store could not keep exactly (NUL, lone surrogates, numbers a double cannot
 * hold, which are found in the text the client sent).
 */
export function inspectJsonBodies(maxDepth: number) {
  return (request: Request, _response: Response, next: NextFunction): void => {
    const body: unknown = request.body;
    if (body === undefined || typeof body !== 'object' || body === null) return next();
    const raw = (request as { [RAW_BODY]?: Buffer })[RAW_BODY];
    const violations = unstorableJson(body, raw?.toString('utf8') ?? '', maxDepth, bodyPointer());
    next(
      violations.length > 0
        ? new ValidationFailed(violations, 'The request body contains values that cannot be stored.')
        : undefined,
    );
  };
}

/**
 * Makes Express's req.fresh always false for this app (its request prototype), so res.send never answers
 * 304 on its own; conditional requests are the ETag interceptor's.
 */
export function disableExpressFreshness(requestPrototype: object): void {
  Object.defineProperty(requestPrototype, 'fresh', { configurable: true, get: () => false });
}

function isJson(text: unknown): boolean {
  if (typeof text !== 'string') return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
