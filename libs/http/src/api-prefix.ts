import { ValidationFailed, headerPointer } from '@oms/common';
import type { Request } from 'express';
import { unstorableText } from './input-safety';

/** Every API route lives under this prefix; health, docs and metrics do not. */
export const API_PREFIX = 'api/v1';

/** Builds a URL path under the API prefix from raw segments, encoding each. */
export function apiPath(...segments: string[]): string {
  return `/${API_PREFIX}/${segments.map(encodeURIComponent).join('/')}`;
}

const MAX_COMMIT_MESSAGE = 2000;
const EXT_VALUE = /^utf-8''(.*)$/i;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The optional commit message of a write, from the X-Commit-Message header, as UTF-8: either the raw
 * UTF-8 bytes (Node hands header bytes over one per character) or, for clients that can only send ASCII,
 * RFC 8187's form `UTF-8''Zo%C3%AB`. Anything that is not UTF-8 is a 400, never stored garbled.
 */
export function commitMessageOf(request: Request): string | undefined {
  const raw = request.header('x-commit-message');
  if (raw === undefined || raw.trim() === '') return undefined;
  const invalid = (message: string) =>
    new ValidationFailed([{ path: headerPointer('X-Commit-Message'), message }]);
  let value: string;
  try {
    const ext = EXT_VALUE.exec(raw.trim());
    value = ext ? decodeURIComponent(ext[1] ?? '') : UTF8.decode(Buffer.from(raw, 'latin1'));
  } catch {
    throw invalid("must be UTF-8 (raw, or percent-encoded after UTF-8'')");
  }
  const problem = unstorableText(value);
  if (problem) throw invalid(problem);
  if (value.length > MAX_COMMIT_MESSAGE) throw invalid(`must be at most ${MAX_COMMIT_MESSAGE} characters`);
  return value.trim();
}
