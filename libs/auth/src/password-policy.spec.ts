import { passwordViolations } from './password-policy';

describe('password policy', () => {
  it('accepts 8 characters up to 72 bytes that are not the username', () => {
    expect(passwordViolations('eight-ch', 'ada')).toEqual([]);
    expect(passwordViolations('a'.repeat(72), 'ada')).toEqual([]);
    expect(passwordViolations('é'.repeat(36), 'ada')).toEqual([]); // 72 bytes
  });

  it('counts characters, not UTF-16 units, for the minimum', () => {
    expect(passwordViolations('😀😀😀😀', undefined)).toEqual(['must be at least 8 characters long']);
    expect(passwordViolations('😀'.repeat(8), undefined)).toEqual([]);
  });

  it('counts UTF-8 bytes for the maximum, which bcrypt imposes', () => {
    expect(passwordViolations('a'.repeat(73), undefined)).toEqual([
      'must be at most 72 bytes in UTF-8 (bcrypt ignores the rest)',
    ]);
    expect(passwordViolations('é'.repeat(37), undefined)).toHaveLength(1); // 37 characters, 74 bytes
  });

  it('refuses the username ignoring case, and lists every rule broken', () => {
    expect(passwordViolations('Operator', 'operator')).toEqual(['must not be the username']);
    expect(passwordViolations('ADA', 'ada')).toEqual([
      'must be at least 8 characters long',
      'must not be the username',
    ]);
  });
});
