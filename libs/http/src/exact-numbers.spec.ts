import { inexactNumbers, isExactNumber } from './exact-numbers';

describe('isExactNumber', () => {
  it.each([
    '0',
    '-0',
    '1',
    '1.0',
    '1e2',
    '1E+2',
    '0.1',
    '-12.50',
    '9007199254740991',
    '9007199254740992',
    '5e-324',
    '1.7976931348623157e308',
  ])('keeps %s: a double writes it back as the same number', (token) =>
    expect(isExactNumber(token)).toBe(true),
  );

  it.each([
    '9007199254740993',
    '12345678901234567890',
    '0.1000000000000000055511151231257827',
    '123456789012345678901234567890.123456789',
    '1e-400',
    '1e400',
    '2.2250738585072011e-308000',
  ])('refuses %s: a double would store another number', (token) => expect(isExactNumber(token)).toBe(false));
});

describe('inexactNumbers', () => {
  it('names every number a double cannot hold, by JSON Pointer, through objects and arrays', () => {
    const text =
      '{"a":1,"b":[0.5, 12345678901234567890, {"c~/d": 1e-400}],"e":"12345678901234567890","f":{"g":9007199254740993}}';
    expect(inexactNumbers(text, '').map((v) => v.path)).toEqual(['/b/1', '/b/2/c~0~1d', '/f/g']);
  });

  it('reads keys and strings with escapes and numbers inside strings without being fooled', () => {
    const text = '{"k\\"1e999":"9007199254740993","x":[[1e2],[2]],"\\u0041":12345678901234567.5}';
    expect(inexactNumbers(text).map((v) => v.path)).toEqual(['/A']);
  });

  it('finds nothing in ordinary bodies', () => {
    expect(inexactNumbers('{"age":37,"price":19.99,"ids":[1,2,3],"note":"e 1e5"}')).toEqual([]);
  });
});
