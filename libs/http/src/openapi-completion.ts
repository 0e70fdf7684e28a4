import type { OpenAPIObject, OperationObject } from '@nestjs/swagger';
import { API_PREFIX } from './api-prefix';
import { RESPONSE_HEADERS, problemResponse, responseHeaders } from './api-docs';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/** API routes whose writes never reach the store. */
const IN_MEMORY = new RegExp(`^/${API_PREFIX}/(auth/login|admin/)`);

/**
 * The answers every operation of a kind can give, added to the generated document in one place so that no
 * controller can forget them:
 * - every API route: 400 (a query parameter it does not take) and 503 + Retry-After (bulkhead, breakers,
 *   the store);
 * - a route with a token: 401 + WWW-Authenticate (and its 503: the caller's record is read from the store);
 * - a route with a body: 400, 413 (too large) and 415 (not JSON);
 * - an API write to the store (not login, not the in-memory admin routes): 504 (the commit was sent, its
 *   answer lost);
 * - every response: X-Request-Id; every problem: Cache-Control: no-store.
 * Route-specific answers (403, 404, 409, 412, 428, 304, 429) are declared on the routes themselves.
 */
export function completeOpenApi(document: OpenAPIObject): OpenAPIObject {
  document.components ??= {};
  document.components.headers = { ...document.components.headers, ...RESPONSE_HEADERS };
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const api = path.startsWith(`/${API_PREFIX}/`);
      const statuses = new Set<number>();
      if (api) [400, 503].forEach((s) => statuses.add(s));
      if ((operation.security ?? []).length > 0) [401, 503].forEach((s) => statuses.add(s));
      if (operation.requestBody) [400, 413, 415].forEach((s) => statuses.add(s));
      if (api && method !== 'get' && !IN_MEMORY.test(path)) statuses.add(504);
      for (const status of statuses) addProblem(operation, status);
      for (const response of Object.values(operation.responses)) {
        if (!response || '$ref' in response) continue;
        response.headers = { ...responseHeaders('X-Request-Id'), ...response.headers };
      }
    }
  }
  return document;
}

function addProblem(operation: OperationObject, status: number): void {
  operation.responses[String(status)] ??= problemResponse(status);
}
