import { PGlite, Transaction } from '@electric-sql/pglite';
import { lockDataDirectory, restrictDataDirectory } from './data-dir-lock';
import { SqlClient, SqlTransaction, TransactionOptions, beforeCommit } from './sql-client';

/** The in-memory data directory value, used by tests. */
export const IN_MEMORY = 'memory://';

/** Embedded PostgreSQL (PGlite) in a data directory; one process at a time (guarded by a pid lock). */
export class PgliteClient implements SqlClient {
  readonly kind = 'pglite';

  private constructor(
    private readonly db: PGlite,
    private readonly release: () => void,
    private readonly dataDir?: string,
  ) {}

  static async open(dataDir: string): Promise<PgliteClient> {
    if (dataDir === IN_MEMORY) return new PgliteClient(await PGlite.create(), () => undefined);
    const release = lockDataDirectory(dataDir);
    try {
      const db = await PGlite.create(dataDir);
      restrictDataDirectory(dataDir);
      return new PgliteClient(db, release, dataDir);
    } catch (error) {
      release();
      throw error;
    }
  }

  async query<T>(text: string, params?: unknown[]): Promise<T[]> {
    return (await this.db.query<T>(text, params)).rows;
  }

  /** In process, nothing can be lost between fn's end and COMMIT: PGlite commits as fn resolves. */
  transaction<T>(fn: (tx: SqlTransaction) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    return this.db.transaction(async (tx: Transaction) => {
      const result = await fn({
        query: async <R>(text: string, params?: unknown[]) => (await tx.query<R>(text, params)).rows,
        exec: async (sql: string) => void (await tx.exec(sql)),
      });
      beforeCommit(options);
      return result;
    });
  }

  /** In process: nothing is lost, so `resumed` is never needed. */
  async listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>> {
    const stop = await this.db.listen(channel, onMessage);
    return async () => {
      if (!this.db.closed) await stop();
    };
  }

  async close(): Promise<void> {
    try {
      if (!this.db.closed) await this.db.close();
      if (this.dataDir) restrictDataDirectory(this.dataDir);
    } finally {
      this.release();
    }
  }
}
