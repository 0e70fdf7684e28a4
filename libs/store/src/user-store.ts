import { AlreadyExists, StateConflict, one } from '@oms/common';
import { ADVISORY_LOCKS } from './advisory-locks';
import { SqlClient, SqlExecutor, TransactionOptions } from './sql-client';

export interface UserRecord {
  username: string;
  passwordHash: string;
  roles: string[];
  /** Moves on whenever roles or password change; a token carries the version it was issued at (`tv`). */
  tokenVersion: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewUser {
  username: string;
  passwordHash: string;
  roles: string[];
}

/** What an update changes; absent members stay as they are. */
export interface UserChanges {
  passwordHash?: string;
  roles?: string[];
}

/**
 * Accounts. Not versioned: users are not part of the ontology. No change ever leaves zero admins: the
 * ones that could (delete, update, upsert) throw StateConflict ('Last admin') instead.
 */
export interface UserStore {
  find(username: string): Promise<UserRecord | null>;
  list(): Promise<UserRecord[]>;
  /** Throws AlreadyExists. */
  create(user: NewUser, options?: TransactionOptions): Promise<UserRecord>;
  /** Creates or replaces (password and roles, moving the token version on); returns whether it existed. */
  upsert(user: NewUser, options?: TransactionOptions): Promise<{ created: boolean }>;
  /** Creates only when missing, never resets; returns whether it created. */
  createIfMissing(user: NewUser, options?: TransactionOptions): Promise<boolean>;
  /**
   * Changes password and/or roles and moves the token version on; changing nothing (no password, the
   * same roles) leaves the record as it is. Null when the user does not exist.
   */
  update(username: string, changes: UserChanges, options?: TransactionOptions): Promise<UserRecord | null>;
  /** Returns whether the user existed. */
  delete(username: string, options?: TransactionOptions): Promise<boolean>;
}

export const USER_STORE = Symbol('UserStore');

interface UserRow {
  username: string;
  password_hash: string;
  roles: string[];
  token_version: number;
  created_at: Date;
  updated_at: Date;
}

const toUser = (r: UserRow): UserRecord => ({
  username: r.username,
  passwordHash: r.password_hash,
  roles: r.roles,
  tokenVersion: Number(r.token_version),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const isAdmin = (roles: readonly string[]) => roles.includes('admin');

const sameRoles = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((role) => b.includes(role));

const NEXT_TOKEN_VERSION = `nextval('user_token_versions')`;

export class SqlUserStore implements UserStore {
  constructor(private readonly db: SqlClient) {}

  async find(username: string): Promise<UserRecord | null> {
    const [row] = await this.db.query<UserRow>('SELECT * FROM users WHERE username = $1', [username]);
    return row ? toUser(row) : null;
  }

  async list(): Promise<UserRecord[]> {
    return (await this.db.query<UserRow>('SELECT * FROM users ORDER BY username')).map(toUser);
  }

  // Single statements run in a transaction too: the guard then knows whether COMMIT was sent (503 vs 504).
  async create(user: NewUser, options?: TransactionOptions): Promise<UserRecord> {
    const [row] = await this.inTransaction(options).query<UserRow>(
      `INSERT INTO users (username, password_hash, roles, token_version)
       VALUES ($1, $2, $3, ${NEXT_TOKEN_VERSION})
       ON CONFLICT (username) DO NOTHING RETURNING *`,
      [user.username, user.passwordHash, user.roles],
    );
    if (!row) throw new AlreadyExists('User', user.username);
    return toUser(row);
  }

  upsert(user: NewUser, options?: TransactionOptions): Promise<{ created: boolean }> {
    return this.changingAdmins(options, async (tx) => {
      const current = await this.locked(tx, user.username);
      if (current) await this.refuseLosingLastAdmin(tx, current, user.roles, 'demoted');
      const upserted = await tx.query<{ created: boolean }>(
        `INSERT INTO users (username, password_hash, roles, token_version)
         VALUES ($1, $2, $3, ${NEXT_TOKEN_VERSION})
         ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash, roles = EXCLUDED.roles,
           token_version = EXCLUDED.token_version, updated_at = now()
         RETURNING (xmax = 0) AS created`,
        [user.username, user.passwordHash, user.roles],
      );
      return { created: one(upserted, 'upserted user').created };
    });
  }

  async createIfMissing(user: NewUser, options?: TransactionOptions): Promise<boolean> {
    const rows = await this.inTransaction(options).query(
      `INSERT INTO users (username, password_hash, roles, token_version)
       VALUES ($1, $2, $3, ${NEXT_TOKEN_VERSION})
       ON CONFLICT (username) DO NOTHING RETURNING username`,
      [user.username, user.passwordHash, user.roles],
    );
    return rows.length === 1;
  }

  update(username: string, changes: UserChanges, options?: TransactionOptions): Promise<UserRecord | null> {
    return this.changingAdmins(options, async (tx) => {
      const current = await this.locked(tx, username);
      if (!current) return null;
      const roles = changes.roles ?? current.roles;
      if (changes.passwordHash === undefined && sameRoles(roles, current.roles)) return toUser(current);
      await this.refuseLosingLastAdmin(tx, current, roles, 'demoted');
      const updated = await tx.query<UserRow>(
        `UPDATE users SET roles = $2, password_hash = COALESCE($3, password_hash),
           token_version = ${NEXT_TOKEN_VERSION}, updated_at = now()
         WHERE username = $1 RETURNING *`,
        [username, roles, changes.passwordHash ?? null],
      );
      return toUser(one(updated, 'updated user'));
    });
  }

  delete(username: string, options?: TransactionOptions): Promise<boolean> {
    return this.changingAdmins(options, async (tx) => {
      const current = await this.locked(tx, username);
      if (!current) return false;
      await this.refuseLosingLastAdmin(tx, current, [], 'deleted');
      await tx.query('DELETE FROM users WHERE username = $1', [username]);
      return true;
    });
  }

  /** An executor that runs each query as its own transaction, with the caller's options. */
  private inTransaction(options: TransactionOptions | undefined): SqlExecutor {
    return { query: (text, params) => this.db.transaction((tx) => tx.query(text, params), options) };
  }

  /** The user's row, locked for this transaction (null when there is none). */
  private async locked(tx: SqlExecutor, username: string): Promise<UserRow | null> {
    const [row] = await tx.query<UserRow>('SELECT * FROM users WHERE username = $1 FOR UPDATE', [username]);
    return row ?? null;
  }

  /** One transaction that first waits for every other change that could remove an admin to finish. */
  private changingAdmins<T>(
    options: TransactionOptions | undefined,
    fn: (tx: SqlExecutor) => Promise<T>,
  ): Promise<T> {
    return this.db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(${ADVISORY_LOCKS.adminChanges})`);
      return fn(tx);
    }, options);
  }

  /** Under the lock: refuses to take the admin role from the only user who has it. */
  private async refuseLosingLastAdmin(
    tx: SqlExecutor,
    current: UserRow,
    rolesAfter: readonly string[],
    verb: 'deleted' | 'demoted',
  ): Promise<void> {
    if (!isAdmin(current.roles) || isAdmin(rolesAfter)) return;
    const { admins } = one(
      await tx.query<{ admins: number }>(
        `SELECT count(*)::int AS admins FROM users WHERE 'admin' = ANY(roles)`,
      ),
      'admin count',
    );
    if (admins <= 1) {
      throw new StateConflict('Last admin', `'${current.username}' is the last admin and cannot be ${verb}.`);
    }
  }
}
