import { first, last, one } from './collections';

describe('one, first, last', () => {
  it('return the item a caller knows is there', () => {
    expect(one(['a'])).toBe('a');
    expect(first(['a', 'b'])).toBe('a');
    expect(last(['a', 'b'])).toBe('b');
  });

  it('throw, naming what was expected, when it is not there', () => {
    expect(() => one([], 'inserted version')).toThrow('expected exactly one inserted version, got 0');
    expect(() => one([1, 2], 'count')).toThrow('expected exactly one count, got 2');
    expect(() => first([], 'lineage level')).toThrow('expected at least one lineage level, got none');
    expect(() => last([])).toThrow('expected at least one item, got none');
  });
});
