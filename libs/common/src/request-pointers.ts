import type { Violation } from './domain-errors';

/**
 * Where a violation is: a JSON Pointer (RFC 6901) into the request as a whole, the same convention on every
 * route — `/body/properties/age`, `/query/limit`, `/path/id`, `/header/If-Match`.
 */

/** A JSON Pointer segment (RFC 6901): `~` and `/` escaped. */
export const pointerSegment = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** A place in the body, from a pointer into the body (`''` is the body itself). */
export const bodyPointer = (pointer = '') => `/body${pointer}`;
export const queryPointer = (name: string) => `/query/${pointerSegment(name)}`;
export const pathPointer = (name: string) => `/path/${pointerSegment(name)}`;
export const headerPointer = (name: string) => `/header/${pointerSegment(name)}`;

/** Violations found in the body (their paths point into it) as violations of the request. */
export const inBody = (violations: Violation[]): Violation[] =>
  violations.map((v) => ({ ...v, path: bodyPointer(v.path) }));
