import { ValidationFailed } from '@oms/common';
import type { Request } from 'express';

/** Every API route lives under this prefix; health, docs and metrics do not. */
export const API_PREFIX = 'api/v1';

/** Builds a URL path under the API prefix from raw segments, encoding each. */
export function apiPath(...segments: string[]): string {
  return `/${API_PREFIX}/${segments.map(encodeURIComponent).join('/')}`;
}

const MAX_COMMIT_MESSAGE = 2000;

/** The optional commit message of a write, from the X-Commit-Message header. */
export function commitMessageOf(request: Request): string | undefined {
  const value = request.header('x-commit-message');
  if (value === undefined || value.trim() === '') return undefined;
  if (value.length > MAX_COMMIT_MESSAGE) {
    throw new ValidationFailed([
      { path: 'header:X-Commit-Message', message: `must be at most ${MAX_COMMIT_MESSAGE} characters` },
    ]);
  }
  return value.trim();
}
