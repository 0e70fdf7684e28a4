export const PASSWORD_MIN_CHARACTERS = 8;
/** bcrypt reads only the first 72 bytes: the rest of a longer password would never be checked. */
export const PASSWORD_MAX_BYTES = 72;

export interface PasswordRule {
  /** The class-validator constraint name. */
  name: string;
  message: string;
  broken(password: string, username: string | undefined): boolean;
}

/**
 * The password policy, for every way a password is set: the users API (create, PATCH), create-admin and
 * OMS_ADMIN_PASSWORD at start.
 */
export const PASSWORD_RULES: readonly PasswordRule[] = [
  {
    name: 'passwordMinCharacters',
    message: `must be at least ${PASSWORD_MIN_CHARACTERS} characters long`,
    broken: (password) => [...password].length < PASSWORD_MIN_CHARACTERS,
  },
  {
    name: 'passwordMaxBytes',
    message: `must be at most ${PASSWORD_MAX_BYTES} bytes in UTF-8 (bcrypt ignores the rest)`,
    broken: (password) => Buffer.byteLength(password, 'utf8') > PASSWORD_MAX_BYTES,
  },
  {
    name: 'passwordNotUsername',
    message: 'must not be the username',
    broken: (password, username) =>
      username !== undefined && password.toLowerCase() === username.toLowerCase(),
  },
];

/** What the password breaks, one message per rule (empty: it meets the policy). */
export function passwordViolations(password: string, username: string | undefined): string[] {
  return PASSWORD_RULES.filter((rule) => rule.broken(password, username)).map((rule) => rule.message);
}
