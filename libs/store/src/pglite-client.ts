import { PGlite, Transaction } from '@electric-sql/pglite';
import { lockDataDirectory } from './data-dir-lock';
import { SqlClient, SqlExecutor } from './sql-client';

/** The in-memory data directory value, used by tests. */
export const IN_MEMORY = 'memory://';

/** Embedded PostgreSQL (PGlite) in a data directory; one process at a time (guarded by a pid lock). */
export class PgliteClient implements SqlClient {
  readonly kind = 'pglite';

  private constructor(
    private readonly db: PGlite,
    private readonly release: () => void,
  ) {}

  static async open(dataDir: string): Promise<PgliteClient> {
    if (dataDir === IN_MEMORY) return new PgliteClient(await PGlite.create(), () => undefined);
    const release = lockDataDirectory(dataDir);
    try {
      return new PgliteClient(await PGlite.create(dataDir), release);
    } catch (error) {
      release();
      throw error;
    }
  }

  async query<T>(text: string, params?: unknown[]): Promise<T[]> {
    return (await this.db.query<T>(text, params)).rows;
  }

  async exec(script: string): Promise<void> {
    await this.db.exec(script);
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.db.transaction((tx: Transaction) =>
      fn({ query: async <R>(text: string, params?: unknown[]) => (await tx.query<R>(text, params)).rows }),
    );
  }

  async close(): Promise<void> {
    try {
      if (!this.db.closed) await this.db.close();
    } finally {
      this.release();
    }
  }
}
