import { ValidationFailed, queryPointer } from '@oms/common';

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
