import { AlreadyExists } from '@oms/common';
import { SqlExecutor } from './sql-client';

export interface UserRecord {
  username: string;
  passwordHash: string;
  roles: string[];
  createdAt: Date;
  updatedAt: Date;
}

export interface NewUser {
  username: string;
  passwordHash: string;
  roles: string[];
}

/** Accounts. Not versioned: users are not part of the ontology. */
export interface UserStore {
  find(username: string): Promise<UserRecord | null>;
  list(): Promise<UserRecord[]>;
  /** Throws AlreadyExists. */
  create(user: NewUser): Promise<UserRecord>;
  /** Creates or replaces (password and roles); returns whether it existed. */
  upsert(user: NewUser): Promise<{ created: boolean }>;
  /** Creates only when missing, never resets; returns whether it created. */
  createIfMissing(user: NewUser): Promise<boolean>;
  /** Returns whether the user existed. */
  delete(username: string): Promise<boolean>;
}

export const USER_STORE = Symbol('UserStore');

interface UserRow {
  username: string;
  password_hash: string;
  roles: string[];
  created_at: Date;
  updated_at: Date;
}

const toUser = (r: UserRow): UserRecord => ({
  username: r.username,
  passwordHash: r.password_hash,
  roles: r.roles,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export class SqlUserStore implements UserStore {
  constructor(private readonly db: SqlExecutor) {}

  async find(username: string): Promise<UserRecord | null> {
    const [row] = await this.db.query<UserRow>('SELECT * FROM users WHERE username = $1', [username]);
    return row ? toUser(row) : null;
  }

  async list(): Promise<UserRecord[]> {
    return (await this.db.query<UserRow>('SELECT * FROM users ORDER BY username')).map(toUser);
  }

  async create(user: NewUser): Promise<UserRecord> {
    const [row] = await this.db.query<UserRow>(
      `INSERT INTO users (username, password_hash, roles) VALUES ($1, $2, $3)
       ON CONFLICT (username) DO NOTHING RETURNING *`,
      [user.username, user.passwordHash, user.roles],
    );
    if (!row) throw new AlreadyExists('User', user.username);
    return toUser(row);
  }

  async upsert(user: NewUser): Promise<{ created: boolean }> {
    const [row] = await this.db.query<{ created: boolean }>(
      `INSERT INTO users (username, password_hash, roles) VALUES ($1, $2, $3)
       ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash, roles = EXCLUDED.roles,
         updated_at = now()
       RETURNING (xmax = 0) AS created`,
      [user.username, user.passwordHash, user.roles],
    );
    return { created: row.created };
  }

  async createIfMissing(user: NewUser): Promise<boolean> {
    const rows = await this.db.query(
      `INSERT INTO users (username, password_hash, roles) VALUES ($1, $2, $3)
       ON CONFLICT (username) DO NOTHING RETURNING username`,
      [user.username, user.passwordHash, user.roles],
    );
    return rows.length === 1;
  }

  async delete(username: string): Promise<boolean> {
    return (
      (await this.db.query('DELETE FROM users WHERE username = $1 RETURNING username', [username])).length ===
      1
    );
  }
}
