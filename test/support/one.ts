/**
 * What a test knows is there: the one row a query returns, the newest commit of a list, a header or a key
 * the test itself set up. Each says what was missing when it is not there, instead of a "cannot read
 * properties of undefined" further on. `one`, `first` and `last` are the service's own (@oms/common).
 */
export { first, last, one } from '@oms/common';

/** `value`, which the test needs to go on; throws, naming `what`, when it is undefined. */
export function defined<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`expected ${what}, got undefined`);
  return value;
}
