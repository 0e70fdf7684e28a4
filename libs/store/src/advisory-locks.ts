/**
 * PostgreSQL advisory lock keys, one database-wide namespace: each serialises one kind of change across
 * every instance sharing the database. Defined together so no two kinds ever share a key.
 */
export const ADVISORY_LOCKS = {
  /** Applying migrations (instances starting together). */
  migrations: 727274,
  /** Any change that could remove an admin: counting the admins and changing one are one step. */
  adminChanges: 727275,
  /** Creating a branch: names are unique ignoring case, which no index enforces. */
  branchNames: 727276,
} as const;
