import { ValidationFailed, headerPointer } from '@oms/common';

/** The media type a request says its body is (`Content-Type` without parameters, lower case; '' when none). */
export function mediaTypeOf(request: { header(name: string): string | undefined }): string {
  return ((request.header('content-type') ?? '').split(';')[0] ?? '').trim().toLowerCase();
}

/** application/json, or a structured syntax suffix of it (application/problem+json, …). */
export function isJsonMediaType(type: string): boolean {
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/**
 * A body that does not decompress as its Content-Encoding says is the client's mistake (400), never ours:
 * zlib's errors (Z_DATA_ERROR…) and brotli's (ERR__ERROR_FORMAT_…) carry no HTTP status of their own.
 */
export function undecodableBody(error: unknown): ValidationFailed | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !/^(Z_|ERR__ERROR_)/.test(code)) return undefined;
  return new ValidationFailed(
    [
      {
        path: headerPointer('Content-Encoding'),
        message: 'does not match the body (it does not decompress)',
      },
    ],
    'The request body is not encoded as its Content-Encoding says.',
  );
}
