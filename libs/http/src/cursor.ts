import { ValidationFailed, queryPointer } from '@oms/common';
import type { Request, Response } from 'express';

/** Opaque page cursors: base64url JSON, so clients cannot depend on their shape. */
export function encodeCursor(position: object): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/** Decodes a cursor and checks its shape; anything else is a 400 naming the parameter. */
export function decodeCursor<T>(
  cursor: string,
  isValid: (value: unknown) => value is T,
  parameter = 'cursor',
): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (!isValid(value))
    throw new ValidationFailed([{ path: queryPointer(parameter), message: 'is not a valid cursor' }]);
  return value;
}

/** A page of newest-first history ends at a sequence number: the next page is what lies before it. */
interface BeforeCursor {
  before: number;
}

const isBeforeCursor = (v: unknown): v is BeforeCursor =>
  typeof v === 'object' &&
  v !== null &&
  Number.isSafeInteger((v as BeforeCursor).before) &&
  (v as BeforeCursor).before > 0;

export const encodeBeforeCursor = (before: number): string => encodeCursor({ before });

/** The sequence number a history cursor stands before (400 for anything else). */
export const decodeBeforeCursor = (cursor: string): number => decodeCursor(cursor, isBeforeCursor).before;

/** `Link: <this path?query>; rel="next"` for a page with a next cursor. */
export function linkNextPage(req: Request, res: Response, query: Record<string, string>): void {
  res.setHeader('Link', `<${req.baseUrl}${req.path}?${new URLSearchParams(query).toString()}>; rel="next"`);
}
