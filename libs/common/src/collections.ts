/**
 * Items a caller knows are there: the row of an `INSERT … RETURNING` or a `count(*)`, the last item of a
 * page known not to be empty. Anything else is a bug of ours, reported as one (a 500), never a silent
 * `undefined`.
 */
export function one<T>(items: readonly T[], what = 'row'): T {
  if (items.length !== 1) throw new Error(`expected exactly one ${what}, got ${items.length}`);
  return first(items, what);
}

export function first<T>(items: readonly T[], what = 'item'): T {
  for (const item of items) return item;
  throw new Error(`expected at least one ${what}, got none`);
}

export function last<T>(items: readonly T[], what = 'item'): T {
  if (items.length === 0) throw new Error(`expected at least one ${what}, got none`);
  return items.at(-1) as T;
}
